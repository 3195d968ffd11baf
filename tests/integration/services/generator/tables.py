"""Helpers for the generator's tests: scratch stores, one generation in process, and table digests.

A digest is computed from the rows read back from the database, normalised so that every database
gives the same text for the same data: money as integer cents, dates as ISO dates, timestamps as
ISO to the second, booleans as 0/1.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Numeric, select

from salesmcp.services import generator
from salesmcp.services.generator import RunOut
from salesmcp.store.database import open_engine
from salesmcp.store.schema import customers, order_items, orders, payments, products, returns, shipments
from salesmcp.store.sql_store import SqlStore

DATA_TABLES = (customers, products, orders, order_items, payments, shipments, returns)
MAX_ROWS = 10_000_000
DEFAULT_SEED = 42
PROCESS_TIMEOUT = 120.0


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.as_posix()}"


@contextmanager
def scratch_store(url: str) -> Iterator[SqlStore]:
    """The database at ``url``, migrated (no demo data in a new one) and emptied by the generator's reset."""
    store = SqlStore(open_engine(url, seed=False))
    try:
        generator.reset(store)
        yield store
    finally:
        store.engine.dispose()


def generate(store: SqlStore, batch_size: int = 1000, **values: Any) -> RunOut:
    """One generation in this process, as ``salesmcp generate`` does it: find or create the run, then do it."""
    request = generator.build_request(values, DEFAULT_SEED, MAX_ROWS)
    run, todo = generator.prepare_run(store, request)
    if not todo:
        return run
    return generator.run_generation(store, run.id, batch_size)


def _cents(value: Any) -> int:
    cents = Decimal(value) * 100 if isinstance(value, Decimal) else Decimal(str(value)) * 100
    whole = int(cents)
    if whole != cents:
        raise AssertionError(f"{value!r} is not a whole number of cents")
    return whole


def _second(value: dt.datetime) -> str:
    return value.isoformat(sep=" ", timespec="seconds")


def _date(value: dt.date) -> str:
    return value.isoformat()


def _flag(value: Any) -> int:
    return int(bool(value))


def _converter(column) -> Callable[[Any], Any] | None:
    """How a column's values are normalised (None: kept as they are: ints and strings)."""
    for kind, convert in ((Numeric, _cents), (DateTime, _second), (Date, _date), (Boolean, _flag)):
        if isinstance(column.type, kind):
            return convert
    return None


def read_tables(store: SqlStore) -> dict[str, list[dict[str, Any]]]:
    """Every row of every data table in id order, normalised (the form digests are computed from)."""
    tables = {}
    for table in DATA_TABLES:
        names = [column.name for column in table.columns]
        converters = [_converter(column) for column in table.columns]
        with store.reading() as connection:
            rows = connection.execute(select(table).order_by(table.c.id)).all()
        tables[table.name] = [
            {name: value if convert is None or value is None else convert(value)
             for name, convert, value in zip(names, converters, row, strict=True)}
            for row in rows
        ]  # fmt: skip
    return tables


def table_digests(source: SqlStore | dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """``rows:sha256`` per data table over its normalised rows (read now from a store, or given):
    equal digests, equal data, ids included."""
    tables = read_tables(source) if isinstance(source, SqlStore) else source
    digests = {}
    for name, rows in tables.items():
        text = json.dumps([list(row.values()) for row in rows], ensure_ascii=False, separators=(",", ":"))
        digests[name] = f"{len(rows)}:{hashlib.sha256(text.encode()).hexdigest()}"
    return digests


def salesmcp(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``python -m salesmcp <args>`` as a real process (in ``cwd``, away from the project's .env; ``env`` added
    to this process's environment)."""
    return subprocess.Popen(
        [sys.executable, "-m", "salesmcp", *args], cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env={**os.environ, **env} if env else None,
    )  # fmt: skip


def finished(process: subprocess.Popen, timeout: float = PROCESS_TIMEOUT) -> tuple[str, str]:
    """Its output once it ends (killed, and the test failed, if it outlasts ``timeout``); exit code 0 expected."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError(f"{process.args} did not end within {timeout} s") from None
    assert process.returncode == 0, f"{process.args} exited with {process.returncode}:\n{err}"
    return out, err
