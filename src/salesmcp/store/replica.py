"""A columnar copy of the sales tables in DuckDB, kept in step with the database: the metrics layer's engine.

Row stores need seconds for a group-by over millions of order lines; DuckDB answers the same from its own
columnar tables in a fraction of that. The copy holds only the columns the metric catalogue reads, under the
same table and column names, so the catalogue's SQLAlchemy statements run on it unchanged (dialect "duckdb").

Kept in step, checked before every answer:

1. **A change signal** that any committed write to the database moves, read in about a millisecond: the
   SQLite file's and its WAL's size and modification time; PostgreSQL's WAL insert position; MariaDB/MySQL's
   InnoDB log sequence number. Unchanged: the copy is exact as of now.
2. Moved: **a sync** in one DuckDB transaction. Customers and products (small) are copied whole; orders,
   lines, payments and shipments, which salesmcp only ever appends to (a generation run) or empties (a reset),
   gain the rows past the copy's largest id, after a check that the counts add up. Anything else — rows
   removed, a reset, a run writing its blocks out of order — rebuilds the copy (in the background on large
   databases, the database itself answering meanwhile).

Readers never wait for a rebuild and never see a half-made copy (DuckDB's transactions). Memory is bounded by
DuckDB's ``memory_limit`` (ANALYTICS_MEMORY); larger work spills to a temporary folder beside the file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.util
import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy
from sqlalchemy import BigInteger, Column, Connection, Engine, MetaData, Table, create_engine, select
from sqlalchemy.engine import URL, make_url

from salesmcp.store.schema import generation_runs, order_items, orders, payments, returns, shipments

log = logging.getLogger(__name__)

# The columns the catalogue reads, with their DuckDB types (money exact, to the cent), in the order they are copied.
COLUMNS: dict[str, dict[str, str]] = {
    "customers": {"id": "BIGINT", "custid": "VARCHAR", "name": "VARCHAR", "city": "VARCHAR", "country": "VARCHAR"},
    "products": {"id": "BIGINT", "sku": "VARCHAR", "name": "VARCHAR", "category": "VARCHAR"},
    "payments": {"id": "BIGINT", "order_id": "BIGINT", "method": "VARCHAR"},
    "shipments": {"id": "BIGINT", "order_id": "BIGINT", "carrier": "VARCHAR", "delivered_at": "TIMESTAMP"},
    "returns": {"id": "BIGINT", "order_id": "BIGINT", "order_item_id": "BIGINT", "quantity": "INTEGER",
                "refund": "DECIMAL(18,2)", "refunded_at": "TIMESTAMP"},
    "orders": {"id": "BIGINT", "customer_id": "BIGINT", "order_date": "DATE", "status": "VARCHAR",
               "total": "DECIMAL(18,2)"},
    "order_items": {"id": "BIGINT", "order_id": "BIGINT", "product_id": "BIGINT", "quantity": "INTEGER",
                    "line_total": "DECIMAL(18,2)"},
}  # fmt: skip
# The copy is laid out for the questions: an order carries its payment's method, its shipment's carrier and
# delivery time and what it has been refunded (cents); an order line its order's customer, date and status too,
# and its return's quantity, refund and refund time, so no question joins two big tables. (salesmcp makes at most
# one payment and one shipment per order, and one return per line; a database with more is answered by itself.)
ORDER_EXTRA = ("method", "carrier", "delivered_at")
LINE_EXTRA = ("customer_id", "order_date", "status", *ORDER_EXTRA)
LINE_RETURN = {"returned_quantity": "quantity", "refund": "refund", "refunded_at": "refunded_at"}  # copy: returns

copy_metadata = MetaData()
copy_orders = Table(
    "orders", copy_metadata,
    *(Column(name, orders.c[name].type) for name in COLUMNS["orders"]),
    Column("method", payments.c.method.type), Column("carrier", shipments.c.carrier.type),
    Column("delivered_at", shipments.c.delivered_at.type), Column("refund_cents", BigInteger),
)  # fmt: skip
copy_lines = Table(
    "order_items", copy_metadata,
    *(Column(name, order_items.c[name].type) for name in COLUMNS["order_items"]),
    *(Column(name, copy_orders.c[name].type) for name in LINE_EXTRA),
    *(Column(name, returns.c[column].type) for name, column in LINE_RETURN.items()),
)  # fmt: skip
copy_first_orders = Table(  # each customer's first counted order (by date, then id)
    "first_orders",
    copy_metadata,
    Column("customer_id", orders.c.customer_id.type),
    Column("order_id", orders.c.id.type),
)
WHOLE = ("customers", "products")  # copied whole at every sync
APPENDED = (
    "orders",
    "order_items",
    "payments",
    "shipments",
    "returns",
)  # salesmcp only appends to these (or empties them)
EXTENSIONS = {"postgresql": "postgres_scanner", "mysql": "mysql_scanner"}  # SQLite: see _stage_sqlite
LAYOUT = 3  # the copy's tables as this version lays them out: a copy made by another version is made again
INLINE_BUILD_ORDERS = 200_000  # a database up to this many orders is copied while the question waits
STAGING_CHUNK = 100_000  # rows read from a SQLite file at a time
# Columns that are never NULL in the schema travel as typed arrays (DuckDB reads those at memory speed); the
# others (text, dates, times) as Python objects, cast by DuckDB.
_NUMPY: dict[str, type] = {"BIGINT": numpy.int64, "INTEGER": numpy.int64, "DECIMAL(18,2)": numpy.float64}


@dataclass(frozen=True)
class Reading:
    """Where an answer is read: a connection, its SQL dialect, and what ``as_of`` says about it."""

    connection: Connection
    dialect: str
    engine: str  # "duckdb" (the copy) or the database's own dialect
    synced_at: dt.datetime | None = None
    note: str | None = None


def extension_directory() -> Path | None:
    """Where the duckdb-ext-* packages put DuckDB's scanner extensions (DuckDB's own repository is not
    reachable offline, so nothing is downloaded)."""
    spec = importlib.util.find_spec("duckdb_ext")  # a folder of files, no code
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        if (Path(folder) / "extensions").is_dir():
            return Path(folder) / "extensions"
    return None


def attach_statements(url: URL, name: str = "src") -> list[str]:
    """The DuckDB statements that attach the database at ``url``, read-only, as ``name``: a file path for
    SQLite; for the servers a temporary secret (SQL literals: any password is quoted right), then ATTACH."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return [f"ATTACH {_sql_text(str(Path(url.database or '').resolve()))} AS {name} (TYPE sqlite, READ_ONLY)"]
    kind = "postgres" if backend == "postgresql" else "mysql"
    host = url.query.get("host") or url.host or "localhost"
    values: dict[str, str | int | None] = {
        "HOST": host if isinstance(host, str) else host[0],
        "PORT": url.port,
        "USER": url.username,
        "PASSWORD": url.password if url.password is not None else "",
        "DATABASE": url.database,
    }
    given = ", ".join(
        f"{key} {value if isinstance(value, int) else _sql_text(value)}" for key, value in values.items()
        if value is not None
    )  # fmt: skip
    return [
        f"CREATE OR REPLACE TEMPORARY SECRET {name}_secret (TYPE {kind}, {given})",
        f"ATTACH '' AS {name} (TYPE {kind}, SECRET {name}_secret, READ_ONLY)",
    ]


def replica_path(folder: Path, url: URL) -> Path:
    """One copy per database: the file is named by the URL (without its password)."""
    key = url.render_as_string(hide_password=True)
    return folder / f"salesmcp-{hashlib.sha256(key.encode()).hexdigest()[:16]}.duckdb"


def supported(url: URL) -> bool:
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        return bool(database) and database != ":memory:" and not database.startswith("file:")
    return backend in EXTENSIONS


class Replica:
    """The DuckDB copy of one database, and the rules that keep it in step (see the module's text)."""

    def __init__(self, source: Engine, folder: Path, memory_limit: str = "1GB") -> None:
        self.source = source
        self.url = source.url
        self.backend = self.url.get_backend_name()
        self.memory_limit = memory_limit
        self.folder = folder
        self.path = replica_path(folder, self.url)
        self.engine: Engine | None = None
        self.broken: str | None = None  # why the copy cannot be used (the database answers)
        self.synced_signal: object = None
        self.synced_at: dt.datetime | None = None
        self._lock = threading.Lock()
        self._cursor_lock = threading.Lock()
        self._anchor: Any = None
        self._working: Any = None  # the DuckDB connection a sync is using (interrupted when the process stops)
        self._building: threading.Thread | None = None
        self._warming: threading.Thread | None = None
        self._closing = False
        self._opened = False
        self.background = True  # a large database's first copy is made in the background (False: while asked)

    def _ensure_open(self) -> None:
        """Open the file at the first question (a store that is never asked one creates nothing)."""
        with self._lock:
            if not self._opened:
                self._opened = True
                self._open(self.folder)

    # -- opening ------------------------------------------------------------------------------------------

    def _config(self) -> dict[str, Any]:
        directory = extension_directory()
        if directory is None:
            raise RuntimeError("the duckdb-ext-* packages are not installed")
        temp = self.path.with_suffix(".tmp")
        return {
            "extension_directory": directory.as_posix(),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "memory_limit": self.memory_limit,
            "preserve_insertion_order": False,  # every answer is ordered explicitly; less memory on large groupings
            "temp_directory": temp.as_posix(),
        }

    def _open(self, folder: Path) -> None:
        try:
            import duckdb  # noqa: F401  (a clear reason below when it is missing)

            folder.mkdir(parents=True, exist_ok=True)
            config = self._config()
            path = self.path
            try:
                self._connect(path, config)
            except Exception as exc:  # another process holds the file: this process keeps a copy of its own
                if "lock" not in str(exc).lower():
                    raise
                path = self.path.with_name(f"{self.path.stem}-{os.getpid()}.duckdb")
                self._connect(path, config)
            self.path = path
            self._load_state()
        except Exception as exc:  # no DuckDB here, a broken file, a read-only folder: the database answers
            self.broken = f"{type(exc).__name__}: {exc}"
            log.warning("the analytic copy is off (%s); the database answers the metrics itself", self.broken)
            self.close()

    def _connect(self, path: Path, config: dict[str, Any]) -> None:
        import duckdb
        from duckdb_engine import ConnectionWrapper

        anchor = duckdb.connect(path.as_posix(), config=config)  # holds the database (and its file lock) open
        anchor.execute("CREATE TABLE IF NOT EXISTS replica_state (key VARCHAR PRIMARY KEY, value VARCHAR)")
        self._anchor = anchor
        self.engine = create_engine("duckdb://", creator=lambda: ConnectionWrapper(self._raw()))

    def _raw(self) -> Any:
        """A connection of its own to the copy's database (DuckDB connections are one thread's at a time)."""
        with self._cursor_lock:
            return self._anchor.cursor()

    def _load_state(self) -> None:
        state = self._state()
        self.synced_signal = state.get("signal") if state.get("layout") == LAYOUT else None
        synced = state.get("synced_at")
        self.synced_at = dt.datetime.fromisoformat(synced) if synced else None

    def _state(self) -> dict[str, Any]:
        assert self.engine is not None
        with self.engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT key, value FROM replica_state").all()
        return {key: json.loads(value) for key, value in rows}

    def close(self) -> None:
        """Stop a sync under way (DuckDB rolls it back) and release the file: a process that ends while a
        thread is inside DuckDB is aborted by the C++ runtime."""
        self._closing = True
        working = self._working
        if working is not None:
            with contextlib.suppress(Exception):
                working.interrupt()
        for thread in (self._building, self._warming):
            if thread is not None:
                thread.join(timeout=60)
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None
        if self._anchor is not None:
            self._anchor.close()
            self._anchor = None

    # -- reading ------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def reading(self) -> Iterator[Reading | None]:
        """A connection to a copy that holds every committed write, or None: the database answers (the copy
        is off, or being rebuilt)."""
        self._ensure_open()
        if self.broken is not None or self.engine is None:
            yield None
            return
        try:
            current = self.ensure_current()
        except Exception as exc:  # a sync that failed leaves the copy as it was; the database answers
            if isinstance(exc, NotCopyable):
                self.broken = str(exc)
            log.warning("the analytic copy could not follow the database (%s: %s)", type(exc).__name__, exc)
            current = False
        if not current:
            yield None
            return
        with self.engine.connect() as connection:
            yield Reading(connection, "duckdb", "duckdb", self.synced_at)

    def signal(self) -> object:
        """A value that any committed write to the database changes (None: this database has none)."""
        if self.backend == "sqlite":
            base = Path(self.url.database or "")
            stamps = []
            for path in (base, base.with_name(base.name + "-wal")):
                with contextlib.suppress(OSError):
                    stat = path.stat()
                    stamps.append([path.name, stat.st_mtime_ns, stat.st_size])
            return stamps
        with self.source.connect() as connection:
            if self.backend == "postgresql":
                return str(connection.exec_driver_sql("SELECT pg_current_wal_insert_lsn()").scalar())
            row = connection.exec_driver_sql("SHOW GLOBAL STATUS LIKE 'Innodb_lsn_current'").first()
            if row is not None:
                return str(row[1])
            status = str(connection.exec_driver_sql("SHOW ENGINE INNODB STATUS").first()[2])  # type: ignore[index]
            for line in status.splitlines():
                if line.startswith("Log sequence number"):
                    return line
        return None

    def ensure_current(self) -> bool:
        """Bring the copy in step with the database if it moved; False when it cannot be read now (a rebuild
        is under way): the database answers."""
        if self._building is not None and self._building.is_alive():
            return False
        signal = self.signal()
        if signal is not None and signal == self.synced_signal:
            return True
        with self._lock:
            if self._building is not None and self._building.is_alive():
                return False
            if signal is not None and signal == self.synced_signal:
                return True
            return self._sync(signal)

    def warm(self) -> None:
        """In the background: open the copy and bring it in step (a server calls this as it starts)."""

        def catch_up() -> None:
            try:
                with self.reading():
                    pass
            except Exception as exc:  # the first question will say it again
                if self._closing:
                    return
                log.warning("the analytic copy could not be prepared (%s: %s)", type(exc).__name__, exc)

        self._warming = threading.Thread(target=catch_up, name="analytic-copy-warm", daemon=True)
        self._warming.start()

    def refresh(self, wait: bool = True) -> None:
        """Rebuild the copy from scratch (``salesmcp`` does so when the copy cannot follow by appending)."""
        self._ensure_open()
        if self.broken is not None:
            raise RuntimeError(f"the analytic copy is off: {self.broken}")
        with self._lock:
            self._start_build(self.signal(), wait)
        if wait and self._building is not None:
            self._building.join()

    # -- keeping in step ---------------------------------------------------------------------------------

    def _source_facts(self) -> dict[str, Any]:
        """What the database holds, from its indexes: each appended table's largest id, the newest run."""
        with self.source.connect() as connection:
            facts: dict[str, Any] = {}
            for name in APPENDED:
                facts[name] = connection.exec_driver_sql(f"SELECT max(id) FROM {name}").scalar()
            run = connection.execute(
                select(generation_runs.c.id, generation_runs.c.started_at).order_by(generation_runs.c.id.desc())
            ).first()
            facts["run"] = [run.id, str(run.started_at)] if run is not None else None
            facts["orders_estimate"] = facts["orders"] or 0
        return facts

    def _sync(self, signal: object) -> bool:
        state = self._state()
        facts = self._source_facts()
        copied = state.get("tables")
        if copied is None or state.get("layout") != LAYOUT or not self._run_kept(state.get("run")):
            return self._start_build(signal, wait=self._waits(facts))
        plan: dict[str, int] = {}
        counts = self._source_counts([name for name in APPENDED if facts[name] != copied[name]["max"]])
        for name, count in counts.items():
            largest = copied[name]["max"] or 0
            if (
                facts[name] is None
                or facts[name] < largest
                or count - copied[name]["count"] != self._newer(name, largest)
            ):
                return self._start_build(signal, wait=self._waits(facts))
            plan[name] = largest
        small = self._small_fingerprints()
        whole = {name for name in WHOLE if self._changed(name, small, state)}
        self._copy(signal, appends=plan, facts=facts, whole=whole, small=small)
        return True

    def _small_fingerprints(self) -> dict[str, list[str]]:
        """Customers and products in two numbers each, on the servers: the count and a checksum of the columns
        the copy holds (any change to any of them moves it). Their change signal is the whole server's, which
        other databases' writes move too; this keeps those from costing a copy of every customer. A SQLite
        file's signal is its own: there they are copied whenever it moved (empty lists)."""
        if self.backend == "sqlite":
            return {name: [] for name in WHOLE}
        found: dict[str, list[str]] = {}
        with self.source.connect() as connection:
            for name in WHOLE:
                columns = ", ".join(COLUMNS[name])
                if self.backend == "postgresql":
                    checksum = f"coalesce(sum(hashtextextended(concat_ws('|', {columns}), 0)), 0)"
                else:
                    checksum = f"coalesce(bit_xor(crc32(concat_ws('|', {columns}))), 0)"
                row = connection.exec_driver_sql(f"SELECT count(*), {checksum} FROM {name}").one()
                found[name] = [str(value) for value in row]
        return found

    @staticmethod
    def _changed(name: str, small: dict[str, list[str]], state: dict[str, Any]) -> bool:
        """Whether a small table may have changed since the last sync (always, without a fingerprint)."""
        return not small[name] or small[name] != (state.get("small") or {}).get(name)

    def _waits(self, facts: dict[str, Any]) -> bool:
        return not self.background or facts["orders_estimate"] <= INLINE_BUILD_ORDERS

    def _run_kept(self, run: list[Any] | None) -> bool:
        """The run the copy last saw is still there (a reset empties the runs too)."""
        if run is None:
            return True
        with self.source.connect() as connection:
            started = connection.execute(
                select(generation_runs.c.started_at).where(generation_runs.c.id == run[0])
            ).scalar()
        return started is not None and str(started) == run[1]

    def _source_counts(self, names: list[str]) -> dict[str, int]:
        with self.source.connect() as connection:
            return {name: int(connection.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar() or 0)
                    for name in names}  # fmt: skip

    def _newer(self, name: str, largest: int) -> int:
        with self.source.connect() as connection:
            newer = connection.exec_driver_sql(f"SELECT count(*) FROM {name} WHERE id > {int(largest)}").scalar()
        return int(newer or 0)

    def _start_build(self, signal: object, wait: bool) -> bool:
        """A full copy: at once (small databases, an explicit refresh) or in the background."""
        if wait:
            self._copy(signal, appends=None, facts=self._source_facts())
            return True
        thread = threading.Thread(target=self._build_quietly, args=(signal,), name="analytic-copy", daemon=True)
        self._building = thread
        thread.start()
        return False

    def _build_quietly(self, signal: object) -> None:
        try:
            self._copy(signal, appends=None, facts=self._source_facts())
        except Exception as exc:
            if isinstance(exc, NotCopyable):
                self.broken = str(exc)
            if self._closing:
                return
            log.warning("the analytic copy could not be rebuilt (%s: %s)", type(exc).__name__, exc)

    def _select(self, name: str, where: str = "") -> str:
        """The rows of a table of the database, in the copy's types, and for orders and lines the columns they
        carry from the copy's tables copied before them."""
        columns = ", ".join(f"CAST({column} AS {kind}) AS {column}" for column, kind in COLUMNS[name].items())
        rows = f"SELECT {columns} FROM src.{name}{where}"
        if name == "orders":
            return (f"SELECT o.*, p.method, s.carrier, s.delivered_at, coalesce(x.refund_cents, 0) AS refund_cents "
                    f"FROM ({rows}) o LEFT JOIN payments p ON p.order_id = o.id "
                    f"LEFT JOIN shipments s ON s.order_id = o.id "
                    f"LEFT JOIN ({ORDER_REFUNDS}) x ON x.order_id = o.id")  # fmt: skip
        if name == "order_items":
            carried = ", ".join(f"o.{column}" for column in LINE_EXTRA)
            returned = ", ".join(f"r.{column} AS {name}" for name, column in LINE_RETURN.items())
            return (f"SELECT i.*, {carried}, {returned} FROM ({rows}) i LEFT JOIN orders o ON o.id = i.order_id "
                    "LEFT JOIN returns r ON r.order_item_id = i.id")  # fmt: skip
        return rows

    def _stage_sqlite(self, raw: Any, staging: Path, appends: dict[str, int] | None, whole: set[str]) -> None:
        """The rows to copy, from the SQLite file into a scratch DuckDB file later attached as ``src``: the new
        rows of the appended tables with Python's own SQLite (through the rowid), whole tables by DuckDB's
        scanner in a child process.

        Never DuckDB's sqlite extension in this process: it carries a SQLite library of its own, and two SQLite
        libraries in one process do not see each other's POSIX locks — the extension closing the file released
        this process's locks and removed the WAL from under our connections (a generation worker then wrote to
        a file the server no longer read). It also reads a range of ids by scanning the whole table.
        """
        staging.unlink(missing_ok=True)
        whole_tables = list(COLUMNS) if appends is None else [name for name in COLUMNS if name in whole]
        if appends:  # the new rows first (through the rowid), the whole tables after: customers at least as new
            self._stage_sqlite_rows(raw, staging, appends)
        if whole_tables:  # whole tables: DuckDB's scanner, fastest, in a process of its own (no second library here)
            self._stage_sqlite_apart(staging, whole_tables)

    def _stage_sqlite_rows(self, raw: Any, staging: Path, appends: dict[str, int]) -> None:
        """The rows past the copy's largest ids, read with Python's own SQLite in one read transaction and
        chunks (memory stays flat)."""
        raw.execute(f"ATTACH {_sql_text(staging.as_posix())} AS src")
        connection = sqlite3.connect(Path(self.url.database or "").resolve().as_uri() + "?mode=ro", uri=True)
        raw.execute("BEGIN TRANSACTION")  # one commit (one sync to disk) for all the chunks, not one per chunk
        try:
            connection.execute("BEGIN")
            for name, kinds in COLUMNS.items():
                if name not in appends:
                    continue
                columns = ", ".join(f"{column} {kind}" for column, kind in kinds.items())
                raw.execute(f"CREATE TABLE src.{name} ({columns})")
                where = f" WHERE id > {int(appends[name])}"
                cursor = connection.execute(f"SELECT {', '.join(kinds)} FROM {name}{where}")
                casts = ", ".join(f"CAST(c{index} AS {kind})" for index, kind in enumerate(kinds.values()))
                while rows := cursor.fetchmany(STAGING_CHUNK):
                    if self._closing:
                        raise RuntimeError("the process is stopping")
                    values = zip(*rows, strict=True)
                    types = [_NUMPY.get(kind, object) for kind in kinds.values()]
                    chunk: dict[str, Any] = {f"c{index}": numpy.array(column, dtype=kind)
                             for index, (column, kind) in enumerate(zip(values, types, strict=True))}  # fmt: skip
                    raw.register("chunk", chunk)
                    raw.execute(f"INSERT INTO src.{name} SELECT {casts} FROM chunk")
                    raw.unregister("chunk")
            raw.execute("COMMIT")
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        finally:
            connection.close()
        raw.execute("DETACH src")

    def _stage_sqlite_apart(self, staging: Path, tables: list[str]) -> None:
        """Whole tables of the SQLite file read by DuckDB's sqlite extension in a child process, into ``staging``
        (added to what is there): about four times faster than through Python (1M customers: ~1.5 s, not ~10 s)."""
        source = Path(self.url.database or "").resolve().as_posix()
        selects = {}
        for name, kinds in COLUMNS.items():
            if name not in tables:
                continue
            columns = ", ".join(f"CAST({column} AS {kind}) AS {column}" for column, kind in kinds.items())
            selects[name] = f"SELECT {columns} FROM src.{name}"
        config = {key: value for key, value in self._config().items() if key != "temp_directory"}
        attach = f"ATTACH {_sql_text(source)} AS src (TYPE sqlite, READ_ONLY)"
        command = [
            sys.executable,
            "-c",
            _STAGE_SCRIPT,
            staging.as_posix(),
            attach,
            json.dumps(selects),
            json.dumps(config),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"reading the SQLite file failed: {done.stderr.strip()[-500:]}")

    def _copy(
        self,
        signal: object,
        appends: dict[str, int] | None,
        facts: dict[str, Any],
        whole: set[str] | None = None,
        small: dict[str, list[str]] | None = None,
    ) -> None:
        """One DuckDB transaction: the whole tables (appends None) or the small ones and the new rows."""
        started = time.perf_counter()
        whole = set(WHOLE) if whole is None else whole
        small = self._small_fingerprints() if small is None else small
        if self._closing:
            raise RuntimeError("the process is stopping")
        raw = self._raw()
        self._working = raw
        staging = self.path.with_name(f"{self.path.stem}-staging-{os.getpid()}.duckdb")
        try:
            if appends == {} and not whole:  # the signal moved, the data did not: only the state is written
                raw.execute("ATTACH ':memory:' AS src")
            elif self.backend == "sqlite":
                self._stage_sqlite(raw, staging, appends, whole)
                raw.execute(f"ATTACH {_sql_text(staging.as_posix())} AS src (READ_ONLY)")
            else:
                raw.execute(f"LOAD {EXTENSIONS[self.backend]}")
                for statement in attach_statements(self.url):
                    raw.execute(statement)
            try:
                raw.execute("BEGIN TRANSACTION")
                previous = self._state().get("tables") or {}
                tables: dict[str, dict[str, Any]] = {}
                for name in COLUMNS:
                    if appends is None or name in whole:
                        raw.execute(f"CREATE OR REPLACE TABLE {name} AS {self._select(name)}")
                    elif name in appends:
                        raw.execute(f"INSERT INTO {name} {self._select(name, f' WHERE id > {appends[name]}')}")
                    if name in APPENDED:
                        if appends is None or name in appends:
                            count, largest = raw.execute(f"SELECT count(*), max(id) FROM {name}").fetchone()
                            tables[name] = {"count": int(count), "max": largest}
                        else:
                            tables[name] = previous[name]
                if appends is None:
                    _check_one_per_order(raw)
                    raw.execute(f"CREATE OR REPLACE TABLE first_orders AS {FIRST_ORDERS}")
                else:
                    _carry_late_children(raw, appends, previous)
                    if "orders" in appends:
                        touched = f"SELECT DISTINCT customer_id FROM orders WHERE id > {appends['orders']}"
                        raw.execute(f"DELETE FROM first_orders WHERE customer_id IN ({touched})")
                        only = FIRST_ORDERS.replace("GROUP BY", f"AND customer_id IN ({touched}) GROUP BY")
                        raw.execute(f"INSERT INTO first_orders {only}")
                now = dt.datetime.now(dt.UTC).replace(microsecond=0)
                state = {"signal": signal, "synced_at": now.isoformat(), "tables": tables, "run": facts["run"],
                         "layout": LAYOUT, "small": small}  # fmt: skip
                for key, value in state.items():
                    raw.execute("INSERT OR REPLACE INTO replica_state VALUES (?, ?)", [key, json.dumps(value)])
                raw.execute("COMMIT")
            except Exception:
                with contextlib.suppress(Exception):
                    raw.execute("ROLLBACK")
                raise
            finally:
                with contextlib.suppress(Exception):
                    raw.execute("DETACH src")
        finally:
            self._working = None
            raw.close()
            staging.unlink(missing_ok=True)
        self.synced_signal, self.synced_at = signal, now
        log.debug("analytic copy %s in %.2f s", "rebuilt" if appends is None else "brought up to date",
                 time.perf_counter() - started)  # fmt: skip


_STAGE_SCRIPT = """
import json, sys
import duckdb
staging, attach, selects, config = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
connection = duckdb.connect(staging, config=config)
connection.execute("LOAD sqlite_scanner")
connection.execute(attach)
connection.execute("BEGIN TRANSACTION")
for name, select in selects.items():
    connection.execute(f"CREATE TABLE {name} AS {select}")
connection.execute("COMMIT")
connection.execute("DETACH src")
connection.close()
"""

# What each order has been refunded, in cents, from the copy's returns (one not refunded yet gives nothing back).
ORDER_REFUNDS = (
    "SELECT order_id, CAST(sum(CASE WHEN refunded_at IS NOT NULL THEN round(refund * 100) ELSE 0 END) AS BIGINT) "
    "AS refund_cents FROM returns GROUP BY order_id"
)
FIRST_ORDERS = (
    "SELECT customer_id, arg_min(id, (order_date, id)) AS order_id FROM orders WHERE status != 'CANCELLED' "
    "GROUP BY customer_id"
)


class NotCopyable(Exception):
    """The database holds what the copy's layout cannot (the database answers itself)."""


def _check_one_per_order(raw: Any) -> None:
    for name, key in (("payments", "order_id"), ("shipments", "order_id"), ("returns", "order_item_id")):
        extra = raw.execute(f"SELECT count(*) - count(DISTINCT {key}) FROM {name}").fetchone()[0]
        if extra:
            raise NotCopyable(f"{extra} {'orders' if key == 'order_id' else 'order lines'} have more than one row in "
                              f"{name}")  # fmt: skip


def _carry_late_children(raw: Any, appends: dict[str, int], previous: dict[str, Any]) -> None:
    """A payment or shipment added to an order the copy already held: the order and its lines carry it too."""
    known = appends.get("orders", (previous.get("orders") or {}).get("max") or 0)
    for name, columns in (("payments", ("method",)), ("shipments", ("carrier", "delivered_at"))):
        if name not in appends:
            continue
        for table, key in (("orders", "id"), ("order_items", "order_id")):
            values = ", ".join(f"{column} = c.{column}" for column in columns)
            raw.execute(
                f"UPDATE {table} SET {values} FROM {name} c WHERE c.order_id = {table}.{key} "
                f"AND c.id > {appends[name]} AND {table}.{key} <= {known}"
            )
    if "returns" in appends:  # a return of a line the copy held: the line carries it, its order the refund
        known_lines = appends.get("order_items", (previous.get("order_items") or {}).get("max") or 0)
        values = ", ".join(f"{name} = r.{column}" for name, column in LINE_RETURN.items())
        raw.execute(
            f"UPDATE order_items SET {values} FROM returns r WHERE r.order_item_id = order_items.id "
            f"AND r.id > {appends['returns']} AND order_items.id <= {known_lines}"
        )
        new_refunds = ORDER_REFUNDS.replace("FROM returns", f"FROM returns WHERE id > {appends['returns']}")
        raw.execute(
            f"UPDATE orders SET refund_cents = orders.refund_cents + x.refund_cents FROM ({new_refunds}) x "
            f"WHERE x.order_id = orders.id AND orders.id <= {known}"
        )


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def open_replica(source: Engine, folder: Path, memory_limit: str) -> Replica | None:
    """The copy for a database that can have one (a SQLite file, PostgreSQL, MariaDB/MySQL), else None."""
    url = make_url(str(source.url.render_as_string(hide_password=False)))
    if not supported(url):
        return None
    return Replica(source, folder, memory_limit)
