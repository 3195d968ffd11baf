"""Exports of the database to files, streamed: memory stays flat whatever the size of the data.

- ``seed000``: seed 000's ``customers.csv`` (custid,custname,city) and ``sales.csv``
  (ordid,custid,orddate,ordamount: every order that is not CANCELLED, as revenue counts them),
  which ``cust_server.py --customers-csv`` and ``sales_server.py --sales-csv`` serve.
- ``csv``: seed 002's seven tables, a header row each, ISO dates and timestamps, money as exact
  decimals, NULL as an empty field.
- ``parquet``: the same tables with typed columns (int64, decimal128(14, 2), date32, timestamp),
  through the optional extra ``salesmcp[parquet]`` (pyarrow, imported only here and only then).

Rows come from server-side cursors a batch at a time and are written as they arrive (Parquet:
gathered into row groups). All files are read in one snapshot transaction, so they agree with
each other even while a generation is writing; each is written to a hidden ``.part`` file in the
target folder and renamed into place only once every file is complete, so a failed or
interrupted export leaves no half-written file behind.
"""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Integer,
    Numeric,
    Select,
    String,
    Table,
    func,
    select,
)

from salesmcp.errors import InvalidInput
from salesmcp.models import compact_date
from salesmcp.store.database import database_errors
from salesmcp.store.maintenance import DATA_TABLES
from salesmcp.store.schema import counted_orders, customers, metadata, orders
from salesmcp.store.sql_store import SqlStore

FORMATS = ("seed000", "csv", "parquet")
TABLES: dict[str, Table] = {name: metadata.tables[name] for name in DATA_TABLES}
DEFAULT_BATCH_SIZE = 10_000  # rows fetched and written at a time
ROW_GROUP_ROWS = 100_000  # Parquet rows per row group: large enough for readers, a few MB in memory
PARQUET_INSTALL = 'pip install "salesmcp[parquet]"'

Progress = Callable[[str, int, int], None]
"""Called as (file name, rows written so far, rows the file will hold): once at its start, then per batch."""


@dataclass(frozen=True)
class ExportedFile:
    """One file an export wrote: what it holds (a table, or seed 000's customers/sales), where, how many rows."""

    name: str
    path: Path
    rows: int


@dataclass(frozen=True)
class _Plan:
    """One file to write: its query, its CSV header and the text form of each column (None: as is)."""

    name: str
    filename: str
    query: Select
    count: Select
    header: tuple[str, ...]
    formats: tuple[Callable[[Any], str] | None, ...]
    table: Table | None = None  # the table behind a Parquet file, for its column types


def export_database(
    store: SqlStore,
    fmt: str,
    out_dir: Path | str,
    tables: Sequence[str] | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> list[ExportedFile]:
    """Write the database to ``out_dir`` as ``fmt`` (see the module docstring); the files written.

    ``tables`` chooses some of the seven tables for ``csv`` and ``parquet`` (default: all of them).
    Bad parameters and a folder that cannot be written raise InvalidInput naming the parameter.
    """
    if fmt not in FORMATS:
        raise InvalidInput("format", f"must be one of {', '.join(FORMATS)}; got {fmt!r}")
    if batch_size < 1:
        raise InvalidInput("batch_size", f"must be at least 1; got {batch_size}")
    chosen = _chosen_tables(fmt, tables)  # seed000: checks that none were asked for
    write = _write_csv
    if fmt == "parquet":
        _pyarrow()  # missing: say how to install it before anything is read or written
        write = _write_parquet
    plans = _seed000_plans() if fmt == "seed000" else [_table_plan(TABLES[name], fmt) for name in chosen]
    out = _writable_folder(Path(out_dir), [plan.filename for plan in plans])

    parts: list[Path] = []
    written: list[ExportedFile] = []
    try:
        with _snapshot(store) as connection:
            for plan in plans:
                part = out / f".{plan.filename}.{uuid.uuid4().hex[:12]}.part"
                parts.append(part)
                total = connection.execute(plan.count).scalar_one()
                report = _reporter(progress, plan.filename, total)
                report(0)
                query = plan.query.execution_options(stream_results=True, yield_per=batch_size)
                rows = write(connection.execute(query).partitions(), plan, part, report)
                written.append(ExportedFile(plan.name, out / plan.filename, rows))
        for part, exported in zip(parts, written, strict=True):
            os.replace(part, exported.path)
    except BaseException as exc:
        for part in parts:
            part.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InvalidInput("out", f"cannot write in {out}: {exc.strerror or exc}") from None
        raise
    return written


def _chosen_tables(fmt: str, tables: Sequence[str] | None) -> list[str]:
    """The tables asked for, in the schema's order; every name checked."""
    if not tables:
        return list(TABLES)
    if fmt == "seed000":
        raise InvalidInput(
            "table", "seed000 always writes customers.csv and sales.csv; choosing tables is for csv and parquet"
        )
    unknown = [name for name in tables if name not in TABLES]
    if unknown:
        raise InvalidInput("table", f"unknown table {unknown[0]!r}; the tables are {', '.join(TABLES)}")
    return [name for name in TABLES if name in tables]


def _writable_folder(out_dir: Path, filenames: Iterable[str]) -> Path:
    """``out_dir``, created if needed, checked before anything is read from the database."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput("out", f"cannot create the folder {out_dir}: {exc.strerror or exc}") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise InvalidInput("out", f"the folder {out_dir} is not writable")
    for filename in filenames:
        if (out_dir / filename).is_dir():
            raise InvalidInput("out", f"{out_dir / filename} is a folder; cannot write the file {filename} there")
    return out_dir


@contextmanager
def _snapshot(store: SqlStore) -> Iterator[Connection]:
    """One read transaction for the whole export, so that its files describe one moment."""
    with database_errors(store.engine), store.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # pysqlite opens no transaction for reads; in WAL mode BEGIN gives a snapshot writers do not disturb.
            driver = connection.connection.driver_connection  # the sqlite3 connection
            if driver is not None and not driver.in_transaction:
                connection.exec_driver_sql("BEGIN")
        else:
            connection.execution_options(isolation_level="REPEATABLE READ")
        yield connection


def _reporter(progress: Progress | None, filename: str, total: int) -> Callable[[int], None]:
    if progress is None:
        return lambda rows: None
    return lambda rows: progress(filename, rows, total)


# -- what to write ----------------------------------------------------------------------------------


def _seed000_plans() -> list[_Plan]:
    counted = counted_orders()  # the sales revenue counts, as the SQL store counts them
    amount = _decimal_text(2)
    yyyymmdd = lru_cache(maxsize=8192)(compact_date)  # a million sales fall on a few hundred days
    return [
        _Plan(
            name="customers",
            filename="customers.csv",
            query=select(customers.c.custid, customers.c.name, customers.c.city).order_by(customers.c.id),
            count=select(func.count()).select_from(customers),
            header=("custid", "custname", "city"),
            formats=(None, None, None),
        ),
        _Plan(
            # The sales API sorts on loading: the primary key's order is the cheapest to read.
            name="sales",
            filename="sales.csv",
            query=select(orders.c.id, customers.c.custid, orders.c.order_date, orders.c.total)
            .join(customers, customers.c.id == orders.c.customer_id)
            .where(counted)
            .order_by(orders.c.id),
            count=select(func.count()).select_from(orders).where(counted),
            header=("ordid", "custid", "orddate", "ordamount"),
            formats=(None, None, yyyymmdd, amount),
        ),
    ]


def _table_plan(table: Table, extension: str) -> _Plan:
    columns = list(table.columns)
    return _Plan(
        name=table.name,
        filename=f"{table.name}.{extension}",
        query=select(*columns).order_by(*table.primary_key.columns),
        count=select(func.count()).select_from(table),
        header=tuple(column.name for column in columns),
        formats=tuple(_csv_text(column) for column in columns),
        table=table,
    )


def _decimal_text(scale: int) -> Callable[[Any], str]:
    return lambda value: f"{value:.{scale}f}"


def _csv_text(column: Column) -> Callable[[Any], str] | None:
    """How a column's values are written in CSV: exact decimals, ISO dates and timestamps, true/false."""
    kind = column.type
    if isinstance(kind, Boolean):
        return lambda value: "true" if value else "false"
    if isinstance(kind, Numeric) and kind.scale is not None:
        return _decimal_text(kind.scale)
    if isinstance(kind, (Date, DateTime)):
        return lambda value: value.isoformat()
    return None


# -- writers ----------------------------------------------------------------------------------------

Batches = Iterable[Sequence[Sequence[Any]]]


def _write_csv(batches: Batches, plan: _Plan, part: Path, report: Callable[[int], None]) -> int:
    converted = [(i, text) for i, text in enumerate(plan.formats) if text is not None]
    rows = 0
    with part.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(plan.header)
        for batch in batches:
            if converted:
                columns: list[Sequence[Any]] = list(zip(*batch, strict=True))
                for i, text in converted:
                    columns[i] = [None if value is None else text(value) for value in columns[i]]
                batch = list(zip(*columns, strict=True))
            writer.writerows(batch)  # None is written as an empty field
            rows += len(batch)
            report(rows)
    return rows


def _pyarrow() -> tuple[Any, Any]:
    """pyarrow and pyarrow.parquet, or InvalidInput saying how to install them."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise InvalidInput(
            "format", f"parquet needs pyarrow, which is not installed; install it with: {PARQUET_INSTALL}"
        ) from None
    return pyarrow, pyarrow.parquet


def arrow_schema(pa: Any, table: Table) -> Any:
    def arrow_type(column: Column) -> Any:
        kind = column.type
        if isinstance(kind, Boolean):
            return pa.bool_()
        if isinstance(kind, Integer):
            return pa.int64()
        if isinstance(kind, Numeric):
            return pa.decimal128(kind.precision or 38, kind.scale or 0)
        if isinstance(kind, DateTime):
            return pa.timestamp("us")  # naive, as stored (UTC)
        if isinstance(kind, Date):
            return pa.date32()
        if isinstance(kind, String):
            return pa.string()
        raise TypeError(f"no Parquet type for {table.name}.{column.name} ({kind})")

    return pa.schema([pa.field(c.name, arrow_type(c), nullable=bool(c.nullable)) for c in table.columns])


def parquet_options(pa: Any, schema: Any) -> dict[str, Any]:
    """How every Parquet file of ours is written: dictionary encoding for the text columns only (ids, amounts
    and times are nearly all distinct; their dictionaries cost time and bytes: 40% less time, 7% fewer bytes)."""
    return {"use_dictionary": [field.name for field in schema if pa.types.is_string(field.type)]}


def _write_parquet(batches: Batches, plan: _Plan, part: Path, report: Callable[[int], None]) -> int:
    pa, pq = _pyarrow()
    assert plan.table is not None
    schema = arrow_schema(pa, plan.table)
    pending: list[Any] = []
    pending_rows = rows = 0
    with pq.ParquetWriter(str(part), schema, **parquet_options(pa, schema)) as writer:
        for batch in batches:
            arrays = [
                pa.array(values, type=field.type)
                for values, field in zip(zip(*batch, strict=True), schema, strict=True)
            ]
            pending.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
            pending_rows += len(batch)
            rows += len(batch)
            if pending_rows >= ROW_GROUP_ROWS:
                writer.write_table(pa.Table.from_batches(pending, schema), row_group_size=ROW_GROUP_ROWS)
                pending, pending_rows = [], 0
            report(rows)
        if pending:
            writer.write_table(pa.Table.from_batches(pending, schema), row_group_size=ROW_GROUP_ROWS)
    return rows
