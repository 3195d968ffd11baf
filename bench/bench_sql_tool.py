"""The read-only SQL tool's cost: the parser guard alone, the database's read-only path, and the whole tool call
(``run_sql``), each against the same SQL run bare through the driver, side by side in one run.

Run from the repository root:

    python bench/bench_sql_tool.py                                   # SQLite, PostgreSQL, MariaDB: about 1-2 minutes
    python bench/bench_sql_tool.py --databases sqlite                # one of them
    python bench/bench_sql_tool.py --databases sqlite --orders 0     # smoke run on the 12 demo orders

What it does, per database:

1. **Data.** A scratch database with the schema and demo data (``open_engine(url)``), then ``salesmcp generate
   --rows N`` (``--orders``, default 20000), in a scratch database of this run (``harness.scratch_database``:
   SQLite ``bench/.data/salesmcp_bench_sql_<pid>.sqlite``, PostgreSQL and MariaDB ``salesmcp_bench_sql_<pid>``
   on the local server); all removed at the end.
2. **Five analyst queries** of different sizes, in the database's own SQL: a count, a join + group-by, a CTE with
   window functions, a UNION ALL of three group-bys, and a 46-line report (five CTEs, joins, a window).
3. Per query:
   a. **guard alone**: ``check_query`` (sqlglot in the database's dialect) in a tight loop, median of
      ``--guard-repeat`` calls (target <= 1 ms);
   b. interleaved rounds (the order rotated each round, so a shared machine's drift hits all alike), medians:
      **guard in the call**, ``check_query`` between the database calls, as it runs in a tool call (its caches
      colder than in the loop): what the guard adds to each call; **bare**, the SQL on an already open DB-API
      connection (sqlite3 / psycopg / PyMySQL, autocommit, a plain cursor: ``execute`` +
      ``fetchmany(limit + 1)``); **read-only**, ``ReadOnlyDatabase.run`` (pool checkout, the read-only
      transaction, timeout, server-side cursor, rollback and reset; no guard); **whole**, ``run_sql`` (limit
      checks, guard, read-only run, JSON shaping). Rounds: as many as fit in ``--seconds`` per query, between 7
      and ``--repeat``.
   c. Honesty: the read-only path's rows equal the bare rows, and ``run_sql`` returns as many.
4. Prints a table per database (guard alone and in the call, bare, read-only, whole; read-only - bare and
   whole - bare in ms and as ratios; whole - read-only, i.e. guard + shaping as measured inside the call), a
   summary table and a Markdown table for docs/benchmarks.md.

Exit code 1 when the guard's median exceeds 1 ms on any query; 2 when a query was refused or failed, answers
differed, or a database was unavailable.
"""

from __future__ import annotations

import argparse
import gc
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness import Table, dbapi_dsn, load_average, median_ms, scratch_database, time_sync
from sqlalchemy.engine import make_url

from salesmcp.services.sql import check_query, run_sql
from salesmcp.store.database import open_engine
from salesmcp.store.read_only import ReadOnlyDatabase

DATABASES = ("sqlite", "postgresql", "mariadb")
GUARD_TARGET_MS = 1.0
MAX_ROWS = 1000  # SQL_MAX_ROWS's default
# A month 'YYYY-MM' of the date column {d}, per database.
MONTH = {
    "sqlite": "strftime('%Y-%m', {d})",
    "postgresql": "to_char({d}, 'YYYY-MM')",
    "mariadb": "date_format({d}, '%Y-%m')",
}


def say(message: str) -> None:
    print(message, flush=True)


# ------------------------------------------------------------------------------------------------ the queries


def queries(database: str) -> list[tuple[str, str]]:
    """(name, SQL) of the five analyst queries in ``database``'s SQL."""
    month = MONTH[database].format(d="order_date")
    return [
        ("count", "SELECT count(*) FROM orders"),
        (
            "join + group-by",
            """SELECT c.city, count(*) AS orders, sum(o.total) AS revenue
FROM orders o
JOIN customers c ON c.id = o.customer_id
WHERE o.status <> 'CANCELLED'
GROUP BY c.city
ORDER BY revenue DESC, c.city
LIMIT 20""",
        ),
        (
            "CTE + window",
            f"""WITH monthly AS (
    SELECT {month} AS month, count(*) AS orders, sum(total) AS revenue
    FROM orders
    WHERE status <> 'CANCELLED'
    GROUP BY {month}
)
SELECT month, orders, revenue,
       sum(revenue) OVER (ORDER BY month) AS running_revenue,
       revenue - lag(revenue) OVER (ORDER BY month) AS change_from_previous,
       rank() OVER (ORDER BY revenue DESC) AS revenue_rank
FROM monthly
ORDER BY month""",
        ),
        (
            "UNION ALL",
            """SELECT 'payment method' AS kind, method AS name, count(*) AS n FROM payments GROUP BY method
UNION ALL
SELECT 'carrier', carrier, count(*) FROM shipments GROUP BY carrier
UNION ALL
SELECT 'category', category, count(*) FROM products GROUP BY category
ORDER BY kind, n DESC, name""",
        ),
        (
            "long report",
            """-- Best customers of 2026: first order, spend, favourite category, deliveries
WITH counted AS (
    SELECT o.id, o.customer_id, o.order_date, o.total
    FROM orders o
    WHERE o.status <> 'CANCELLED'
),
firsts AS (
    SELECT customer_id, min(order_date) AS first_order
    FROM counted
    GROUP BY customer_id
),
spend AS (
    SELECT customer_id, count(*) AS orders, sum(total) AS revenue, avg(total) AS average_order
    FROM counted
    WHERE order_date >= '2026-01-01' AND order_date < '2027-01-01'
    GROUP BY customer_id
),
categories AS (
    SELECT c.customer_id, p.category, sum(i.line_total) AS spent,
           row_number() OVER (PARTITION BY c.customer_id ORDER BY sum(i.line_total) DESC, p.category) AS place
    FROM counted c
    JOIN order_items i ON i.order_id = c.id
    JOIN products p ON p.id = i.product_id
    WHERE c.order_date >= '2026-01-01' AND c.order_date < '2027-01-01'
    GROUP BY c.customer_id, p.category
),
deliveries AS (
    SELECT c.customer_id,
           count(s.delivered_at) AS delivered,
           sum(CASE WHEN s.id IS NULL THEN 1 ELSE 0 END) AS not_shipped
    FROM counted c
    LEFT JOIN shipments s ON s.order_id = c.id
    GROUP BY c.customer_id
)
SELECT cu.custid, cu.name, cu.city, cu.country,
       f.first_order, sp.orders, sp.revenue, sp.average_order,
       ca.category AS favourite_category, ca.spent AS favourite_spent,
       d.delivered, d.not_shipped
FROM spend sp
JOIN customers cu ON cu.id = sp.customer_id
JOIN firsts f ON f.customer_id = sp.customer_id
LEFT JOIN categories ca ON ca.customer_id = sp.customer_id AND ca.place = 1
LEFT JOIN deliveries d ON d.customer_id = sp.customer_id
WHERE sp.orders >= 2
ORDER BY sp.revenue DESC, cu.custid
LIMIT 50""",
        ),
    ]


# ------------------------------------------------------------------------------------------------- the data


def fill(url: str, orders: int) -> None:
    started = time.perf_counter()
    open_engine(url).dispose()
    if orders:
        command = [sys.executable, "-m", "salesmcp", "generate", "--rows", str(orders), "--quiet"]
        subprocess.run([*command, "--database-url", url], check=True, stdout=subprocess.DEVNULL, timeout=600)
    say(f"  data: schema + demo data + {orders:,} generated orders in {time.perf_counter() - started:.1f} s")


# ------------------------------------------------------------------------------------------------ bare driver


def bare_connection(database: str, url: str) -> Any:
    """A plain DB-API connection, autocommit: what a script that skips every guard would use."""
    if database == "sqlite":
        return sqlite3.connect(make_url(url).database or "", isolation_level=None, check_same_thread=False)
    if database == "postgresql":
        import psycopg

        return psycopg.connect(dbapi_dsn(url), autocommit=True)
    import pymysql

    parsed = make_url(url)
    return pymysql.connect(
        host=parsed.host,
        port=parsed.port or 3306,
        user=parsed.username,
        password=parsed.password or "",
        database=parsed.database,
        charset="utf8mb4",
        autocommit=True,
    )


def bare_run(connection: Any, sql: str, limit: int) -> list[tuple[Any, ...]]:
    cursor = connection.cursor()
    try:
        cursor.execute(sql)
        rows = cursor.fetchmany(limit + 1)
    finally:
        cursor.close()
    return [tuple(row) for row in rows[:limit]]


# ------------------------------------------------------------------------------------------------ measuring


@dataclass
class Result:
    database: str
    query: str
    lines: int
    rows: int = 0
    guard: float | None = None  # ms, median: check_query in a tight loop
    guard_in_call: float | None = None  # check_query timed within the interleaved rounds
    bare: float | None = None
    read_only: float | None = None
    whole: float | None = None
    rounds: int = 0
    problem: str = ""


def interleaved(calls: dict[str, Callable[[], Any]], seconds: float, least: int, most: int) -> tuple[dict, int]:
    """Median ms of each call over rounds that run every call once, in an order rotated each round."""
    names = list(calls)
    started = time.perf_counter()
    for call in calls.values():  # warm-up round
        call()
    one_round = max(time.perf_counter() - started, 1e-6)
    rounds = max(least, min(most, int(seconds / one_round)))
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            t0 = time.perf_counter()
            calls[name]()
            samples[name].append(time.perf_counter() - t0)
    return {name: median_ms(values) for name, values in samples.items()}, rounds


def measure(database: str, url: str, args: argparse.Namespace) -> list[Result]:
    results = []
    read_only = ReadOnlyDatabase(url, args.timeout)
    dialect = read_only.dialect  # SQLAlchemy's: sqlite, postgresql, mysql
    connection = bare_connection(database, url)
    try:
        for name, sql in queries(database):
            result = Result(database, name, sql.count("\n") + 1)
            results.append(result)
            try:
                result.guard, _ = time_sync(lambda sql=sql: check_query(sql, dialect), args.guard_repeat)
            except Exception as exc:
                result.problem = f"guard refused it: {exc}"
            calls: dict[str, Callable[[], Any]] = {
                "guard": lambda sql=sql: check_query(sql, dialect),
                "bare": lambda sql=sql: bare_run(connection, sql, args.limit),
                "read_only": lambda sql=sql: read_only.run(sql, args.limit),
            }
            if result.guard is None:
                del calls["guard"]
            else:
                calls["whole"] = lambda sql=sql: run_sql(read_only, sql, args.limit, MAX_ROWS)
            try:
                bare_rows = bare_run(connection, sql, args.limit)
                fetched = read_only.run(sql, args.limit)
                result.rows = len(bare_rows)
                if fetched.rows != bare_rows and [tuple(r) for r in fetched.rows] != bare_rows:
                    result.problem = result.problem or "the read-only path's rows differ from the bare rows"
                if "whole" in calls and run_sql(read_only, sql, args.limit, MAX_ROWS)["row_count"] != len(bare_rows):
                    result.problem = result.problem or "run_sql's row count differs from the bare rows"
                medians, result.rounds = interleaved(calls, args.seconds, 7, args.repeat)
            except Exception as exc:
                result.problem = result.problem or f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                say(f"  {name}: {result.problem}")
                continue
            result.bare, result.read_only, result.whole = medians["bare"], medians["read_only"], medians.get("whole")
            result.guard_in_call = medians.get("guard")
            guard = (
                "refused" if result.guard is None else f"{result.guard:.3f} ms ({result.guard_in_call:.3f} in the call)"
            )
            whole = "-" if result.whole is None else f"{result.whole:.2f} ms"
            say(
                f"  {name}: {result.rows} rows; guard {guard}, bare {result.bare:.2f} ms, "
                f"read-only {result.read_only:.2f} ms, whole {whole} ({result.rounds} rounds)"
                + (f"  !! {result.problem}" if result.problem else "")
            )
    finally:
        connection.close()
        read_only.close()
    return results


# ------------------------------------------------------------------------------------------------ printing


def ms(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def diff(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else f"{a - b:+.2f}"


def ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or not b else f"{a / b:.2f}x"


def print_database(results: list[Result]) -> None:
    table = Table(
        ["query", "lines", "rows", "guard ms", "in call", "bare ms", "read-only ms", "ro - bare", "ro / bare",
         "whole ms", "whole - bare", "whole / bare", "whole - ro", "guard <= 1 ms"]
    )  # fmt: skip
    for r in results:
        ok = "-" if r.guard is None else ("PASS" if r.guard <= GUARD_TARGET_MS else "MISS")
        table.add(
            r.query, r.lines, r.rows, ms(r.guard, 3), ms(r.guard_in_call, 3), ms(r.bare), ms(r.read_only),
            diff(r.read_only, r.bare), ratio(r.read_only, r.bare), ms(r.whole), diff(r.whole, r.bare),
            ratio(r.whole, r.bare), diff(r.whole, r.read_only), ok,
        )  # fmt: skip
    table.print()


def spread(values: list[float], digits: int = 2, suffix: str = "") -> str:
    if not values:
        return "-"
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:.{digits}f}{suffix} ({low:.{digits}f}-{high:.{digits}f})"


def print_summary(results: list[Result], databases: list[str]) -> None:
    say("\nSummary (median over the queries, range in brackets):")
    table = Table(["database", "guard ms", "guard in call ms", "read-only - bare ms", "read-only / bare",
                   "whole - bare ms", "whole / bare", "guard <= 1 ms"])  # fmt: skip
    for database in databases:
        rs = [r for r in results if r.database == database]
        if not rs:
            continue
        guards = [r.guard for r in rs if r.guard is not None]
        both = [r for r in rs if r.bare and r.read_only is not None]
        wholes = [r for r in both if r.whole is not None]
        worst = max(guards, default=None)
        table.add(
            database,
            spread(guards, 3),
            spread([r.guard_in_call for r in rs if r.guard_in_call is not None], 3),
            spread([r.read_only - r.bare for r in both]),  # type: ignore[operator]
            spread([r.read_only / r.bare for r in both], suffix="x"),  # type: ignore[operator]
            spread([r.whole - r.bare for r in wholes]),  # type: ignore[operator]
            spread([r.whole / r.bare for r in wholes], suffix="x"),  # type: ignore[operator]
            "-" if worst is None else ("PASS" if worst <= GUARD_TARGET_MS else f"MISS ({worst:.3f} ms)"),
        )
    table.print()
    say("\nMarkdown (docs/benchmarks.md):\n")
    say("| query | database | guard alone / in the call | bare | read-only path (vs bare) | whole call (vs bare) |")
    say("|---|---|---|---|---|---|")
    for r in results:
        if r.bare is None:
            continue
        say(
            f"| {r.query} | {r.database} | {ms(r.guard, 2)} / {ms(r.guard_in_call, 2)} ms | {ms(r.bare)} ms | "
            f"{ms(r.read_only)} ms ({diff(r.read_only, r.bare)} ms, {ratio(r.read_only, r.bare)}) | "
            f"{ms(r.whole)} ms ({diff(r.whole, r.bare)} ms, {ratio(r.whole, r.bare)}) |"
        )


# ------------------------------------------------------------------------------------------------ main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--databases", nargs="+", choices=DATABASES, default=list(DATABASES), metavar="NAME",
                        help="databases to measure: sqlite postgresql mariadb (default all three)")  # fmt: skip
    parser.add_argument("--orders", type=int, default=20000, help="orders generated beyond the demo data (0: none)")
    parser.add_argument("--limit", type=int, default=100, help="rows asked for (run_sql's limit; default 100)")
    parser.add_argument("--guard-repeat", type=int, default=300, help="check_query calls per query (default 300)")
    parser.add_argument("--seconds", type=float, default=5.0, help="time for the interleaved rounds of one query")
    parser.add_argument("--repeat", type=int, default=60, help="most interleaved rounds per query (default 60)")
    parser.add_argument("--timeout", type=float, default=10.0, help="SQL_TIMEOUT of the read-only path (s)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    say(
        f"bench_sql_tool: {', '.join(args.databases)}; {args.orders:,} generated orders; limit {args.limit}; "
        f"Python {platform.python_version()}; load average {load_average()}"
    )
    results: list[Result] = []
    unavailable = []
    gc.collect()
    for database in args.databases:
        say(f"\n== {database}")
        try:
            with scratch_database(database, "sql") as url:
                fill(url, args.orders)
                rs = measure(database, url, args)
        except Exception as exc:
            unavailable.append(database)
            say(f"  {database}: unavailable or failed: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
            continue
        results += rs
        say("")
        print_database(rs)
    print_summary(results, args.databases)
    say(f"\nload average at the end: {load_average()}")
    code = 0
    over = [r for r in results if r.guard is not None and r.guard > GUARD_TARGET_MS]
    if over:
        listed = ", ".join(f"{r.database} {r.query} {r.guard:.3f} ms" for r in over)
        say(f"MISS: the guard's median exceeds {GUARD_TARGET_MS:g} ms per call on: {listed}")
        code = 1
    problems = [r for r in results if r.problem]
    for r in problems:
        say(f"PROBLEM: {r.database} {r.query}: {r.problem}")
    if unavailable:
        say(f"UNAVAILABLE: {', '.join(unavailable)}")
    if problems or unavailable:
        code = 2
    if code == 0:
        say(f"PASS: the guard's median is at most {GUARD_TARGET_MS:g} ms per call on every query")
    return code


if __name__ == "__main__":
    sys.exit(main())
