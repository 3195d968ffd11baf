"""The metrics layer at ten million orders: query_metrics vs the bare SQL on the same database vs DuckDB over a
Parquet export of the same data, side by side in one run (SQLite, PostgreSQL, MariaDB).

Run from the repository root:

    python bench/bench_analytics.py                                      # the three 10M databases (filled before)
    python bench/bench_analytics.py --database sqlite                    # one of them
    python bench/bench_analytics.py --database sqlite --orders 20000     # smoke run: scratch data, about a minute

What it does, per database:

1. **Data.** At ``--orders 10000000`` (the default) the databases filled beforehand with
   ``salesmcp generate --rows 10000000 --seed 42`` (``--url NAME=URL`` to name others); at any other size a
   scratch database filled here with seed 42 (SQLite: ``bench/.data/analytics.db``, kept and reused at the same
   size; PostgreSQL and MariaDB: a scratch database, dropped afterwards).
2. **Parquet.** The six tables, the columns the catalogue reads (money as DECIMAL(18,2)), exported once by
   DuckDB's scanner into ``bench/.data/parquet-<db>/`` (reused while the source's largest ids are unchanged).
3. **Ours.** ``query_metrics`` on a store opened as the server opens it (the DuckDB copy engine, copies in
   ``bench/.data/copies``). The copy is built first (``replica.refresh()``, timed: the cold start cost), then a
   fresh store is opened: each question's first call is "cold", the median of ``--repeat`` more is "warm".
4. **References**, question by question right after ours: the same question written by hand in DuckDB SQL over
   ``read_parquet`` views (median of ``--repeat``), and in the database's own SQL through the driver
   (``--bare-repeat`` times, 1 by default: seconds to minutes at 10M). Answers must be equal to the cent: ours
   and the bare SQL's each against DuckDB's (ratios at the catalogue's rounding).
5. **Freshness.** The first answer after (a) one customer moved to another city, and after it moved back; (b) a
   generation run of ``--append-orders`` (mode append), whose rows are deleted afterwards (by id past the
   largest before it) and the copy rebuilt, so the data is left as it was.

Prints a line per step as it goes, then a summary per database (targets: warm median <= 1 s on SQLite and
PostgreSQL, <= 2 s on MariaDB; median ratio to DuckDB over Parquet <= 3x), peak RSS, and a Markdown table.
Exit code 1 when an answer differs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import text
from sqlalchemy.engine import make_url

from salesmcp.config import Settings
from salesmcp.services import generator
from salesmcp.services.analytics import query_metrics
from salesmcp.store.replica import attach_statements, extension_directory, replica_path
from salesmcp.store.sql_store import SqlStore, open_store

DATA = Path("bench/.data")
COPIES = DATA / "copies"
FULL_ORDERS = 10_000_000
FULL_URLS = {
    "sqlite": f"sqlite:///{(DATA / 'analytics-10m.db').resolve().as_posix()}",
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/bench_analytics",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/bench_analytics",
}
TIME_TARGET = {"sqlite": 1.0, "postgresql": 1.0, "mariadb": 2.0}  # seconds, warm median
RATIO_TARGET = 3.0  # median of ours warm / DuckDB over Parquet
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TABLES_CHILD_FIRST = ("returns", "order_items", "payments", "shipments", "orders", "products", "customers")
# What the Parquet export holds: the columns the catalogue reads, money exact.
EXPORT: dict[str, dict[str, str]] = {
    "customers": {"id": "BIGINT", "custid": "VARCHAR", "name": "VARCHAR", "city": "VARCHAR", "country": "VARCHAR"},
    "products": {"id": "BIGINT", "sku": "VARCHAR", "name": "VARCHAR", "category": "VARCHAR"},
    "orders": {"id": "BIGINT", "customer_id": "BIGINT", "order_date": "DATE", "status": "VARCHAR",
               "total": "DECIMAL(18,2)"},
    "order_items": {"id": "BIGINT", "order_id": "BIGINT", "product_id": "BIGINT", "quantity": "INTEGER",
                    "line_total": "DECIMAL(18,2)"},
    "payments": {"id": "BIGINT", "order_id": "BIGINT", "method": "VARCHAR"},
    "shipments": {"id": "BIGINT", "order_id": "BIGINT", "carrier": "VARCHAR", "delivered_at": "TIMESTAMP"},
}  # fmt: skip
SCANNERS = {"sqlite": "sqlite_scanner", "postgresql": "postgres_scanner", "mysql": "mysql_scanner"}


def say(message: str) -> None:
    print(message, flush=True)


# ------------------------------------------------------------------------------------------ the hand-written SQL


@dataclass(frozen=True)
class Sql:
    """How the hand-written queries say a few things on one engine."""

    name: str
    month: str  # {d}: YYYY-MM
    quarter: str  # {d}: YYYY-Qn
    weekday: str  # {d}: 0 = Monday
    days: str  # calendar days from the date {d} to the date of the timestamp {t}
    money: str  # a money column {x} as summed exactly
    scale: Decimal  # what one unit of that sum is in euros
    city_is: str  # {column} is the city {value} (ignoring case)

    def counted(self, value: str) -> str:
        return f"sum(CASE WHEN o.status <> 'CANCELLED' THEN {value} ELSE 0 END)"

    def cash(self, column: str) -> str:
        return self.counted(self.money.format(x=column))


DIALECTS = {
    "sqlite": Sql(
        "sqlite",
        month="strftime('%Y-%m', {d})",
        quarter="strftime('%Y', {d}) || '-Q' || ((CAST(strftime('%m', {d}) AS INTEGER) + 2) / 3)",
        weekday="(CAST(strftime('%w', {d}) AS INTEGER) + 6) % 7",
        days="julianday(date({t})) - julianday({d})",
        money="round({x} * 100)",  # SQLite keeps NUMERIC as REAL: integer cents sum exactly
        scale=Decimal("0.01"),
        city_is="lower({column}) = lower({value})",  # the index on lower(city)
    ),
    "postgresql": Sql(
        "postgresql",
        month="to_char({d}, 'YYYY-MM')",
        quarter="to_char({d}, 'YYYY-\"Q\"Q')",
        weekday="CAST(extract(isodow FROM {d}) AS integer) - 1",
        days="CAST({t} AS date) - {d}",
        money="{x}",
        scale=Decimal(1),
        city_is="lower({column}) = lower({value})",
    ),
    "mariadb": Sql(
        "mariadb",
        month="date_format({d}, '%Y-%m')",
        quarter="concat(year({d}), '-Q', quarter({d}))",
        weekday="weekday({d})",
        days="datediff({t}, {d})",
        money="{x}",
        scale=Decimal(1),
        # the city index (case- and accent-insensitive collation), then the exact comparison
        city_is="{column} = {value} AND lower({column}) COLLATE utf8mb4_bin = lower({value})",
    ),
    "duckdb": Sql(
        "duckdb",
        month="strftime({d}, '%Y-%m')",
        quarter="concat(year({d}), '-Q', quarter({d}))",
        weekday="isodow({d}) - 1",
        days="CAST({t} AS DATE) - {d}",
        money="{x}",
        scale=Decimal(1),
        city_is="lower({column}) = lower({value})",
    ),
}


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


LINES = "FROM order_items i JOIN orders o ON o.id = i.order_id JOIN products p ON p.id = i.product_id"


def q_month(s: Sql, ctx: dict[str, str]) -> list[str]:
    return [f"SELECT {s.month.format(d='o.order_date')} AS k, {s.cash('o.total')} AS money, {s.counted('1')} AS n "
            "FROM orders o GROUP BY 1"]  # fmt: skip


def q_category(s: Sql, ctx: dict[str, str]) -> list[str]:
    return [f"SELECT p.category AS k, {s.cash('i.line_total')} AS money, {s.counted('i.quantity')} AS units "
            f"{LINES} GROUP BY p.category"]  # fmt: skip


def q_cities(s: Sql, ctx: dict[str, str]) -> list[str]:
    return [f"SELECT c.city AS k, {s.cash('o.total')} AS money FROM orders o JOIN customers c ON c.id = o.customer_id "
            "GROUP BY c.city ORDER BY money DESC, k LIMIT 10"]  # fmt: skip


def q_payment(s: Sql, ctx: dict[str, str]) -> list[str]:
    return [f"SELECT pay.method AS k, {s.cash('o.total')} AS money FROM orders o "
            "LEFT JOIN payments pay ON pay.order_id = o.id "
            "WHERE o.order_date BETWEEN '2026-01-01' AND '2026-03-31' GROUP BY pay.method"]  # fmt: skip


def q_weekday(s: Sql, ctx: dict[str, str]) -> list[str]:
    return [f"SELECT {s.weekday.format(d='o.order_date')} AS k, {s.counted('1')} AS n FROM orders o GROUP BY 1"]


def q_quarter(s: Sql, ctx: dict[str, str]) -> list[str]:
    # new customers: each customer's earliest counted order date, by its quarter (ties on a date share a quarter)
    return [
        f"SELECT a.k, a.customers, coalesce(b.new_customers, 0) AS new_customers FROM "
        f"(SELECT {s.quarter.format(d='o.order_date')} AS k, "
        "count(DISTINCT CASE WHEN o.status <> 'CANCELLED' THEN o.customer_id END) AS customers "
        "FROM orders o GROUP BY 1) a LEFT JOIN "
        f"(SELECT {s.quarter.format(d='f.first_day')} AS k, count(*) AS new_customers FROM "
        "(SELECT customer_id, min(order_date) AS first_day FROM orders WHERE status <> 'CANCELLED' "
        "GROUP BY customer_id) f GROUP BY 1) b ON b.k = a.k"
    ]


def q_carrier(s: Sql, ctx: dict[str, str]) -> list[str]:
    delivered = "o.status <> 'CANCELLED' AND s.delivered_at IS NOT NULL"
    days = s.days.format(t="s.delivered_at", d="o.order_date")
    return [f"SELECT s.carrier AS k, sum(CASE WHEN {delivered} THEN {days} ELSE 0 END) AS days, "
            f"sum(CASE WHEN {delivered} THEN 1 ELSE 0 END) AS delivered, "
            "sum(CASE WHEN o.status = 'CANCELLED' THEN 1 ELSE 0 END) AS cancelled, count(*) AS all_orders "
            "FROM orders o LEFT JOIN shipments s ON s.order_id = o.id GROUP BY s.carrier"]  # fmt: skip


def q_products(s: Sql, ctx: dict[str, str]) -> list[str]:
    return [f"SELECT p.sku AS k, {s.cash('i.line_total')} AS money {LINES} GROUP BY p.sku "
            "ORDER BY money DESC, k LIMIT 20"]  # fmt: skip


def q_country(s: Sql, ctx: dict[str, str]) -> list[str]:
    return [f"SELECT c.country AS k, {s.cash('o.total')} AS money FROM orders o "
            f"JOIN customers c ON c.id = o.customer_id WHERE o.order_date BETWEEN '{first}' AND '{last}' "
            "GROUP BY c.country"
            for first, last in (("2026-01-01", "2026-06-30"), ("2025-01-01", "2025-06-30"))]  # fmt: skip


def q_city_category(s: Sql, ctx: dict[str, str]) -> list[str]:
    city = s.city_is.format(column="c.city", value=literal(ctx["top_city"]))
    return [f"SELECT p.category AS k, {s.cash('i.line_total')} AS money {LINES} "
            f"JOIN customers c ON c.id = o.customer_id "
            f"WHERE {city} AND o.order_date BETWEEN '2026-01-01' AND '2026-12-31' GROUP BY p.category"]  # fmt: skip


def number(value: object) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def ratio(numerator: Decimal, denominator: Decimal, places: int) -> Decimal | None:
    if denominator == 0:
        return None
    return (numerator / denominator).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def euros(s: Sql, value: object) -> Decimal:
    return number(value) * s.scale


Values = dict[str, Decimal | None]


def v_month(s: Sql, money: object, n: object) -> Values:
    return {"revenue": euros(s, money), "orders": number(n),
            "average_order_value": ratio(euros(s, money), number(n), 2)}  # fmt: skip


def v_category(s: Sql, money: object, units: object) -> Values:
    return {"net_sales": euros(s, money), "units": number(units)}


def v_revenue(s: Sql, money: object) -> Values:
    return {"revenue": euros(s, money)}


def v_net_sales(s: Sql, money: object) -> Values:
    return {"net_sales": euros(s, money)}


def v_orders(s: Sql, n: object) -> Values:
    return {"orders": number(n)}


def v_customers(s: Sql, customers: object, new: object) -> Values:
    return {"customers": number(customers), "new_customers": number(new)}


def v_carrier(s: Sql, days: object, delivered: object, cancelled: object, every: object) -> Values:
    return {"average_delivery_days": ratio(number(days), number(delivered), 2),
            "cancellation_rate": ratio(number(cancelled), number(every), 4)}  # fmt: skip


def v_compared(s: Sql, money: object, previous: object) -> Values:
    return {"revenue": euros(s, money), "revenue_previous": None if previous is None else euros(s, previous)}


TOP_CITY = "<the top city by revenue>"  # filled in at run time from the top-cities answer


@dataclass(frozen=True)
class Case:
    """A question, once as query_metrics arguments, and by hand: SQL per engine, its row → the metrics."""

    name: str
    question: dict[str, Any]
    statements: Callable[[Sql, dict[str, str]], list[str]]
    values: Callable[..., Values]
    ordered: bool = False  # a top N: the order is part of the answer

    def asked(self, ctx: dict[str, str]) -> dict[str, Any]:
        filters = self.question.get("filters")
        if not filters:
            return dict(self.question)
        return {**self.question, "filters": {k: ctx["top_city"] if v == TOP_CITY else v for k, v in filters.items()}}


CASES = [
    Case("revenue, orders, AOV by month",
         {"metrics": ["revenue", "orders", "average_order_value"], "group_by": ["month"]}, q_month, v_month),
    Case("net sales, units by category", {"metrics": ["net_sales", "units"], "group_by": ["category"]},
         q_category, v_category),
    Case("top 10 cities by revenue", {"metrics": ["revenue"], "group_by": ["city"], "order_by": "-revenue",
                                      "limit": 10}, q_cities, v_revenue, ordered=True),
    Case("revenue by payment method, Q1 2026", {"metrics": ["revenue"], "group_by": ["payment_method"],
         "start_date": "2026-01-01", "end_date": "2026-03-31"}, q_payment, v_revenue),
    Case("orders by weekday", {"metrics": ["orders"], "group_by": ["weekday"]}, q_weekday, v_orders),
    Case("customers, new customers by quarter", {"metrics": ["customers", "new_customers"], "group_by": ["quarter"]},
         q_quarter, v_customers),
    Case("delivery days, cancel rate by carrier",
         {"metrics": ["average_delivery_days", "cancellation_rate"], "group_by": ["carrier"]}, q_carrier, v_carrier),
    Case("top 20 products by net sales", {"metrics": ["net_sales"], "group_by": ["product"], "order_by": "-net_sales",
                                          "limit": 20}, q_products, v_net_sales, ordered=True),
    Case("revenue by country, H1 2026 vs 2025", {"metrics": ["revenue"], "group_by": ["country"],
         "start_date": "2026-01-01", "end_date": "2026-06-30", "compare": "previous_year"}, q_country, v_compared),
    Case("net sales by category, top city, 2026", {"metrics": ["net_sales"], "group_by": ["category"],
         "filters": {"city": TOP_CITY}, "start_date": "2026-01-01", "end_date": "2026-12-31"},
         q_city_category, v_net_sales),
]  # fmt: skip

Answer = list[tuple[tuple[object, ...], Values]]


def reference_answer(case: Case, s: Sql, results: list[list[tuple[Any, ...]]]) -> Answer:
    """The hand-written queries' rows as (group, metrics)."""
    rows = results[0]
    if len(results) == 2:  # a comparison: the earlier window's value beside each group of the window
        earlier = {row[0]: row[1] for row in results[1]}
        rows = [(row[0], row[1], earlier.get(row[0])) for row in rows]
    weekday = case.question["group_by"] == ["weekday"]
    out: Answer = []
    for row in rows:
        key = row[0]
        key = None if key is None else WEEKDAYS[int(key)] if weekday else str(key)
        out.append(((key,), case.values(s, *row[1:])))
    return out


def ours_answer(case: Case, answer: dict[str, Any]) -> Answer:
    metrics = list(case.question["metrics"])
    if case.question.get("compare"):
        metrics += [f"{name}_previous" for name in case.question["metrics"]]
    return [
        (tuple(row[name] for name in case.question["group_by"]),
         {name: None if row[name] is None else number(row[name]) for name in metrics})
        for row in answer["rows"]
    ]  # fmt: skip


def differences(case: Case, got: Answer, expected: Answer) -> list[str]:
    """Empty when equal; else a few lines saying where."""
    if case.ordered:
        if got == expected:
            return []
        return [f"#{n}: {a} vs {b}" for n, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b][:3] or [
            f"{len(got)} rows vs {len(expected)}"
        ]
    mine, theirs = dict(got), dict(expected)
    if mine == theirs and len(got) == len(expected):
        return []
    keys = sorted({*mine, *theirs} - {k for k in mine if mine.get(k) == theirs.get(k)}, key=str)
    return [f"{key}: {mine.get(key)} vs {theirs.get(key)}" for key in keys[:3]] or ["duplicate groups"]


# ---------------------------------------------------------------------------------------------------- the data


def open_bench_store(url: str) -> SqlStore:
    return open_store(Settings(_env_file=None, database_url=url, seed_demo_data=False, analytics_dir=COPIES))


def fill(url: str, orders: int) -> None:
    """The scratch database holds exactly ``orders`` generated orders (seed 42), else it is made anew."""
    store = open_store(Settings(_env_file=None, database_url=url, seed_demo_data=False, analytics_engine="database"))
    try:
        if generator.summary(store).counts["orders"] == orders:
            return
        generator.reset(store)
        request = generator.build_request({"rows": orders, "seed": 42}, 42, 10**8)
        run, todo = generator.prepare_run(store, request)
        if todo:
            generator.run_generation(store, run.id, 10_000)
    finally:
        store.close()


def largest_ids(store: SqlStore) -> dict[str, int]:
    with store.reading() as connection:
        return {name: int(connection.execute(text(f"SELECT max(id) FROM {name}")).scalar() or 0)
                for name in (*TABLES_CHILD_FIRST, "generation_runs")}  # fmt: skip


def duckdb_config() -> dict[str, Any]:
    directory = extension_directory()
    if directory is None:
        raise SystemExit("the duckdb-ext-* packages are not installed (pip install -e '.[dev]')")
    return {"extension_directory": directory.as_posix(), "autoinstall_known_extensions": False,
            "autoload_known_extensions": False}  # fmt: skip


def export_parquet(url: str, folder: Path, ids: dict[str, int]) -> tuple[float, bool]:
    """The six tables as Parquet files in ``folder`` (kept while the source's largest ids are the same);
    returns the seconds it took and whether it was made now."""
    parsed = make_url(url)
    manifest = {"url": parsed.render_as_string(hide_password=True), "largest_ids": ids}
    stamp = folder / "manifest.json"
    if stamp.exists():
        kept = json.loads(stamp.read_text())
        if {k: kept.get(k) for k in manifest} == manifest:
            return float(kept.get("seconds", 0)), False
    started = time.perf_counter()
    scratch = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    connection = duckdb.connect(config=duckdb_config())
    try:
        connection.execute(f"LOAD {SCANNERS[parsed.get_backend_name()]}")
        for statement in attach_statements(parsed):
            connection.execute(statement)
        for table, columns in EXPORT.items():
            casts = ", ".join(f"CAST({column} AS {kind}) AS {column}" for column, kind in columns.items())
            target = (scratch / f"{table}.parquet").resolve().as_posix()
            connection.execute(f"COPY (SELECT {casts} FROM src.{table}) TO {literal(target)} (FORMAT parquet)")
    finally:
        connection.close()
    seconds = time.perf_counter() - started
    (scratch / "manifest.json").write_text(json.dumps({**manifest, "seconds": round(seconds, 1)}, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    scratch.rename(folder)
    return seconds, True


def parquet_connection(folder: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    for table in EXPORT:
        path = (folder / f"{table}.parquet").resolve().as_posix()
        connection.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet({literal(path)})")
    return connection


class Bare:
    """The database's own SQL through its driver (the connection SQLAlchemy's pool hands out), each statement
    bounded by ``timeout`` seconds."""

    def __init__(self, store: SqlStore, kind: str, timeout: float) -> None:
        self.kind = kind
        self.timeout = timeout
        self.raw = store.engine.raw_connection()
        self.deadline = 0.0
        cursor = self.raw.cursor()
        if kind == "sqlite":
            self.raw.driver_connection.set_progress_handler(
                lambda: 1 if time.monotonic() > self.deadline else 0, 100_000
            )
        elif kind == "postgresql":
            cursor.execute(f"SET statement_timeout = {int(timeout * 1000)}")
        else:
            cursor.execute(f"SET SESSION max_statement_time = {timeout}")
        cursor.close()
        self.raw.commit()

    def run(self, statements: list[str]) -> list[list[tuple[Any, ...]]]:
        results = []
        cursor = self.raw.cursor()
        try:
            for statement in statements:
                self.deadline = time.monotonic() + self.timeout
                cursor.execute(statement)
                results.append([tuple(row) for row in cursor.fetchall()])
        finally:
            cursor.close()
            self.raw.rollback()
        return results

    def close(self) -> None:
        self.raw.invalidate()  # its timeout (and SQLite's progress handler) must not go back to the pool


# ---------------------------------------------------------------------------------------------------- measuring


@dataclass
class Figures:
    case: Case
    cold: float = 0.0
    warm: float = 0.0
    engine: str = ""
    calls: int = 0
    syncs: int = 0  # calls of ours that brought the copy up to date first (the database moved)
    parquet: float = 0.0
    bare: float | None = None
    bare_error: str | None = None
    bare_shown: str = "-"  # the bare column: its median, or "> N s" when it ran out of time
    ours_equal: bool = False
    bare_equal: bool | None = None


@dataclass
class Report:
    kind: str
    url: str
    orders: int
    export_seconds: float = 0.0
    exported: bool = False
    build_seconds: float = 0.0
    figures: list[Figures] = field(default_factory=list)
    freshness: dict[str, str] = field(default_factory=dict)
    peak_rss_mib: float | None = None
    load: list[str] = field(default_factory=list)  # the load average at the start and at the end
    error: str | None = None


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = call()
    return time.perf_counter() - began, result


def seconds_text(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def load_average() -> str:
    try:
        return "/".join(f"{value:.1f}" for value in os.getloadavg())
    except (AttributeError, OSError):  # Windows
        return "?"


def peak_rss_mib() -> float | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def ask(store: SqlStore, question: dict[str, Any], figures: Figures) -> dict[str, Any]:
    """query_metrics, counting the calls that first brought the copy up to date (the database had moved)."""
    assert store.replica is not None
    signal = store.replica.synced_signal
    answer = query_metrics(store, **question)
    figures.calls += 1
    figures.syncs += store.replica.synced_signal != signal
    return answer


def measure(kind: str, url: str, orders: int, parquet_folder: Path, args: argparse.Namespace) -> Report:
    report = Report(kind, url, orders, load=[load_average()])
    label = f"[{kind}]"
    say(f"{label} load average {report.load[0]} (1/5/15 min)")
    store = open_bench_store(url)
    try:
        if store.replica is None:
            raise SystemExit(f"{kind}: the store has no columnar copy (ANALYTICS_ENGINE?)")
        ids = largest_ids(store)
        say(f"{label} {make_url(url).render_as_string(hide_password=True)}: largest ids: orders {ids['orders']:,}, "
            f"order_items {ids['order_items']:,}, customers {ids['customers']:,}")  # fmt: skip
        report.export_seconds, report.exported = export_parquet(url, parquet_folder, ids)
        say(f"{label} Parquet in {parquet_folder}: {'exported in' if report.exported else 'found (made in'} "
            f"{report.export_seconds:.1f} s{'' if report.exported else ')'}")  # fmt: skip
        report.build_seconds, _ = timed(store.replica.refresh)
        say(f"{label} the DuckDB copy built in {report.build_seconds:.1f} s ({store.replica.path})")
    finally:
        store.close()

    parquet = parquet_connection(parquet_folder)
    s_parquet = DIALECTS["duckdb"]
    top = reference_answer(CASES[2], s_parquet, [parquet.execute(q).fetchall() for q in CASES[2].statements(
        s_parquet, {})])  # fmt: skip
    ctx = {"top_city": str(top[0][0][0]), "second_city": str(top[1][0][0])}
    say(f"{label} the top city is {ctx['top_city']}")

    store = open_bench_store(url)  # a fresh store: the copy as a newly started server finds it
    bare = Bare(store, kind, args.bare_timeout) if args.bare_repeat > 0 else None
    answers: dict[str, dict[str, Any]] = {}
    try:
        for number_, case in enumerate(CASES, 1):
            figures = Figures(case)
            question = case.asked(ctx)
            figures.cold, answer = timed(lambda f=figures, q=question: ask(store, q, f))
            warm = []
            for _ in range(args.repeat):
                seconds, answer = timed(lambda f=figures, q=question: ask(store, q, f))
                warm.append(seconds)
            figures.warm = statistics.median(warm) if warm else figures.cold
            figures.engine = answer["as_of"]["engine"]
            answers[case.name] = answer
            ours = ours_answer(case, answer)

            statements = case.statements(s_parquet, ctx)
            times = []
            for _ in range(max(1, args.repeat)):
                seconds, results = timed(lambda st=statements: [parquet.execute(q).fetchall() for q in st])
                times.append(seconds)
            figures.parquet = statistics.median(times)
            expected = reference_answer(case, s_parquet, results)
            wrong = differences(case, ours, expected)
            figures.ours_equal = not wrong
            notes = [f"ours DIFFER: {line}" for line in wrong]

            if bare is not None:
                sql = DIALECTS[kind]
                times = []
                try:
                    statements = case.statements(sql, ctx)
                    for _ in range(args.bare_repeat):
                        seconds, results = timed(lambda st=statements: bare.run(st))
                        times.append(seconds)
                    figures.bare = statistics.median(times)
                    figures.bare_shown = seconds_text(figures.bare)
                    wrong = differences(case, reference_answer(case, sql, results), expected)
                    figures.bare_equal = not wrong
                    notes += [f"bare DIFFER: {line}" for line in wrong]
                except Exception as exc:
                    figures.bare_error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                    if any(word in figures.bare_error for word in ("timeout", "max_statement_time", "interrupted")):
                        figures.bare_shown = f"> {args.bare_timeout:g} s"
                    notes.append(f"bare failed: {figures.bare_error}")
            report.figures.append(figures)
            verdicts = f"ours {'equal' if figures.ours_equal else 'DIFFER'}"
            if figures.bare_equal is not None:
                verdicts += f", bare {'equal' if figures.bare_equal else 'DIFFER'}"
            synced = f", {figures.syncs} synced" if figures.syncs else ""
            say(f"{label} {number_:2}. {case.name:<40} ours cold {seconds_text(figures.cold):>8} "
                f"warm {seconds_text(figures.warm):>8} ({figures.engine}{synced})  "
                f"parquet {seconds_text(figures.parquet):>7}"
                f"  bare {figures.bare_shown:>8}  {verdicts}")  # fmt: skip
            for line in notes:
                say(f"{label}     {line}")
        if args.freshness:
            freshness(store, kind, ctx, answers, args, report)
    finally:
        if bare is not None:
            bare.close()
        parquet.close()
        store.close()
    report.peak_rss_mib = peak_rss_mib()
    report.load.append(load_average())
    return report


def revenues(answer: dict[str, Any]) -> dict[object, Decimal]:
    return {row["city"]: number(row["revenue"]) for row in answer["rows"]}


def freshness(
    store: SqlStore, kind: str, ctx: dict[str, str], answers: dict[str, dict[str, Any]], args: argparse.Namespace,
    report: Report,
) -> None:  # fmt: skip
    """The first answers after writes: a customer moved to another city and back; a small generation run."""
    label = f"[{kind}]"
    sql = DIALECTS[kind]
    cities = CASES[2].asked(ctx)
    before = revenues(answers[CASES[2].name])
    with store.reading() as connection:
        customer, spent = None, Decimal(0)
        for (candidate,) in connection.execute(
            text("SELECT id FROM customers WHERE city = :city ORDER BY id LIMIT 50"), {"city": ctx["top_city"]}
        ):
            money = connection.execute(
                text(f"SELECT {sql.cash('o.total')} FROM orders o WHERE o.customer_id = :id"), {"id": candidate}
            ).scalar()
            if money:
                customer, spent = candidate, euros(sql, money)
                break
    if customer is None:
        say(f"{label} freshness: no customer of {ctx['top_city']} with orders")
        return

    def move(city: str) -> None:
        with store.transaction() as connection:
            connection.execute(text("UPDATE customers SET city = :city WHERE id = :id"), {"city": city, "id": customer})

    try:
        move(ctx["second_city"])
        moved_seconds, moved = timed(lambda: query_metrics(store, **cities))
    finally:
        move(ctx["top_city"])
    now = revenues(moved)
    seen = (now.get(ctx["top_city"]) == before[ctx["top_city"]] - spent
            and now.get(ctx["second_city"]) == before[ctx["second_city"]] + spent)  # fmt: skip
    back_seconds, back = timed(lambda: query_metrics(store, **cities))
    same_again = revenues(back) == before
    after_seconds, _ = timed(lambda: query_metrics(store, **cities))
    report.freshness["customer moved"] = (
        f"{seconds_text(moved_seconds)} (the move {'seen' if seen else 'NOT SEEN'}); moved back "
        f"{seconds_text(back_seconds)} ({'as before' if same_again else 'NOT AS BEFORE'}); next call "
        f"{seconds_text(after_seconds)}"
    )
    say(f"{label} freshness: customer {customer} ({ctx['top_city']} -> {ctx['second_city']}, {spent:.2f} EUR): "
        f"{report.freshness['customer moved']}")  # fmt: skip

    if args.append_orders <= 0:
        return
    month = CASES[0].asked(ctx)
    total_before = number(answers[CASES[0].name]["totals"]["orders"])
    largest = largest_ids(store)
    try:
        request = generator.build_request({"rows": args.append_orders, "seed": 7, "mode": "append"}, 42, 10**8)
        run_seconds, _ = timed(lambda: generator.run_generation(store, generator.prepare_run(store, request)[0].id,
                                                                10_000))  # fmt: skip
        with store.reading() as connection:
            added = connection.execute(
                text("SELECT count(*) FROM orders WHERE id > :id AND status <> 'CANCELLED'"), {"id": largest["orders"]}
            ).scalar_one()
        first_seconds, first = timed(lambda: query_metrics(store, **month))
        seen = number(first["totals"]["orders"]) == total_before + added
        next_seconds, _ = timed(lambda: query_metrics(store, **month))
    finally:
        with store.transaction() as connection:
            for name in (*TABLES_CHILD_FIRST, "generation_runs"):
                connection.execute(text(f"DELETE FROM {name} WHERE id > :id"), {"id": largest[name]})
    restored = largest_ids(store) == largest
    rebuild_seconds, _ = timed(store.replica.refresh)  # rows vanished: the copy is made anew
    again = query_metrics(store, **month)
    as_before = ours_answer(CASES[0], again) == ours_answer(CASES[0], answers[CASES[0].name])
    report.freshness["generation run"] = (
        f"run of {args.append_orders:,} orders {seconds_text(run_seconds)}; first answer "
        f"{seconds_text(first_seconds)} ({'the run seen' if seen else 'run NOT SEEN'}); next call "
        f"{seconds_text(next_seconds)}; undone ({'ids as before' if restored else 'IDS NOT AS BEFORE'}), copy "
        f"rebuilt in {seconds_text(rebuild_seconds)} ({'answers as before' if as_before else 'ANSWERS CHANGED'})"
    )
    say(f"{label} freshness: {report.freshness['generation run']}")


# ---------------------------------------------------------------------------------------------------- output


def summary(reports: list[Report]) -> bool:
    """Prints the tables; True when every answer was equal."""
    all_equal = True
    markdown = [
        "| database | question | ours cold | ours warm | bare SQL | DuckDB on Parquet | ours / DuckDB | ours / bare "
        "| ≤ target | answers |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for report in reports:
        say("")
        if report.error:
            say(f"== {report.kind}: FAILED: {report.error}")
            all_equal = False
            continue
        limit = TIME_TARGET[report.kind]
        say(f"== {report.kind}: {report.orders:,} orders; copy built in {report.build_seconds:.1f} s; Parquet "
            f"export {report.export_seconds:.1f} s{'' if report.exported else ' (earlier run)'}; load average "
            f"{' -> '.join(report.load)}")  # fmt: skip
        say(f"{'question':<40} {'cold':>8} {'warm':>8} {'bare':>8} {'parquet':>8} {'/duckdb':>8} {'/bare':>7} "
            f"{'target':>7}  answers")  # fmt: skip
        ratios = []
        for f in report.figures:
            to_duckdb = f.warm / f.parquet if f.parquet else float("inf")
            ratios.append(to_duckdb)
            to_bare = f"{f.warm / f.bare:.2g}x" if f.bare else "-"
            met = "yes" if f.warm <= limit else "NO"
            answers = "equal" if f.ours_equal else "DIFFER"
            if f.bare_equal is not None:
                answers += ", bare " + ("equal" if f.bare_equal else "DIFFER")
            elif f.bare_error:
                answers += ", bare timed out" if f.bare_shown.startswith(">") else ", bare failed"
            all_equal &= f.ours_equal and f.bare_equal is not False
            engine = "" if f.engine == "duckdb" else f" (engine {f.engine})"
            if f.syncs:
                engine += f" ({f.syncs} of {f.calls} calls synced the copy first)"
            say(f"{f.case.name:<40} {seconds_text(f.cold):>8} {seconds_text(f.warm):>8} {f.bare_shown:>8} "
                f"{seconds_text(f.parquet):>8} {to_duckdb:7.2f}x {to_bare:>7} {met:>7}  {answers}{engine}")  # fmt: skip
            markdown.append(
                f"| {report.kind} | {f.case.name} | {seconds_text(f.cold)} | {seconds_text(f.warm)} | "
                f"{f.bare_shown} | {seconds_text(f.parquet)} | {to_duckdb:.2f}× | {to_bare.replace('x', '×')} "
                f"| {met} | {answers}{engine} |"
            )
        median_ratio = statistics.median(ratios) if ratios else float("nan")
        slowest = max((f.warm for f in report.figures), default=0.0)
        say(f"median ours warm / DuckDB on Parquet: {median_ratio:.2f}x (target <= {RATIO_TARGET:g}x: "
            f"{'met' if median_ratio <= RATIO_TARGET else 'MISSED'}); slowest warm {seconds_text(slowest)} "
            f"(target <= {limit:g} s: {'met' if slowest <= limit else 'MISSED'})")  # fmt: skip
        for name, line in report.freshness.items():
            say(f"freshness, {name}: {line}")
        if report.peak_rss_mib is not None:
            say(f"peak RSS of this process so far: {report.peak_rss_mib:,.0f} MiB")
        markdown.append(
            f"| {report.kind} | **median ratio to DuckDB** | | | | | **{median_ratio:.2f}×** | | "
            f"{'yes' if median_ratio <= RATIO_TARGET else 'NO'} | |"
        )
    say("")
    say("Markdown (docs/benchmarks.md):")
    say("")
    say("\n".join(markdown))
    return all_equal


def databases(args: argparse.Namespace) -> Iterator[tuple[str, str, Path, contextlib.AbstractContextManager]]:
    """Each database to measure: its kind, URL, Parquet folder, and what to clean up after it."""
    overrides = dict(item.split("=", 1) for item in args.url)
    for kind in args.database:
        if args.orders == FULL_ORDERS or kind in overrides:
            yield kind, overrides.get(kind, FULL_URLS[kind]), DATA / f"parquet-{kind}", contextlib.nullcontext()
            continue
        folder = DATA / f"parquet-{kind}-{args.orders}"
        if kind == "sqlite":
            url = f"sqlite:///{(DATA / 'analytics.db').resolve().as_posix()}"
            fill(url, args.orders)
            yield kind, url, folder, contextlib.nullcontext()
            continue
        from harness import scratch_database

        with scratch_database(kind, "analytics") as url:
            say(f"[{kind}] filling a scratch database with {args.orders:,} orders")
            fill(url, args.orders)
            cleanup = contextlib.ExitStack()
            cleanup.callback(shutil.rmtree, folder, True)
            copy = replica_path(COPIES, make_url(url))
            for path in (copy, copy.with_name(copy.name + ".wal")):
                cleanup.callback(path.unlink, True)
            yield kind, url, folder, cleanup


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database", nargs="+", choices=list(FULL_URLS), default=list(FULL_URLS))
    parser.add_argument(
        "--orders",
        type=int,
        default=FULL_ORDERS,
        help="10000000: the databases filled beforehand; any other size: scratch data",
    )
    parser.add_argument("--repeat", type=int, default=3, help="warm calls of ours and DuckDB runs per question")
    parser.add_argument("--bare-repeat", type=int, default=1, help="runs of the bare SQL per question (0: none)")
    parser.add_argument("--bare-timeout", type=float, default=900, help="seconds one bare statement may take")
    parser.add_argument("--append-orders", type=int, default=1000, help="orders of the freshness run (0: none)")
    parser.add_argument("--no-freshness", dest="freshness", action="store_false", help="skip the freshness part")
    parser.add_argument("--url", action="append", default=[], metavar="NAME=URL", help="another database's URL")
    args = parser.parse_args()  # fmt: skip
    DATA.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    reports = []
    for kind, url, folder, cleanup in databases(args):
        with cleanup:
            try:
                reports.append(measure(kind, url, args.orders, folder, args))
            except Exception as exc:
                say(f"[{kind}] FAILED: {type(exc).__name__}: {exc}")
                reports.append(Report(kind, url, args.orders, error=f"{type(exc).__name__}: {exc}"))
    equal = summary(reports)
    say(f"\n{time.perf_counter() - started:.0f} s in all")
    sys.exit(0 if equal else 1)


if __name__ == "__main__":
    main()
