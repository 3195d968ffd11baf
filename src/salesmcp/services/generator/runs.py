"""Generation runs: the rows of ``generation_runs`` that let any process start, follow or resume a job.

A run is created once per request (its fingerprint is the ``run_key`` in mode once/replace), with
the id bases it will write above. Workers bump ``progress`` in the same transaction as the orders
they write, and ``heartbeat_at`` with it, so the row always says how far the data really got and
whether anyone is still working on it.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, Row, false, func, select, text, update

from salesmcp.errors import Conflict, NotFound
from salesmcp.models import plain_schema
from salesmcp.services.generator.make import Bases, Plan
from salesmcp.services.generator.params import GenerationRequest
from salesmcp.store.database import database_errors
from salesmcp.store.schema import generation_runs as runs
from salesmcp.store.schema import metadata
from salesmcp.store.sql_store import SqlStore, utcnow

ACTIVE = ("queued", "running", "finishing")
STALE_AFTER = dt.timedelta(seconds=30)
LOCK_NAME = "salesmcp.generation"

# A row of generation_runs, as select(generation_runs) returns it: its columns are its attributes.
RunRow = Row[Any]
State = Literal["queued", "running", "finishing", "done", "failed", "interrupted"]
STATES_DOC = (
    "queued, running, finishing, done, failed, or interrupted (its worker process is gone, or has not reported "
    "for 30 s: nobody is working on it; repeating the request resumes it without duplicates)"
)


class RunOut(BaseModel):
    """A generation run as every surface shows it."""

    model_config = ConfigDict(json_schema_extra=lambda schema: schema.update(plain_schema(schema)))

    id: int
    state: State = Field(description=STATES_DOC)
    rows: int = Field(description="orders asked for")
    progress: int = Field(description="orders written so far")
    seed: int | None
    start_date: dt.date | None
    end_date: dt.date | None
    locale: str | None
    mode: str | None
    counts: dict[str, int] | None = Field(description="rows made per table, once done")
    flaws: dict[str, int] | None = Field(
        None, description="defects made on purpose per kind (the flaws parameter): null when the data is clean"
    )
    error: str | None = Field(description="why it failed or was interrupted")
    started_at: dt.datetime
    finished_at: dt.datetime | None

    @field_validator("started_at", "finished_at")
    @classmethod
    def _utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        """Stored as naive UTC; shown with the zone, as customers' timestamps are."""
        return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


def this_worker() -> str:
    """``host:pid`` of this process, as a run records who works on it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _worker_gone(worker: str | None) -> bool:
    """True when the run's worker was a process on this machine that no longer exists."""
    host, _, pid = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's (or nobody's): only the heartbeat can tell
    import psutil

    try:  # a killed worker the server has not reaped yet is a zombie: gone all the same
        return psutil.Process(int(pid)).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False  # not ours to look at: only the heartbeat can tell


def _interruption(row: RunRow, now: dt.datetime) -> str | None:
    """Why nobody works on an active run any more (None: someone does, or it is not active).

    A worker on this machine is known to be gone once its process is; one elsewhere is taken to be
    gone once it has not reported for STALE_AFTER (a batch, or a step of finishing, takes far less).
    """
    if row.status not in ACTIVE:
        return None
    if row.status != "queued" and _worker_gone(row.worker):
        return f"its worker process ({row.worker}) is gone"
    beat = row.heartbeat_at or row.started_at
    if beat is not None and now - beat > STALE_AFTER:
        who = f"its worker ({row.worker})" if row.worker else "no worker"
        return f"{who} has not reported for {int((now - beat).total_seconds())} s"
    return None


def state_of(row: RunRow, now: dt.datetime) -> str:
    """The stored status, or 'interrupted' for an active run that nobody works on any more."""
    return "interrupted" if _interruption(row, now) else row.status


def is_interrupted(row: RunRow) -> bool:
    return state_of(row, utcnow()) == "interrupted"


def run_out(row: RunRow, now: dt.datetime | None = None) -> RunOut:
    why = _interruption(row, now or utcnow())
    error = f"interrupted: {why}; repeat the request to resume it" if why else row.error
    return RunOut(
        id=row.id, state="interrupted" if why else row.status, rows=row.rows_requested, progress=row.progress,
        seed=row.seed, start_date=row.start_date, end_date=row.end_date, locale=row.locale, mode=row.mode,
        counts=row.counts, flaws=row.flaws, error=error, started_at=row.started_at, finished_at=row.finished_at,
    )  # fmt: skip


def fetch_run(connection: Connection, run_id: int) -> RunRow:
    row = connection.execute(select(runs).where(runs.c.id == run_id)).first()
    if row is None:
        raise NotFound(f"generation run {run_id} does not exist", field="run_id")
    return row


def get_run(store: SqlStore, run_id: int) -> RunOut:
    with store.reading() as connection:
        return run_out(fetch_run(connection, run_id))


def latest_run(connection: Connection) -> RunRow | None:
    return connection.execute(select(runs).order_by(runs.c.id.desc()).limit(1)).first()


def active_run(connection: Connection) -> RunRow | None:
    """The run some process is working on now (queued, running or finishing, and not interrupted)."""
    now = utcnow()
    for row in connection.execute(select(runs).where(runs.c.status.in_(ACTIVE)).order_by(runs.c.id)):
        if state_of(row, now) != "interrupted":
            return row
    return None


def busy(row: RunRow) -> Conflict:
    return Conflict(
        f"generation run {row.id} is {row.status} ({row.progress} of {row.rows_requested} orders); "
        f"one generation at a time: follow it at /generate/{row.id}",
        field="run_id",
    )


def request_of(row: RunRow) -> GenerationRequest:
    params = dict(row.params)
    return GenerationRequest(**{k: v for k, v in params.items() if k in GenerationRequest.model_fields})


def plan_of(row: RunRow) -> Plan:
    return Plan(request_of(row), Bases(**{k: int(v) for k, v in row.bases.items()}))


def current_bases(connection: Connection) -> Bases:
    tables = {table.name: table for table in metadata.sorted_tables}
    return Bases(**{name: int(connection.execute(select(func.max(tables[name].c.id))).scalar() or 0)
                    for name in Bases.__dataclass_fields__})  # fmt: skip


@contextmanager
def starting(store: SqlStore) -> Iterator[Connection]:
    """A transaction that no other process starting a run can interleave with (a database-wide lock).

    PostgreSQL: an advisory lock held to the commit. MySQL/MariaDB: a named lock released after the
    commit. SQLite: a first (empty) write, which takes the database's write lock until the commit.
    """
    with database_errors(store.engine), store.engine.connect() as connection:
        dialect = connection.dialect.name
        if dialect == "mysql" and connection.execute(text(f"SELECT GET_LOCK('{LOCK_NAME}', 30)")).scalar() != 1:
            raise Conflict("another generation is being started at this moment; try again", field="run_id")
        try:
            if dialect == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": LOCK_NAME})
            elif dialect == "sqlite":
                connection.execute(runs.delete().where(false()))
            yield connection
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            if dialect == "mysql":
                connection.execute(text(f"SELECT RELEASE_LOCK('{LOCK_NAME}')"))
                connection.commit()


def set_status(connection: Connection, run_id: int, status: str, **values: object) -> None:
    connection.execute(update(runs).where(runs.c.id == run_id).values(status=status, heartbeat_at=utcnow(), **values))


def add_progress(connection: Connection, run_id: int, orders: int) -> None:
    connection.execute(
        update(runs).where(runs.c.id == run_id).values(progress=runs.c.progress + orders, heartbeat_at=utcnow())
    )


def claim(connection: Connection, run_id: int, from_status: tuple[str, ...], to_status: str, **where: object) -> bool:
    """Move a run from one of ``from_status`` to ``to_status``; True for the one process that did it."""
    query = update(runs).where(runs.c.id == run_id, runs.c.status.in_(from_status))
    for column, value in where.items():
        query = query.where(runs.c[column] >= value)
    return connection.execute(query.values(status=to_status, heartbeat_at=utcnow())).rowcount == 1


def claim_run(store: SqlStore, run_id: int) -> None:
    """Record this process as the run's worker (the parent of ``--workers`` partitions does)."""
    with store.transaction() as connection:
        set_status(connection, run_id, "running", worker=this_worker())
