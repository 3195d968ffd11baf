"""What the generator's data looks like from outside: rows per table and the last run (summary), and
emptying it all (reset)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from salesmcp.services.generator.runs import RunOut, active_run, busy, latest_run, run_out
from salesmcp.store import maintenance
from salesmcp.store.maintenance import DATA_TABLES
from salesmcp.store.schema import generation_runs, metadata
from salesmcp.store.sql_store import SqlStore


class Summary(BaseModel):
    counts: dict[str, int] = Field(description="rows per table")
    last_window: dict[str, dt.date] | None = Field(description="start_date and end_date of the last finished run")
    last_run: RunOut | None = Field(description="the newest run, whatever its state")


def table_counts(store: SqlStore) -> dict[str, int]:
    tables = {table.name: table for table in metadata.sorted_tables}
    with store.reading() as connection:
        return {name: int(connection.execute(select(func.count()).select_from(tables[name])).scalar_one())
                for name in (*DATA_TABLES, "generation_runs")}  # fmt: skip


def summary(store: SqlStore) -> Summary:
    counts = table_counts(store)
    with store.reading() as connection:
        last = latest_run(connection)
        done = connection.execute(
            select(generation_runs.c.start_date, generation_runs.c.end_date)
            .where(generation_runs.c.status == "done").order_by(generation_runs.c.id.desc()).limit(1)
        ).first()  # fmt: skip
    window = {"start_date": done.start_date, "end_date": done.end_date} if done else None
    return Summary(counts=counts, last_window=window, last_run=run_out(last) if last else None)


def reset(store: SqlStore) -> dict[str, int]:
    """Empty every table in foreign-key-safe order and restart the id sequences; the schema stays.

    Refused (Conflict) while a generation is running. Returns the counts after the reset.
    """
    with store.transaction() as connection:
        running = active_run(connection)
        if running is not None:
            raise busy(running)
    maintenance.empty_tables(store)
    maintenance.create_order_indexes(store)  # a run that stopped while they were deferred left them out
    return table_counts(store)
