"""SQL benchmark: the main server's MCP tools over Streamable HTTP vs the bare SQL, side by side.

Run (from the repository root; the first full-size run fills the databases, later runs reuse them):

    python bench/bench_sql.py                                             # SQLite and PostgreSQL, 1M orders
    python bench/bench_sql.py --db sqlite --customers 1000 --orders 20000   # quick smoke run

What it does, for each database (``--db sqlite``, ``--db postgresql``, default both):

1. Fills the database itself: the project's schema (``open_engine(url, seed=False)``, i.e. the Alembic
   migration), then 10k customers in 50 cities and 1M orders over 2025-01-01..2026-12-31 (NUMERIC
   totals with 2 decimals, about 5% CANCELLED) from a fixed numpy seed, bulk loaded with the raw
   driver: SQLite ``executemany`` in one transaction, PostgreSQL ``COPY ... FROM STDIN``; the two
   secondary indexes of ``orders`` are built after the load, then ``ANALYZE``. A database that
   already holds the right row counts is reused (``--refill`` reloads it).
2. Starts the real main server, ``python -m salesmcp serve --port <free> --database-url <url>``
   (SEED_DEMO_DATA=false, LOG_LEVEL=WARNING), waits for ``GET /health`` and always stops it.
3. Calls the tools through the official SDK client over Streamable HTTP (one ``mcp.Client``
   session) and, interleaved with them, the same SQL run directly with the raw driver ("bare":
   the statements SqlStore issues for the call, captured once and replayed on one raw DBAPI
   connection, printed); medians after a warm-up:
   a. ``get_city_revenue_by_period`` for one city over one year; target tool <= 1.5x bare.
   b. the same over one month; target tool <= bare + 1.2x the server's floor (a trivial tool call).
   c. ``list_customers`` with the largest page (limit=500); target tool < 2x bare.
4. Checks that the tool answers equal the bare answers (exit code 1 if not) and prints a table
   per database with PASS/MISS (informational) and the bulk-load rows/s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from harness import DATA_ROOT, POSTGRES_ADMIN_URL, Server, dbapi_dsn, median_ms, running_salesmcp
from mcp import Client
from mcp.types import CallToolResult
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

from salesmcp.errors import Unavailable
from salesmcp.services import customers as customer_service
from salesmcp.services import revenue
from salesmcp.store.database import create_db_engine, open_engine
from salesmcp.store.schema import CUSTOMER_STATUSES, ORDER_STATUSES
from salesmcp.store.sql_store import SqlStore

BENCH_DIR = DATA_ROOT.parent
LOAD_LOG = DATA_ROOT / "sql_loads.json"  # how each cached database was filled, for reuse runs
POSTGRES_DATABASE = "salesmcp_bench"

FIRST_DAY = dt.date(2025, 1, 1)
DAYS = 730  # 2025-01-01 .. 2026-12-31
YEAR = ("20260101", "20261231")
MONTH = ("20260101", "20260131")
PAGE = customer_service.MAX_PAGE  # 500
UNKNOWN_CUSTID = "no-such-customer"
YEAR_TARGET = 1.5  # tool <= 1.5x bare
MONTH_FLOOR_FACTOR = 1.2  # tool <= bare + 1.2x floor
PAGE_TARGET = 2.0  # tool < 2x bare

# The 50 cities of bench_seed000.py (Dutch municipalities; one with an accent, two with spaces).
CITIES = (  # noqa: SIM905
    "Amsterdam,Rotterdam,Den Haag,Utrecht,Eindhoven,Groningen,Tilburg,Almere,Breda,Nijmegen,Apeldoorn,"
    "Haarlem,Arnhem,Enschede,Amersfoort,Zaanstad,'s-Hertogenbosch,Haarlemmermeer,Zwolle,Zoetermeer,"
    "Leiden,Maastricht,Dordrecht,Ede,Alphen aan den Rijn,Westland,Alkmaar,Emmen,Delft,Venlo,Deventer,"
    "Sittard-Geleen,Helmond,Oss,Amstelveen,Hilversum,Súdwest-Fryslân,Heerlen,Nissewaard,Hengelo,"
    "Purmerend,Roosendaal,Schiedam,Lelystad,Leeuwarden,Almelo,Gouda,Vlaardingen,Assen,Katwijk"
).split(",")
FIRST_NAMES = (  # noqa: SIM905
    "Annie Bert Carla Dirk Eric Fien Gijs Hanna Ilse Jeroen Kim Lars Maud Niels Olga Pim Roos Tom"
).split()
LAST_NAMES = (  # noqa: SIM905
    "de Jong,Jansen,de Vries,van den Berg,van Dijk,Bakker,Visser,Smit,Meijer,de Boer,Mulder,Bos"
).split(",")
STATUS_WEIGHTS = {"PLACED": 0.05, "PAID": 0.10, "SHIPPED": 0.10, "DELIVERED": 0.70, "CANCELLED": 0.05}
CUSTOMER_COLUMNS = (
    "id", "custid", "name", "first_name", "last_name", "email", "phone", "city", "country", "status",
    "created_at", "updated_at",
)  # fmt: skip
ORDER_COLUMNS = ("id", "customer_id", "order_date", "status", "subtotal", "tax", "shipping_fee", "total")
CHUNK = 100_000  # rows converted to Python objects at a time


# --------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class FakeData:
    """Column arrays of the synthetic customers and orders (numpy, fixed seed); money in cents."""

    customers: int
    orders: int
    city: np.ndarray
    first: np.ndarray
    last: np.ndarray
    disabled: np.ndarray
    customer_id: np.ndarray  # of each order, 1-based
    day: np.ndarray  # days after 2025-01-01, ascending with the order id
    status: np.ndarray
    subtotal: np.ndarray
    tax: np.ndarray
    shipping: np.ndarray

    @property
    def custid_width(self) -> int:
        return max(5, len(str(self.customers)))


def make_data(customers: int, orders: int, seed: int) -> FakeData:
    rng = np.random.default_rng(seed)
    subtotal = rng.integers(100, 100_000, orders)  # 1.00 .. 999.99
    return FakeData(
        customers=customers,
        orders=orders,
        city=rng.integers(0, len(CITIES), customers),
        first=rng.integers(0, len(FIRST_NAMES), customers),
        last=rng.integers(0, len(LAST_NAMES), customers),
        disabled=rng.random(customers) < 0.03,
        customer_id=rng.integers(1, customers + 1, orders),
        day=np.sort(rng.integers(0, DAYS, orders)),
        status=rng.choice(len(ORDER_STATUSES), orders, p=[STATUS_WEIGHTS[s] for s in ORDER_STATUSES]),
        subtotal=subtotal,
        tax=(subtotal * 21 + 50) // 100,  # 21% VAT, rounded to the cent
        shipping=np.where(rng.random(orders) < 0.3, 495, 0),
    )


def customer_rows(data: FakeData) -> Iterator[tuple[Any, ...]]:
    """Rows in CUSTOMER_COLUMNS order; timestamps as naive UTC text (how SQLAlchemy stores them in SQLite)."""
    created = dt.datetime(2024, 1, 1)
    for i in range(data.customers):
        custid = str(i + 1).zfill(data.custid_width)
        first, last = FIRST_NAMES[data.first[i]], LAST_NAMES[data.last[i]]
        stamp = str(created + dt.timedelta(minutes=37 * i))
        status = "disabled" if data.disabled[i] else "active"
        yield (i + 1, custid, f"{first} {last}", first, last, f"c{custid}@example.com", f"+31 6 {i + 1:08d}",
               CITIES[data.city[i]], "Netherlands", status, stamp, stamp)  # fmt: skip


def order_rows(data: FakeData) -> Iterator[tuple[Any, ...]]:
    """Rows in ORDER_COLUMNS order: dates as ISO text, money as floats whose repr has 2 decimals.

    ``cents / 100`` is the double nearest to the 2-decimal value and its repr is exactly that value,
    so SQLite stores the same REAL SQLAlchemy would, and PostgreSQL's COPY reads the exact NUMERIC.
    """
    day_text = [str(FIRST_DAY + dt.timedelta(days=d)) for d in range(DAYS)]
    for lo in range(0, data.orders, CHUNK):
        hi = min(lo + CHUNK, data.orders)
        subtotal, tax, shipping = data.subtotal[lo:hi], data.tax[lo:hi], data.shipping[lo:hi]
        yield from zip(
            range(lo + 1, hi + 1),
            data.customer_id[lo:hi].tolist(),
            [day_text[d] for d in data.day[lo:hi].tolist()],
            [ORDER_STATUSES[s] for s in data.status[lo:hi].tolist()],
            (subtotal / 100).tolist(),
            (tax / 100).tolist(),
            (shipping / 100).tolist(),
            ((subtotal + tax + shipping) / 100).tolist(),
            strict=True,
        )


# -------------------------------------------------------------------------------------- databases


@dataclass
class LoadStats:
    rows: int
    generate_s: float  # numpy arrays (Python tuples are made while loading and counted there)
    insert_s: float  # customers + orders into tables without the secondary orders indexes
    index_s: float
    analyze_s: float
    when: str = ""

    @property
    def insert_rate(self) -> float:
        return self.rows / self.insert_s

    @property
    def overall_rate(self) -> float:
        return self.rows / (self.insert_s + self.index_s + self.analyze_s)


@dataclass
class Database:
    """One database to benchmark, and how it was filled."""

    name: str  # "sqlite" or "postgresql"
    url: str  # SQLAlchemy URL, as given to the server
    where: str
    load: LoadStats | None = None
    reused: bool = False


def sqlite_database(customers: int, orders: int, seed: int) -> Database:
    path = DATA_ROOT / f"sql_c{customers}_o{orders}_r{seed}.sqlite"
    return Database("sqlite", f"sqlite:///{path.as_posix()}", str(path.relative_to(BENCH_DIR.parent)))


def postgres_database(admin_url: str, name: str) -> Database:
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return Database("postgresql", url, make_url(url).render_as_string(hide_password=True))


def sqlite_path(db: Database) -> Path:
    return Path(make_url(db.url).database or "")


def row_counts(db: Database) -> tuple[int, int] | None:
    """(customers, orders) in the database, or None when it or the tables do not exist."""
    query = "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM orders)"
    try:
        if db.name == "sqlite":
            if not sqlite_path(db).is_file():
                return None
            with closing(sqlite3.connect(sqlite_path(db))) as con:
                return con.execute(query).fetchone()
        with psycopg.connect(dbapi_dsn(db.url), autocommit=True) as con:
            return con.execute(query).fetchone()
    except (sqlite3.Error, psycopg.errors.UndefinedTable, psycopg.OperationalError):
        return None


def recreate_postgres(admin_url: str, name: str) -> None:
    with psycopg.connect(dbapi_dsn(admin_url), autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{name}"')


def migrate(url: str) -> None:
    """The project's schema, through its Alembic migration, without demo data."""
    engine = open_engine(url, seed=False)
    engine.dispose()


def fill_sqlite(db: Database, data: FakeData) -> tuple[float, float, float]:
    """executemany in one transaction; orders' secondary indexes dropped first and rebuilt after.

    SQLite evaluates a CHECK ``status IN (...)`` per row at a cost that makes the load 2-3x slower,
    so the rows go in with CHECKs suspended and the same rules are then checked in one query per
    table, with the foreign keys, inside the same transaction (a violation rolls everything back).
    """
    con = sqlite3.connect(sqlite_path(db), isolation_level=None)
    try:
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA cache_size=-262144")  # 256 MiB page cache for the index builds
        con.execute("PRAGMA ignore_check_constraints=ON")  # checked below, set-wise
        indexes = con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders' AND sql IS NOT NULL"
        ).fetchall()
        t0 = time.perf_counter()
        con.execute("BEGIN")
        for name, _ in indexes:
            con.execute(f'DROP INDEX "{name}"')
        marks = ", ".join("?" * len(CUSTOMER_COLUMNS))
        con.executemany(f"INSERT INTO customers ({', '.join(CUSTOMER_COLUMNS)}) VALUES ({marks})", customer_rows(data))
        marks = ", ".join("?" * len(ORDER_COLUMNS))
        con.executemany(f"INSERT INTO orders ({', '.join(ORDER_COLUMNS)}) VALUES ({marks})", order_rows(data))
        check_sqlite_rules(con)
        con.execute("COMMIT")
        t1 = time.perf_counter()
        con.execute("BEGIN")
        for _, sql in indexes:
            con.execute(sql)
        con.execute("COMMIT")
        t2 = time.perf_counter()
        con.execute("ANALYZE")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        t3 = time.perf_counter()
    finally:
        con.close()
    return t1 - t0, t2 - t1, t3 - t2


def check_sqlite_rules(con: sqlite3.Connection) -> None:
    """The schema's CHECKs on status and its foreign keys, over all rows at once."""
    rules = {
        "customers with a bad status": ("customers", CUSTOMER_STATUSES),
        "orders with a bad status": ("orders", ORDER_STATUSES),
    }
    for problem, (table, allowed) in rules.items():
        marks = ", ".join("?" * len(allowed))
        (bad,) = con.execute(f"SELECT count(*) FROM {table} WHERE status NOT IN ({marks})", allowed).fetchone()
        if bad:
            raise RuntimeError(f"bulk load: {bad} {problem}")
    if con.execute("PRAGMA foreign_key_check").fetchone():
        raise RuntimeError("bulk load: orders whose customer does not exist")


def fill_postgres(db: Database, data: FakeData) -> tuple[float, float, float]:
    """COPY FROM STDIN; orders' secondary indexes and foreign key dropped first and rebuilt after."""
    with psycopg.connect(dbapi_dsn(db.url)) as con:
        indexes = con.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'orders' AND indexname <> 'pk_orders'"
        ).fetchall()
        (fk_def,) = con.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'fk_orders_customer_id_customers'"
        ).fetchone()
        t0 = time.perf_counter()
        for name, _ in indexes:
            con.execute(f'DROP INDEX "{name}"')
        con.execute("ALTER TABLE orders DROP CONSTRAINT fk_orders_customer_id_customers")
        with con.cursor() as cur:
            for table, columns, rows in (
                ("customers", CUSTOMER_COLUMNS, customer_rows(data)),
                ("orders", ORDER_COLUMNS, order_rows(data)),
            ):
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        con.commit()
        t1 = time.perf_counter()
        for _, sql in indexes:
            con.execute(sql)
        con.execute(f"ALTER TABLE orders ADD CONSTRAINT fk_orders_customer_id_customers {fk_def}")
        for table in ("customers", "orders"):  # as seed_demo_data does: serials past the explicit ids
            con.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        con.commit()
        t2 = time.perf_counter()
    with psycopg.connect(dbapi_dsn(db.url), autocommit=True) as con:
        con.execute("VACUUM (ANALYZE) customers")
        con.execute("VACUUM (ANALYZE) orders")
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2


def ensure_filled(db: Database, data_args: tuple[int, int, int], refill: bool, admin_url: str) -> None:
    """Reuse a database with the right row counts; otherwise create it, migrate it and bulk load it."""
    customers, orders, seed = data_args
    counts = None if refill else row_counts(db)
    if counts == (customers, orders):
        db.reused = True
        previous = read_load_log().get(db.url)
        db.load = LoadStats(**previous) if previous and previous.get("rows") == customers + orders else None
        print(f"[{db.name}] reusing {db.where} ({customers:,} customers, {orders:,} orders; --refill reloads)")
        return
    print(f"[{db.name}] filling {db.where}: {customers:,} customers, {orders:,} orders ...", flush=True)
    if db.name == "sqlite":
        path = sqlite_path(db)
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
    else:
        recreate_postgres(admin_url, make_url(db.url).database or POSTGRES_DATABASE)
    migrate(db.url)
    t0 = time.perf_counter()
    data = make_data(customers, orders, seed)
    generate_s = time.perf_counter() - t0
    fill = fill_sqlite if db.name == "sqlite" else fill_postgres
    insert_s, index_s, analyze_s = fill(db, data)
    db.load = LoadStats(customers + orders, generate_s, insert_s, index_s, analyze_s, dt.datetime.now().isoformat())
    if row_counts(db) != (customers, orders):
        raise RuntimeError(f"{db.name}: the load did not leave {customers} customers and {orders} orders")
    write_load_log(db.url, db.load)
    print(f"[{db.name}] loaded in {insert_s + index_s + analyze_s:.1f} s ({db.load.overall_rate:,.0f} rows/s)")


def read_load_log() -> dict[str, dict[str, Any]]:
    try:
        return json.loads(LOAD_LOG.read_text())
    except (OSError, ValueError):
        return {}


def write_load_log(url: str, stats: LoadStats) -> None:
    log = read_load_log()
    log[url] = stats.__dict__
    LOAD_LOG.write_text(json.dumps(log, indent=2) + "\n")


# ------------------------------------------------------------------------------------- bare SQL


@dataclass(frozen=True)
class Statement:
    """One statement as SqlStore sent it to the driver: SQL text and DBAPI parameters."""

    sql: str
    params: Any


@contextmanager
def captured_sql(engine: Engine) -> Iterator[list[Statement]]:
    """Record what SqlStore sends to the driver (its pool's pings and pragmas bypass this event)."""
    statements: list[Statement] = []

    def capture(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        statements.append(Statement(sql, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def statements_of(engine: Engine, call: Callable[[], Any]) -> list[Statement]:
    """The SQL a service call issues: exactly what the bare side replays."""
    with captured_sql(engine) as statements:
        call()
    return statements


def short_sql(statement: Statement) -> str:
    """One line; a long IN list shown as its length."""
    sql = re.sub(r"\s+", " ", statement.sql).strip()
    mark = r"(?:\?|%\(\w+\)s|%s)(?:::\w+(?:\(\d+\))?)?"
    return re.sub(rf"IN \(({mark})(, {mark})+\)", lambda m: f"IN (<{m.group(0).count(',') + 1} parameters>)", sql)


class Bare:
    """Replays statements on one raw DBAPI connection: the driver and the server's connection setup
    (SQLite pragmas and functions, from the engine's connect event), without SQLAlchemy per query.
    PostgreSQL runs in autocommit: one statement, one implicit transaction."""

    def __init__(self, engine: Engine) -> None:
        raw = engine.raw_connection()
        self.con: Any = raw.driver_connection
        raw.detach()  # ours alone, never back to the pool; closed in close()
        self.raw = raw
        if engine.dialect.name == "postgresql":
            self.con.rollback()
            self.con.autocommit = True

    def close(self) -> None:
        self.raw.close()

    def run(self, statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
        results = []
        for statement in statements:
            cursor = self.con.cursor()
            try:
                cursor.execute(statement.sql, statement.params)
                results.append(cursor.fetchall())
            finally:
                cursor.close()
        return results

    def explain(self, statement: Statement, dialect: str) -> list[str]:
        prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
        rows = self.run([Statement(prefix + statement.sql, statement.params)])[0]
        return [str(row[-1] if dialect == "sqlite" else row[0]) for row in rows]


# --------------------------------------------------------------------------------- answers compared


def cents(value: Any) -> int:
    """Money as whole cents, exactly: Decimal from PostgreSQL and the tools' JSON, float from SQLite."""
    if isinstance(value, float):
        return round(value * 100)
    scaled = Decimal(value) * 100
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value!r} has more than 2 decimals")
    return int(scaled)


def tool_json(result: CallToolResult) -> dict[str, Any]:
    """The tool's JSON text, numbers with a fraction read as Decimal so money compares exactly."""
    return json.loads(result.content[0].text, parse_float=Decimal)


def city_from_tool(answer: dict[str, Any]) -> dict[str, Any]:
    lines = [(c["custid"], cents(c["revenue"]), c["sales_count"]) for c in answer["customers"]]
    return {"city": answer["city"], "total": cents(answer["total_revenue"]), "count": answer["customer_count"],
            "lines": lines}  # fmt: skip


def is_aggregate(statement: Statement) -> bool:
    return "GROUP BY" in statement.sql.upper()


def city_from_bare(statements: Sequence[Statement], results: list[list[tuple[Any, ...]]], city: str) -> dict[str, Any]:
    """The city answer from the replayed rows: the totals query's one row (city as stored, customers, revenue,
    sales) and the list query's (custid, name, city, revenue, sales) rows; money in exact cents."""
    ((stored, count, total, _sales),) = results[0]
    lines = [(custid, cents(revenue), sales) for custid, _name, _city, revenue, sales in results[1]]
    return {"city": city.strip() if stored is None else stored, "total": cents(total), "count": count,
            "lines": lines}  # fmt: skip


def page_from_tool(answer: dict[str, Any]) -> dict[str, Any]:
    fields = ("custid", "name", "email", "phone", "city", "country", "status")
    return {"total": answer["total"], "rows": [tuple(c[f] for f in fields) for c in answer["customers"]]}


def page_from_bare(statements: Sequence[Statement], results: list[list[tuple[Any, ...]]]) -> dict[str, Any]:
    """COUNT(*) gives one row of one column; the page gives the customer columns, custid first."""
    (total,) = next(rows[0] for rows in results if len(rows) == 1 and len(rows[0]) == 1)
    page = next(rows for rows in results if not (len(rows) == 1 and len(rows[0]) == 1))
    return {"total": total, "rows": [tuple(row[:7]) for row in page]}


def customer_from_bare(statements: Sequence[Statement], results: list[list[tuple[Any, ...]]]) -> dict[str, Any]:
    """Only for the unknown customer of the floor case: no row, so the tool answers {}."""
    return {"answer": {} if not results[0] else results[0]}


def differences(tool: dict[str, Any], bare: dict[str, Any]) -> list[str]:
    problems = []
    for key in tool.keys() | bare.keys():
        a, b = tool.get(key), bare.get(key)
        if isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                problems.append(f"{key}: {len(a)} entries vs {len(b)}")
            problems += [f"{key}: tool {x!r} vs bare {y!r}" for x, y in zip(a, b, strict=False) if x != y][:5]
        elif a != b:
            problems.append(f"{key}: tool {a!r} vs bare {b!r}")
    return problems


# ----------------------------------------------------------------------------------------- server


@contextmanager
def running_server(db: Database, timeout: float) -> Iterator[Server]:
    """``python -m salesmcp serve`` on the database (cwd bench/.data, so no developer .env applies)."""
    env = {"SEED_DEMO_DATA": "false", "LOG_LEVEL": "WARNING"}
    args = ["serve", "--database-url", db.url]
    log = DATA_ROOT / f"serve-{db.name}.log"
    with running_salesmcp(f"salesmcp serve on {db.name}", args, log, timeout, env, cwd=DATA_ROOT) as server:
        print(f"[{db.name}] server up on port {server.port} in {server.startup_seconds:.1f} s")
        yield server


# -------------------------------------------------------------------------------------- measuring


@dataclass
class Case:
    """One tool call, its service function in process and the SQL that service issues."""

    key: str
    label: str
    tool: str
    args: dict[str, Any]
    service: Callable[[], Any]
    tool_answer: Callable[[dict[str, Any]], dict[str, Any]]
    bare_answer: Callable[[Sequence[Statement], list[list[tuple[Any, ...]]]], dict[str, Any]]
    statements: list[Statement] = field(default_factory=list)
    tool_ms: float = float("nan")
    check_ms: float = float("nan")
    svc_ms: float = float("nan")
    bare_ms: float = float("nan")
    problems: list[str] = field(default_factory=list)
    target_text: str = ""
    passed: bool | None = None

    @property
    def ratio(self) -> float:
        return self.tool_ms / self.bare_ms


async def call_tool(client: Client, name: str, args: dict[str, Any]) -> CallToolResult:
    result = await client.call_tool(name, args)
    if result.is_error:
        raise RuntimeError(f"{name}{args} failed: {result.content}")
    return result


async def measure_case(case: Case, client: Client, bare: Bare, repeat: int) -> None:
    """Warm-up (answers compared), then ``repeat`` rounds of tool, service and bare, interleaved."""
    result = await call_tool(client, case.tool, case.args)
    bare_rows = bare.run(case.statements)
    case.problems = differences(case.tool_answer(tool_json(result)), case.bare_answer(case.statements, bare_rows))
    case.service()
    times: dict[str, list[float]] = {"tool": [], "check": [], "svc": [], "bare": []}
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = await call_tool(client, case.tool, case.args)
        t1 = time.perf_counter()
        await client.session.validate_tool_result(case.tool, result)  # part of "tool": client-side
        t2 = time.perf_counter()
        case.service()
        t3 = time.perf_counter()
        bare.run(case.statements)
        t4 = time.perf_counter()
        for key, seconds in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            times[key].append(seconds)
    case.tool_ms, case.check_ms, case.svc_ms, case.bare_ms = (median_ms(samples) for samples in times.values())
    status = f"{len(case.problems)} DIFFERENCES" if case.problems else "answers agree"
    print(f"  {case.label:<44} tool {case.tool_ms:7.2f} ms  bare {case.bare_ms:7.2f} ms  {status}", flush=True)


def build_cases(store: SqlStore, city: str) -> list[Case]:
    def city_case(key: str, period: tuple[str, str]) -> Case:
        start, end = period
        return Case(
            key,
            f"city {key} ({city}, {start}..{end})",
            "get_city_revenue_by_period",
            {"city": city, "start_date": start, "end_date": end},
            service=lambda: revenue.city_revenue(store, city, start, end),
            tool_answer=city_from_tool,
            bare_answer=lambda statements, rows: city_from_bare(statements, rows, city),
        )

    cases = [
        city_case("year", YEAR),
        city_case("month", MONTH),
        Case(
            "page",
            f"list_customers limit={PAGE}",
            "list_customers",
            {"limit": PAGE},
            service=lambda: customer_service.list_customers(store, limit=PAGE),
            tool_answer=page_from_tool,
            bare_answer=page_from_bare,
        ),
        Case(
            "floor",
            "floor: customer revenue, unknown customer",
            "get_customer_revenue_by_period",
            {"cust_id": UNKNOWN_CUSTID, "start_date": MONTH[0], "end_date": MONTH[1]},
            service=lambda: revenue.customer_revenue(store, UNKNOWN_CUSTID, *MONTH),
            tool_answer=lambda answer: {"answer": answer},
            bare_answer=customer_from_bare,
        ),
        Case(
            "list1",
            "(info) list_customers limit=1",
            "list_customers",
            {"limit": 1},
            service=lambda: customer_service.list_customers(store, limit=1),
            tool_answer=page_from_tool,
            bare_answer=page_from_bare,
        ),
    ]
    for case in cases:
        case.statements = statements_of(store.engine, case.service)
    return cases


def verdicts(cases: list[Case], tool_ms: Callable[[Case], float]) -> dict[str, tuple[float, bool, str]]:
    """Per target case: the measured value (ratio, or ms for month), PASS or not, and the target."""
    by_key = {case.key: case for case in cases}
    year, month, page, floor = by_key["year"], by_key["month"], by_key["page"], by_key["floor"]
    limit = month.bare_ms + MONTH_FLOOR_FACTOR * tool_ms(floor)
    year_ratio, page_ratio = tool_ms(year) / year.bare_ms, tool_ms(page) / page.bare_ms
    return {
        "year": (year_ratio, year_ratio <= YEAR_TARGET, f"<= {YEAR_TARGET}x bare"),
        "month": (
            tool_ms(month),
            tool_ms(month) <= limit,
            f"<= {month.bare_ms:.2f} + {MONTH_FLOOR_FACTOR}*{tool_ms(floor):.2f} = {limit:.2f} ms",
        ),
        "page": (page_ratio, page_ratio < PAGE_TARGET, f"< {PAGE_TARGET}x bare"),
    }


def judge(cases: list[Case]) -> None:
    for case in cases:
        case.target_text = "(the floor of case month)" if case.key == "floor" else ""
    for key, (_, passed, target) in verdicts(cases, lambda case: case.tool_ms).items():
        case = next(case for case in cases if case.key == key)
        case.passed, case.target_text = passed, target


def print_statements(db: Database, cases: list[Case], show_plan: bool, bare: Bare) -> None:
    """What the bare side runs: the statements SqlStore issued for each case, replayed as they are."""
    print(f"[{db.name}] the bare side replays, on one raw {db.name} connection, what SqlStore issued:")
    for case in cases:
        if case.key in ("month", "list1"):
            continue  # as year (other dates) and as the page (other limit)
        print(f"  {case.label}:")
        for statement in case.statements:
            print(f"    {short_sql(statement)}")
    if show_plan:
        aggregate = next(st for st in cases[0].statements if is_aggregate(st))
        print(f"[{db.name}] plan of the year aggregate:", *bare.explain(aggregate, db.name), sep="\n    ")


async def measure(db: Database, server: Server, city: str, repeat: int, show_plan: bool) -> list[Case]:
    engine = create_db_engine(db.url)  # the server's engine setup, in process: the "svc" column
    store = SqlStore(engine)
    bare = Bare(engine)
    try:
        cases = build_cases(store, city)
        print_statements(db, cases, show_plan, bare)
        async with Client(f"{server.url}/mcp") as client:
            for case in cases:
                await measure_case(case, client, bare, repeat)
        judge(cases)
        return cases
    finally:
        bare.close()
        engine.dispose()


# ------------------------------------------------------------------------------------------- report


def print_report(db: Database, cases: list[Case], customers: int, orders: int) -> None:
    print()
    print(f"== {db.name}: {db.where}, {customers:,} customers, {orders:,} orders ==")
    header = (
        f"{'case':<44} {'tool ms':>8} {'(check)':>8} {'svc ms':>7} {'bare ms':>8} {'ratio':>7}  {'target':<34} result"
    )
    print(header)
    print("-" * len(header))
    for case in cases:
        result = "" if case.passed is None else ("PASS" if case.passed else "MISS")
        print(
            f"{case.label:<44} {case.tool_ms:8.2f} {case.check_ms:8.2f} {case.svc_ms:7.2f} {case.bare_ms:8.2f}"
            f" {case.ratio:6.2f}x  {case.target_text:<34} {result}".rstrip()
        )
    server_only = verdicts(cases, lambda case: case.tool_ms - case.check_ms)
    parts = [
        f"{key} {value:.2f}{' ms' if key == 'month' else 'x'} {'PASS' if passed else 'MISS'}"
        for key, (value, passed, _) in server_only.items()
    ]
    print(f"without the client's schema check (tool - check): {', '.join(parts)}")
    load = db.load
    if load is None:
        print("bulk load: reused a database filled before this load log existed (--refill to measure)")
    else:
        how = f"reused; measured when filled {load.when[:19]}" if db.reused else "this run"
        print(
            f"bulk load ({how}): {load.rows:,} rows inserted at {load.insert_rate:,.0f} rows/s"
            f" ({load.insert_s:.1f} s), indexes {load.index_s:.1f} s, ANALYZE {load.analyze_s:.1f} s"
            f" -> {load.overall_rate:,.0f} rows/s overall; numpy data {load.generate_s:.2f} s"
        )
    if orders < 1_000_000:
        print("(the targets are set for 1M orders; on a smaller run they are informational only)")


def print_legend() -> None:
    print()
    print("tool    = the MCP tool through mcp.Client over Streamable HTTP to `salesmcp serve` (a subprocess)")
    print("(check) = part of tool: the client re-validating structured output against the output schema")
    print("svc     = the same service function on SqlStore in the benchmark process (no MCP, no HTTP)")
    print("bare    = the same SQL on one raw DBAPI connection (sqlite3 / psycopg autocommit), rows fetched")
    print("all medians after one warm-up, tool/svc/bare interleaved; ratio = tool / bare")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both", help="default both")
    parser.add_argument("--customers", type=int, default=10_000, help="customers (default 10000)")
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders (default 1000000)")
    parser.add_argument("--seed", type=int, default=0, help="numpy seed of the synthetic data")
    parser.add_argument("--refill", action="store_true", help="reload the databases even if their counts match")
    parser.add_argument("--repeat", type=int, default=30, help="timed rounds per case (default 30)")
    parser.add_argument("--city", default="Eindhoven", help="city to query (default Eindhoven)")
    parser.add_argument("--pg-admin-url", default=POSTGRES_ADMIN_URL, help="PostgreSQL server to create the db on")
    parser.add_argument("--pg-database", default=POSTGRES_DATABASE, help=f"database name (default {POSTGRES_DATABASE})")
    parser.add_argument("--startup-timeout", type=float, default=60.0, help="seconds to wait for /health")
    parser.add_argument("--plan", action="store_true", help="print the year aggregate's query plan")
    args = parser.parse_args()
    if args.customers < 1 or args.orders < 1 or args.repeat < 1:
        parser.error("counts must be positive")
    return args


def main() -> int:
    args = parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    databases = []
    if args.db in ("sqlite", "both"):
        databases.append(sqlite_database(args.customers, args.orders, args.seed))
    if args.db in ("postgresql", "both"):
        databases.append(postgres_database(args.pg_admin_url, args.pg_database))

    results: list[tuple[Database, list[Case]]] = []
    failed = False
    for db in databases:
        try:
            ensure_filled(db, (args.customers, args.orders, args.seed), args.refill, args.pg_admin_url)
            with running_server(db, args.startup_timeout) as server:
                results.append((db, asyncio.run(measure(db, server, args.city, args.repeat, args.plan))))
        except (RuntimeError, Unavailable, psycopg.OperationalError, sqlite3.Error) as exc:
            print(f"error: {db.name}: {exc}", file=sys.stderr)
            failed = True
    for db, cases in results:
        print_report(db, cases, args.customers, args.orders)
    if results:
        print_legend()

    problems = [f"{db.name} {case.label}: {p}" for db, cases in results for case in cases for p in case.problems]
    if problems:
        print("\nANSWERS DIFFER (tool vs bare):", *problems[:30], sep="\n  ")
        return 1
    if failed:
        return 2
    print("\nanswers agree (tool == bare: totals, counts, revenue per customer in cents, customer pages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
