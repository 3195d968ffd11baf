"""Generator benchmark (seed 002): speed and memory of `salesmcp generate`, each against its bare reference.

Run (from the repository root; the full size takes about 10-15 minutes on 2 cores):

    python bench/bench_generator.py                                   # 1M orders, every part
    python bench/bench_generator.py --orders 20000 --faker-orders 2000 --memory-orders 20000,100000   # smoke

Measured side by side in one run (see bench/README.md for each line):

1. gen:     generation alone (``Plan`` blocks, no database; rows of all seven tables) vs DuckDB's TPC-H
            ``CALL dbgen(sf)`` at a similar row count, alternating; target ours >= 0.5x dbgen rows/s.
2. load:    end to end into SQLite, PostgreSQL and MariaDB (``prepare_run`` + ``run_generation``, as
            ``salesmcp generate`` does) vs a bare bulk load of the same rows, made beforehand and held in
            memory, through the database's fastest path; target >= 0.8x the bare rows/s (issue 16; seed 002 asked 0.5x).
2b. files:  ``salesmcp generate --out DIR --format parquet`` (a real process) vs the Rust TPC-H generator
            ``tpchgen-cli --format parquet`` writing about as many rows, alternating; MB/s and rows/s of the
            files written, target ours >= 1.0x its MB/s; and the peak RSS of ours at --orders and a tenth of it
            (flat memory: target < 1.5x).
3. faker:   a straightforward generator calling Faker per field (smaller count); target ours >= 20x.
4. memory:  peak RSS of a real ``salesmcp generate`` subprocess into SQLite at two sizes; target < 1.5x.
5. latency: ``GET /health`` and the MCP tool ``get_customer`` on a real ``salesmcp serve`` while it runs a
            generation started with ``POST /generate`` vs idle; median and p95, target <= 3x.

Exit code 0 unless something is broken: 1 when row counts or sums disagree, 2 when a server or a
database is unavailable. PASS/MISS lines are informational.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import shlex
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from harness import (
    DATA_ROOT,
    ChildRun,
    Table,
    dbapi_dsn,
    load_average,
    median_ms,
    mib,
    percentile,
    rate,
    run_measured,
    running_salesmcp,
    scratch_database,
    stopwatch,
    verdict,
)

from salesmcp.config import Settings
from salesmcp.services.generator import GenerationRequest, prepare_run, run_generation
from salesmcp.services.generator.load import python_columns, text_rows
from salesmcp.services.generator.make import TABLE_COLUMNS, Chunk, Plan
from salesmcp.services.generator.pools import CATEGORIES, locale_pool
from salesmcp.store.database import create_db_engine, open_engine
from salesmcp.store.sql_store import SqlStore

PARTS = ("gen", "load", "files", "faker", "memory", "latency")
DATABASES = ("sqlite", "postgresql", "mariadb")
TABLES = ("products", "customers", "orders", "order_items", "payments", "shipments", "returns")  # parents first
TPCH_ROWS_PER_SF = 6_001_215 + 1_500_000 + 800_000 + 200_000 + 150_000 + 10_000 + 25 + 5  # all 8 tables at sf=1
TARGETS = {"gen": 0.5, "load": 0.8, "files": 1.0, "faker": 20.0, "memory": 1.5, "latency": 3.0}
BASE_ENV = {"SEED_DEMO_DATA": "false", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
broken: list[str] = []  # answers that disagree (exit 1)
unavailable: list[str] = []  # servers or databases that did not answer (exit 2)


@dataclass
class Ratio:
    """One line of the final table."""

    what: str
    ours: str
    reference: str
    ratio: float
    target: str
    passed: bool


ratios: list[Ratio] = []


def add_ratio(what: str, ours: str, reference: str, ratio: float, key: str) -> None:
    """A line of the final table; ``key`` names the target (at least for speed, below for memory and latency)."""
    target = TARGETS[key]
    if key == "memory":
        ratios.append(Ratio(what, ours, reference, ratio, f"< {target}x", ratio < target))
    elif key == "latency":
        ratios.append(Ratio(what, ours, reference, ratio, f"<= {target:g}x", ratio <= target))
    else:
        ratios.append(Ratio(what, ours, reference, ratio, f">= {target:g}x", ratio >= target))


def section(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


# ------------------------------------------------------------------------------------ 1. generation


def request(orders: int, seed: int, batch_size: int | None = None, **more: Any) -> GenerationRequest:
    return GenerationRequest(rows=orders, seed=seed, batch_size=batch_size, **more)


def make_all(plan: Plan, sink: Callable[[Chunk], None] | None = None) -> dict[str, int]:
    """Every row of a run as ``salesmcp generate`` makes them (products, customers, blocks of orders); counts."""
    counts = dict.fromkeys(TABLES, 0)
    chunks = (
        *(plan.product_chunk(b) for b in range(plan.product_blocks)),
        *(plan.customer_chunk(b) for b in range(plan.customer_blocks)),
    )
    for chunk in chunks:
        counts[chunk.table] += len(chunk)
        if sink is not None:
            sink(chunk)
    for block in range(plan.order_blocks):
        for chunk in plan.order_block(block).chunks():
            counts[chunk.table] += len(chunk)
            if sink is not None:
                sink(chunk)
    return counts


def ours_generation(orders: int, seed: int) -> tuple[float, int, dict[str, int]]:
    """Seconds and rows of one cold generation (the locale pools are rebuilt, as a new process does)."""
    locale_pool.cache_clear()
    with stopwatch() as took:
        counts = make_all(Plan(request(orders, seed)))
    return took[0], sum(counts.values()), counts


def dbgen(sf: float) -> tuple[float, int, dict[str, int]]:
    """Seconds of ``CALL dbgen(sf=…)`` into a fresh in-memory DuckDB, and the rows of its eight tables."""
    import duckdb

    con = duckdb.connect()
    try:
        with stopwatch() as took:
            con.execute(f"CALL dbgen(sf={sf})")
        tables = [name for (name,) in con.execute("SHOW TABLES").fetchall()]
        counts = {name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in tables}
    finally:
        con.close()
    return took[0], sum(counts.values()), counts


def part_generation(args: argparse.Namespace) -> float:
    """Ours vs dbgen, alternating ``--gen-repeat`` times; returns our median rows/s."""
    import duckdb

    section(f"1. generation alone: {args.orders:,} orders vs DuckDB {duckdb.__version__} dbgen")
    ours_s, dbgen_s = [], []
    ours_rows = dbgen_rows = 0
    sf = 0.0
    for round_ in range(args.gen_repeat):
        seconds, ours_rows, counts = ours_generation(args.orders, args.seed)
        ours_s.append(seconds)
        if round_ == 0:
            print("  ours: " + ", ".join(f"{name} {n:,}" for name, n in counts.items()) + f" = {ours_rows:,} rows")
            sf = max(0.001, round(ours_rows / TPCH_ROWS_PER_SF, 3))
        seconds_db, dbgen_rows, db_counts = dbgen(sf)
        dbgen_s.append(seconds_db)
        if round_ == 0:
            threads = duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0]
            print(f"  dbgen sf={sf} ({threads} threads): {dbgen_rows:,} rows in {len(db_counts)} tables")
        print(f"  round {round_ + 1}: ours {seconds:6.2f} s ({rate(ours_rows, seconds)})   "
              f"dbgen {seconds_db:6.2f} s ({rate(dbgen_rows, seconds_db)})", flush=True)  # fmt: skip
    ours_rate = ours_rows / (median_ms(ours_s) / 1000)
    dbgen_rate = dbgen_rows / (median_ms(dbgen_s) / 1000)
    ratio = ours_rate / dbgen_rate
    print(f"  medians: ours {ours_rate:,.0f} rows/s, dbgen {dbgen_rate:,.0f} rows/s -> {ratio:.2f}x")
    add_ratio("generation alone vs TPC-H dbgen", f"{ours_rate:,.0f}/s", f"{dbgen_rate:,.0f}/s", ratio, "gen")
    return ours_rate


# ------------------------------------------------------------------------------- 2. end to end load


@dataclass
class Made:
    """The rows of a run, made beforehand in a database's load format, held in memory."""

    counts: dict[str, int]
    rows: dict[str, list] = field(default_factory=dict)  # table -> tuples (SQLite) or text blocks (COPY/LOAD)
    seconds: float = 0.0


def make_rows(orders: int, seed: int, form: str) -> Made:
    """``form`` "tuples": Python tuples for executemany; "text": tab-separated text for COPY / LOAD DATA."""
    made = Made({})
    store: dict[str, list] = {name: [] for name in TABLES}

    def keep(chunk: Chunk) -> None:
        if form == "tuples":
            store[chunk.table].extend(zip(*python_columns(chunk), strict=True))
        else:
            store[chunk.table].append(text_rows(chunk))

    locale_pool.cache_clear()
    with stopwatch() as took:
        made.counts = make_all(Plan(request(orders, seed)), keep)
    made.rows, made.seconds = store, took[0]
    return made


def secondary_indexes_sqlite(con: sqlite3.Connection) -> list[tuple[str, str]]:
    marks = ", ".join("?" * len(TABLES))
    return con.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
        TABLES,
    ).fetchall()


def bare_sqlite(url: str, made: Made) -> dict[str, float]:
    """executemany of the tuples in one transaction per table, secondary indexes dropped first and built after.

    The connection is set up as the application's engine sets it (WAL, synchronous=NORMAL, foreign keys on).
    """
    path = url.removeprefix("sqlite:///")
    con = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL"):
            con.execute(f"PRAGMA {pragma}")
        indexes = secondary_indexes_sqlite(con)
        for name, _ in indexes:
            con.execute(f'DROP INDEX "{name}"')
        with stopwatch() as insert:
            for table in TABLES:
                names = [name for name, _ in TABLE_COLUMNS[table]]
                con.execute("BEGIN")
                con.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                                made.rows[table])  # fmt: skip
                con.execute("COMMIT")
        with stopwatch() as build:
            con.execute("BEGIN")
            for _, sql in indexes:
                con.execute(sql)
            con.execute("COMMIT")
    finally:
        con.close()
    return {"insert": insert[0], "indexes": build[0]}


def bare_postgresql(url: str, made: Made) -> dict[str, float]:
    """COPY FROM STDIN of the text, one transaction per table; secondary indexes and foreign keys dropped
    first and re-created after (which validates every row)."""
    import psycopg

    with psycopg.connect(dbapi_dsn(url)) as con:
        tables = list(TABLES)
        fks = con.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
            (tables,),
        ).fetchall()
        indexes = con.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) AND i.schemaname = "
            "current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            (tables,),
        ).fetchall()
        for table, name, _ in fks:
            con.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            con.execute(f'DROP INDEX "{name}"')
        con.commit()
        with stopwatch() as insert:
            for table in TABLES:
                names = ", ".join(name for name, _ in TABLE_COLUMNS[table])
                with con.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for block in made.rows[table]:
                        copy.write(block)
                con.commit()
        with stopwatch() as build:
            for _, sql in indexes:
                con.execute(sql)
            for table, name, definition in fks:
                con.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            con.commit()
    return {"insert": insert[0], "indexes": build[0]}


def bare_mariadb(url: str, made: Made) -> dict[str, float]:
    """LOAD DATA LOCAL INFILE of each table's text (files written beforehand), foreign_key_checks and
    unique_checks off; InnoDB keeps its indexes (its foreign keys need them)."""
    engine = create_db_engine(url)  # local_infile=True, as the application connects
    folder = Path(tempfile.mkdtemp(prefix="salesmcp-bench-", dir=DATA_ROOT))
    files = {}
    for table in TABLES:
        files[table] = folder / f"{table}.tsv"
        with files[table].open("wb") as out:
            out.writelines(made.rows[table])
    raw = engine.raw_connection()
    try:
        con = raw.driver_connection
        cursor = con.cursor()
        cursor.execute("SET SESSION foreign_key_checks = 0")
        cursor.execute("SET SESSION unique_checks = 0")
        with stopwatch() as insert:
            for table in TABLES:
                names = ", ".join(name for name, _ in TABLE_COLUMNS[table])
                cursor.execute(
                    f"LOAD DATA LOCAL INFILE %s INTO TABLE {table} CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' "
                    f"ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({names})",
                    (str(files[table]),),
                )
                con.commit()
        cursor.execute("SET SESSION foreign_key_checks = 1")
        cursor.execute("SET SESSION unique_checks = 1")
        cursor.close()
    finally:
        raw.close()
        engine.dispose()
        for path in files.values():
            path.unlink(missing_ok=True)
        folder.rmdir()
    return {"insert": insert[0], "indexes": 0.0}


def fingerprint(url: str) -> dict[str, int]:
    """Row counts per table, the sum of order totals in cents and of line quantities: both sides must agree."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            raw = connection.connection.driver_connection
            cursor = raw.cursor()
            out = {}
            for table in TABLES:
                cursor.execute(f"SELECT count(*) FROM {table}")
                out[table] = int(cursor.fetchone()[0])
            cursor.execute("SELECT coalesce(sum(total * 100), 0) FROM orders")
            out["sum(orders.total) cents"] = round(float(cursor.fetchone()[0]))
            cursor.execute("SELECT coalesce(sum(quantity), 0) FROM order_items")
            out["sum(order_items.quantity)"] = int(cursor.fetchone()[0])
            cursor.close()
    finally:
        engine.dispose()
    return out


def ours_end_to_end(url: str, orders: int, seed: int, batch: int) -> tuple[float, dict[str, float], dict[str, int]]:
    """``salesmcp generate``'s path in process: prepare_run, run_generation (batches, then finish)."""
    store = SqlStore(create_db_engine(url))
    marks: list[float] = []
    try:
        started = time.perf_counter()
        run, todo = prepare_run(store, request(orders, seed))
        prepared = time.perf_counter()
        if not todo:
            raise RuntimeError("the scratch database already held this run")
        result = run_generation(store, run.id, batch, on_progress=lambda _o, _r: marks.append(time.perf_counter()))
        ended = time.perf_counter()
    finally:
        store.engine.dispose()
    if result.state != "done":
        raise RuntimeError(f"run {run.id} ended {result.state}: {result.error}")
    last = marks[-1] if marks else prepared
    phases = {"prepare": prepared - started, "batches": last - prepared, "finish": ended - last}
    return ended - started, phases, dict(result.counts or {})


def part_load(args: argparse.Namespace, gen_rate: float | None) -> float | None:
    """Per database, ``--load-repeat`` rounds of: bare bulk load of pre-made rows, then ours end to end, each into
    a fresh migrated schema; the ratio of the medians (a shared machine's neighbours move single runs)."""
    section(f"2. end to end vs bare bulk load: {args.orders:,} orders, batch size {args.batch_size}, "
            f"{args.load_repeat} round(s)")  # fmt: skip
    sqlite_rate = None
    for kind in args.db:
        bare_fn = {"sqlite": bare_sqlite, "postgresql": bare_postgresql, "mariadb": bare_mariadb}[kind]
        bare_times: list[float] = []
        ours_times: list[float] = []
        try:
            for round_ in range(1, args.load_repeat + 1):
                made = make_rows(args.orders, args.seed, "tuples" if kind == "sqlite" else "text")
                rows = sum(made.counts.values())
                form = "Python tuples" if kind == "sqlite" else "COPY/LOAD DATA text"
                print(f"[{kind}] round {round_}: rows made beforehand as {form}: {rows:,} in {made.seconds:.1f} s "
                      "(not timed)", flush=True)  # fmt: skip
                with scratch_database(kind, "gen_bare") as url:
                    open_engine(url, seed=False).dispose()  # the migrated schema
                    bare = bare_fn(url, made)
                    bare_check = fingerprint(url)
                del made
                bare_s = bare["insert"] + bare["indexes"]
                print(f"[{kind}] bare: insert {bare['insert']:.1f} s + indexes {bare['indexes']:.1f} s = "
                      f"{bare_s:.1f} s ({rate(rows, bare_s)})", flush=True)  # fmt: skip
                with scratch_database(kind, "gen_ours") as url:
                    open_engine(url, seed=False).dispose()
                    ours_s, phases, counts = ours_end_to_end(url, args.orders, args.seed, args.batch_size)
                    ours_check = fingerprint(url)
                ours_rows = sum(counts.values())
                print(f"[{kind}] ours: prepare {phases['prepare']:.1f} s + batches {phases['batches']:.1f} s + "
                      f"finish {phases['finish']:.1f} s = {ours_s:.1f} s ({rate(ours_rows, ours_s)}); "
                      f"this round {(ours_rows / ours_s) / (rows / bare_s):.2f}x",
                      flush=True)  # fmt: skip
                if bare_check != ours_check:
                    diff = {k: (ours_check.get(k), bare_check.get(k)) for k in ours_check | bare_check
                            if ours_check.get(k) != bare_check.get(k)}  # fmt: skip
                    broken.append(f"{kind}: ours vs bare (ours, bare): {diff}")
                    print(f"[{kind}] DIFFERENT DATA (ours, bare): {diff}")
                elif round_ == 1:
                    print(f"[{kind}] same data: {bare_check}")
                bare_times.append(bare_s)
                ours_times.append(ours_s)
        except Exception as exc:  # a database that is not there: reported, the other parts go on
            if "connect" in str(exc).lower() or "refused" in str(exc).lower():
                print(f"[{kind}] unavailable: {type(exc).__name__}: {str(exc).splitlines()[0]}", file=sys.stderr)
                unavailable.append(kind)
                continue
            raise
        ours_rate, bare_rate = ours_rows / statistics.median(ours_times), rows / statistics.median(bare_times)
        if kind == "sqlite":
            sqlite_rate = ours_rate
        ratio = ours_rate / bare_rate
        add_ratio(f"end to end {kind} vs bare bulk load", f"{ours_rate:,.0f}/s", f"{bare_rate:,.0f}/s", ratio, "load")
    return sqlite_rate


# ------------------------------------------------------------------------------------ 2b. files


def folder_facts(folder: Path) -> tuple[int, int]:
    """Bytes and rows (from the Parquet footers) of every Parquet file below ``folder``."""
    import pyarrow.parquet as pq

    files = list(folder.rglob("*.parquet"))
    return sum(f.stat().st_size for f in files), sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def part_files(args: argparse.Namespace) -> None:
    import shutil

    tpchgen = shutil.which("tpchgen-cli")
    section(f"2b. straight to Parquet files: {args.orders:,} orders vs tpchgen-cli ({tpchgen or 'not installed'})")
    if tpchgen is None:
        unavailable.append("tpchgen-cli (pip install tpchgen-cli)")
        return
    runs: dict[str, list[tuple[float, int, int, int]]] = {"ours": [], "tpchgen": []}
    sf = None
    for round_ in range(args.gen_repeat):
        with tempfile.TemporaryDirectory(dir=DATA_ROOT) as ours_dir, tempfile.TemporaryDirectory(dir=DATA_ROOT) as tp:
            command = [sys.executable, "-m", "salesmcp", "generate", "--rows", str(args.orders), "--seed",
                       str(args.seed), "--out", ours_dir, "--format", "parquet", "--quiet"]  # fmt: skip
            child = run_measured(command, env=BASE_ENV, cwd=DATA_ROOT, timeout=args.memory_timeout)
            if child.returncode != 0:
                broken.append(f"generate --out exited {child.returncode}: {child.stderr[-500:]}")
                return
            size, rows = folder_facts(Path(ours_dir))
            runs["ours"].append((child.seconds, size, rows, child.peak_rss))
            if sf is None:
                sf = max(0.01, round(rows / TPCH_ROWS_PER_SF, 2))
            reference = run_measured([tpchgen, "parquet", "--scale-factor", str(sf), "--output-dir", tp],
                                     timeout=args.memory_timeout)  # fmt: skip
            if reference.returncode != 0:
                broken.append(f"tpchgen-cli exited {reference.returncode}: {reference.stderr[-500:]}")
                return
            tp_size, tp_rows = folder_facts(Path(tp))
            runs["tpchgen"].append((reference.seconds, tp_size, tp_rows, reference.peak_rss))
        for name, values in runs.items():
            seconds, size, rows, peak = values[-1]
            print(f"  round {round_ + 1} {name:8}: {seconds:6.2f} s, {size / 2**20:8.1f} MB, {rows:>11,} rows -> "
                  f"{size / 2**20 / seconds:7.1f} MB/s, {rate(rows, seconds)}; peak RSS {mib(peak)}",
                  flush=True)  # fmt: skip
    medians = {name: median_ms([r[0] for r in values]) / 1000 for name, values in runs.items()}
    mbs = {name: values[0][1] / 2**20 / medians[name] for name, values in runs.items()}
    row_rate = {name: values[0][2] / medians[name] for name, values in runs.items()}
    print(f"  medians: ours {mbs['ours']:.1f} MB/s, {row_rate['ours']:,.0f} rows/s; tpchgen-cli sf={sf} "
          f"{mbs['tpchgen']:.1f} MB/s, {row_rate['tpchgen']:,.0f} rows/s (both processes, start included)")  # fmt: skip
    add_ratio("files: MB/s vs tpchgen-cli", f"{mbs['ours']:.1f} MB/s", f"{mbs['tpchgen']:.1f} MB/s",
              mbs["ours"] / mbs["tpchgen"], "files")  # fmt: skip
    add_ratio("files: rows/s vs tpchgen-cli", f"{row_rate['ours']:,.0f}/s", f"{row_rate['tpchgen']:,.0f}/s",
              row_rate["ours"] / row_rate["tpchgen"], "files")  # fmt: skip
    small = max(1, args.orders // 10)
    with tempfile.TemporaryDirectory(dir=DATA_ROOT) as folder:
        command = [sys.executable, "-m", "salesmcp", "generate", "--rows", str(small), "--seed", str(args.seed),
                   "--out", folder, "--format", "parquet", "--quiet"]  # fmt: skip
        child = run_measured(command, env=BASE_ENV, cwd=DATA_ROOT, timeout=args.memory_timeout)
    large_peak = runs["ours"][0][3]
    print(f"  peak RSS of generate --out: {small:,} orders {mib(child.peak_rss)}, {args.orders:,} {mib(large_peak)}")
    add_ratio(f"files: peak RSS {args.orders:,} vs {small:,} orders", mib(large_peak), mib(child.peak_rss),
              large_peak / child.peak_rss, "memory")  # fmt: skip


# ------------------------------------------------------------------------------- 3. Faker per field


def faker_generate(orders: int, seed: int, phases: dict[str, float] | None = None) -> dict[str, int]:
    """A straightforward generator calling Faker per field: every value drawn (names, e-mails, cities,
    phones, product names, categories, prices, dates and times, quantities, choices, references) is one
    Faker call; only the arithmetic (line totals, tax, totals) is plain Python. Python loops, the same
    tables, columns and ratios as ours (rows as tuples in lists).

    ``phases`` receives the seconds of the products and customers, and of the orders.
    """
    from collections import OrderedDict

    from faker import Faker

    started = time.perf_counter()
    req = request(orders, seed)
    locales = OrderedDict(req.locales)
    fakers = {name: Faker(name) for name in locales}
    for number, fake in enumerate(fakers.values()):
        fake.seed_instance(seed + number)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    start = dt.datetime.combine(req.start_date, dt.time())
    end = dt.datetime.combine(req.end_date, dt.time(23, 59, 59))
    out: dict[str, list] = {name: [] for name in TABLES}
    categories = OrderedDict((category, 1.0) for category in CATEGORIES)

    for i in range(1, req.n_products + 1):
        name, prefix, median, _sigma, _nouns = fake.random_element(categories)
        price = float(fake.pydecimal(left_digits=3, right_digits=2, positive=True, max_value=median * 4))
        created = fake.date_time_between(start - dt.timedelta(days=1000), start)
        stock = fake.random_int(100, 5000)
        active = fake.boolean(97)
        out["products"].append((i, f"{prefix}-{i:07d}", fake.catch_phrase(), name, price, stock, active, created))
    for i in range(1, req.n_customers + 1):
        person = fakers[fake.random_element(locales)]
        first, last = person.first_name(), person.last_name()
        created = fake.date_time_between(start - dt.timedelta(days=730), start)
        out["customers"].append((i, f"{i:03d}", f"{first} {last}", first, last, person.email(), person.phone_number(),
                                 person.city(), person.current_country(), "active", created, created))  # fmt: skip
    dimensions_done = time.perf_counter()
    prices = [row[4] for row in out["products"]]
    plan = Plan(req)
    methods, carriers = OrderedDict(plan.methods), OrderedDict(plan.carriers)
    item_id = payment_id = shipment_id = 0
    for order_id in range(1, orders + 1):
        placed = fake.date_time_between(start, end)
        subtotal = 0.0
        for _ in range(fake.random_int(1, req.max_items_per_order // 2 + 1)):
            product = fake.random_int(0, len(prices) - 1)
            quantity = fake.random_int(1, 3)
            line_total = round(prices[product] * quantity, 2)
            subtotal += line_total
            item_id += 1
            out["order_items"].append((item_id, order_id, product + 1, quantity, prices[product], line_total))
        tax = round(subtotal * req.tax_rate, 2)
        shipping = 0.0 if subtotal >= req.free_shipping_from else req.shipping_fee
        total = round(subtotal + tax + shipping, 2)
        outcome = fake.pyfloat(min_value=0, max_value=1)
        paid_at = placed + dt.timedelta(seconds=fake.random_int(60, 3600))
        shipped_at = paid_at + dt.timedelta(hours=fake.random_int(4, 72))
        delivered_at = shipped_at + dt.timedelta(hours=fake.random_int(18, 96))
        status = "PLACED"
        if outcome < req.cancel_rate:
            status = "CANCELLED"
        elif outcome >= req.cancel_rate + req.unpaid_rate and paid_at <= end:
            status = "PAID"
            payment_id += 1
            out["payments"].append((payment_id, order_id, fake.random_element(methods), total, req.currency,
                                    paid_at, fake.bothify("T#################")))  # fmt: skip
            if shipped_at <= end:
                status = "DELIVERED" if delivered_at <= end else "SHIPPED"
                shipment_id += 1
                out["shipments"].append((shipment_id, order_id, fake.random_element(carriers),
                                         fake.bothify("??#############"), shipped_at,
                                         delivered_at if status == "DELIVERED" else None,
                                         "DELIVERED" if status == "DELIVERED" else "IN_TRANSIT"))  # fmt: skip
        out["orders"].append((order_id, fake.random_int(1, req.n_customers), placed.date(), status,
                              round(subtotal, 2), tax, shipping, total))  # fmt: skip
    if phases is not None:
        phases["products+customers"] = dimensions_done - started
        phases["orders"] = time.perf_counter() - dimensions_done
    return {name: len(rows) for name, rows in out.items()}


def part_faker(args: argparse.Namespace, gen_rate: float | None, sqlite_rate: float | None) -> None:
    section(f"3. vs a generator calling Faker per field: {args.faker_orders:,} orders")
    phases: dict[str, float] = {}
    with stopwatch() as took:
        counts = faker_generate(args.faker_orders, args.seed, phases)
    rows = sum(counts.values())
    faker_rate = rows / took[0]
    print("  faker: " + ", ".join(f"{name} {n:,}" for name, n in counts.items()) +
          f" = {rows:,} rows in {took[0]:.2f} s ({faker_rate:,.0f} rows/s)")  # fmt: skip
    dims = counts["products"] + counts["customers"]
    print(f"  faker phases: products+customers (Faker calls) {dims:,} rows in {phases['products+customers']:.2f} s "
          f"({rate(dims, phases['products+customers'])}); orders, lines, payments, shipments (Faker calls, loops) "
          f"{rows - dims:,} rows in {phases['orders']:.2f} s ({rate(rows - dims, phases['orders'])})")  # fmt: skip
    small_s, small_rows, _ = ours_generation(args.faker_orders, args.seed)
    print(f"  ours at the same count (locale pools built inside): {small_rows:,} rows in {small_s:.2f} s "
          f"({rate(small_rows, small_s)})")  # fmt: skip
    if gen_rate is None:
        gen_s, gen_rows, _ = ours_generation(args.orders, args.seed)
        gen_rate = gen_rows / gen_s
    ratio = gen_rate / faker_rate
    what = f"generation alone ({args.orders:,}) vs Faker per field ({args.faker_orders:,})"
    add_ratio(what, f"{gen_rate:,.0f}/s", f"{faker_rate:,.0f}/s", ratio, "faker")


# ------------------------------------------------------------------------------------------ 4. memory


def generate_command(url: str, orders: int, seed: int, *more: str) -> list[str]:
    return [sys.executable, "-m", "salesmcp", "generate", "--rows", str(orders), "--seed", str(seed), "--quiet",
            "--database-url", url, *more]  # fmt: skip


def part_memory(args: argparse.Namespace) -> None:
    small, large = args.memory_orders
    section(f"4. peak resident memory of `salesmcp generate` into SQLite: {small:,} vs {large:,} orders")
    peaks: dict[int, ChildRun] = {}
    for orders in (small, large):
        with scratch_database("sqlite", f"gen_mem_{orders}") as url:
            command = generate_command(url, orders, args.seed)
            print(f"  $ {shlex.join(command[1:])}", flush=True)
            child = run_measured(command, env=BASE_ENV, cwd=DATA_ROOT, timeout=args.memory_timeout)
        if child.returncode != 0:
            broken.append(f"salesmcp generate --rows {orders} exited {child.returncode}: {child.stderr[-500:]}")
            print(f"  FAILED ({child.returncode}): {child.stderr[-1000:]}")
            return
        peaks[orders] = child
        rows = orders * 5.5  # about 5.5 rows per order (lines, payments, shipments, customers)
        print(f"  {orders:>10,} orders: peak RSS {mib(child.peak_rss)}, {child.seconds:.1f} s "
              f"(~{rows / child.seconds:,.0f} rows/s incl. interpreter start and migration)", flush=True)  # fmt: skip
    ratio = peaks[large].peak_rss / peaks[small].peak_rss
    what = f"peak RSS generate {large:,} vs {small:,} orders"
    add_ratio(what, mib(peaks[large].peak_rss), mib(peaks[small].peak_rss), ratio, "memory")


# ----------------------------------------------------------------------------------------- 5. latency


@dataclass
class Samples:
    health: list[float] = field(default_factory=list)
    tool: list[float] = field(default_factory=list)


async def sample_round(http: httpx.AsyncClient, client: Any, custid: str, into: Samples) -> None:
    t0 = time.perf_counter()
    response = await http.get("/health")
    t1 = time.perf_counter()
    if response.status_code != 200:
        raise RuntimeError(f"GET /health answered {response.status_code}")
    result = await client.call_tool("get_customer", {"cust_id": custid})
    t2 = time.perf_counter()
    if result.is_error:
        raise RuntimeError(f"get_customer({custid!r}) failed: {result.content}")
    into.health.append(t1 - t0)
    into.tool.append(t2 - t1)


async def latency_rounds(base_url: str, args: argparse.Namespace, custid: str) -> tuple[Samples, Samples, dict]:
    from mcp import Client

    idle, busy = Samples(), Samples()
    info: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http, Client(f"{base_url}/mcp") as client:
        for _ in range(5):  # warm-up
            await sample_round(http, client, custid, Samples())
        for _ in range(args.latency_samples):
            await sample_round(http, client, custid, idle)
            await asyncio.sleep(args.latency_pause)
        body = {"rows": args.latency_orders, "seed": args.seed + 1, "mode": "append"}
        started = time.perf_counter()
        response = await http.post("/generate", json=body)
        if response.status_code != 202:
            raise RuntimeError(f"POST /generate answered {response.status_code}: {response.text[:500]}")
        status_url = response.json()["status_url"]
        state, next_poll = "queued", 0.0
        deadline = started + args.latency_timeout
        while time.perf_counter() < deadline:
            await sample_round(http, client, custid, busy)
            if time.perf_counter() >= next_poll:
                run = (await http.get(status_url)).json()
                state, next_poll = run["state"], time.perf_counter() + 0.5
                if state in ("done", "failed", "interrupted"):
                    break
            await asyncio.sleep(args.latency_pause)
        info = {"state": state, "seconds": time.perf_counter() - started, "run": run}
    return idle, busy, info


def part_latency(args: argparse.Namespace) -> None:
    kind = args.latency_db
    section(f"5. latency while `POST /generate` makes {args.latency_orders:,} orders ({kind}) vs idle")
    with scratch_database(kind, "gen_latency") as url:
        child = run_measured(generate_command(url, 1000, args.seed + 2), env=BASE_ENV, cwd=DATA_ROOT, timeout=300)
        if child.returncode != 0:
            broken.append(f"prefill failed: {child.stderr[-500:]}")
            return
        custid = "050"  # one of the 100 customers of the 1,000-order prefill
        log = DATA_ROOT / f"serve-generator-{kind}.log"
        try:
            with running_salesmcp("salesmcp serve", ["serve", "--database-url", url], log, args.startup_timeout,
                                  BASE_ENV, cwd=DATA_ROOT) as server:  # fmt: skip
                print(f"  server up on port {server.port} in {server.startup_seconds:.1f} s; "
                      f"prefilled 1,000 orders; get_customer cust_id={custid}", flush=True)  # fmt: skip
                try:
                    idle, busy, info = asyncio.run(latency_rounds(server.url, args, custid))
                finally:
                    stop_workers(server.process.pid)
        except RuntimeError as exc:
            print(f"  error: {exc}", file=sys.stderr)
            unavailable.append("salesmcp serve")
            return
    run = info["run"]
    rows = sum((run.get("counts") or {}).values())
    print(f"  generation over REST: state {info['state']} after {info['seconds']:.1f} s, "
          f"{run.get('progress', 0):,} orders, {rows:,} rows ({rate(rows, info['seconds'])})")  # fmt: skip
    if info["state"] != "done":
        broken.append(f"the REST generation ended {info['state']}: {run.get('error')}")
    table = Table(["request", "idle median ms", "idle p95 ms", "busy median ms", "busy p95 ms", "samples idle/busy"])
    for label, a, b in (("GET /health", idle.health, busy.health), ("MCP get_customer", idle.tool, busy.tool)):
        table.add(label, f"{median_ms(a):.2f}", f"{percentile(a, 95) * 1000:.2f}", f"{median_ms(b):.2f}",
                  f"{percentile(b, 95) * 1000:.2f}", f"{len(a)}/{len(b)}")  # fmt: skip
        for stat, x, y in (("median", median_ms(a), median_ms(b)),
                           ("p95", percentile(a, 95) * 1000, percentile(b, 95) * 1000)):  # fmt: skip
            add_ratio(f"{label} {stat} during generation vs idle", f"{y:.2f} ms", f"{x:.2f} ms", y / x, "latency")
    table.print()


def stop_workers(server_pid: int) -> None:
    """Kill generation workers the server started that still run (an interrupted run), by their ids."""
    import psutil

    try:
        children = psutil.Process(server_pid).children(recursive=True)
    except psutil.Error:
        return
    for child in children:
        try:
            if "generate" in child.cmdline():
                child.kill()
        except psutil.Error:
            pass


# -------------------------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders of parts gen and load (default 1M)")
    parser.add_argument("--seed", type=int, default=42, help="generation seed (default 42)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    parser.add_argument("--db", default=",".join(DATABASES), help="databases of part load (default all three)")
    parser.add_argument("--batch-size", type=int, default=Settings.model_fields["default_batch_size"].default,
                        help="orders per transaction (default: DEFAULT_BATCH_SIZE's default)")  # fmt: skip
    parser.add_argument("--gen-repeat", type=int, default=3, help="rounds of ours vs dbgen (default 3)")
    parser.add_argument("--load-repeat", type=int, default=1, help="rounds of bare vs ours per database (default 1)")
    parser.add_argument("--faker-orders", type=int, default=20_000, help="orders of the Faker generator (20000)")
    parser.add_argument("--memory-orders", default="500000,5000000", help="the two sizes of part memory")
    parser.add_argument("--memory-timeout", type=float, default=3600, help="seconds allowed per memory run")
    parser.add_argument("--latency-orders", type=int, help="orders generated in part latency (default --orders)")
    parser.add_argument("--latency-db", choices=DATABASES, default="sqlite", help="database of part latency")
    parser.add_argument("--latency-samples", type=int, default=200, help="idle rounds (default 200)")
    parser.add_argument("--latency-pause", type=float, default=0.02, help="seconds between rounds (default 0.02)")
    parser.add_argument("--latency-timeout", type=float, default=900, help="longest generation to follow (s)")
    parser.add_argument("--startup-timeout", type=float, default=60, help="seconds to wait for /health")
    args = parser.parse_args()
    args.parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    args.db = [d.strip() for d in args.db.split(",") if d.strip()]
    if unknown := set(args.parts) - set(PARTS) or set(args.db) - set(DATABASES):
        parser.error(f"unknown part or database: {', '.join(sorted(unknown))}")
    try:
        args.memory_orders = sorted(int(n) for n in args.memory_orders.split(","))
        if len(args.memory_orders) != 2:
            raise ValueError
    except ValueError:
        parser.error("--memory-orders takes two sizes, e.g. 500000,5000000")
    args.latency_orders = args.latency_orders or args.orders
    counts = (args.orders, args.faker_orders, args.gen_repeat, args.load_repeat, args.latency_samples)
    if min(*counts, *args.memory_orders) < 1:
        parser.error("counts must be positive")
    return args


def main() -> int:
    args = parse_args()
    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    print(f"$ python {shlex.join(sys.argv)}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"{platform.platform()}; load average {load_average()}")  # fmt: skip
    print(f"sizes: gen/load {args.orders:,} orders (seed {args.seed}), faker {args.faker_orders:,}, "
          f"memory {args.memory_orders[0]:,} and {args.memory_orders[1]:,}, latency {args.latency_orders:,} "
          f"({args.latency_db}); parts {','.join(args.parts)}; databases {','.join(args.db)}")  # fmt: skip
    gen_rate = sqlite_rate = None
    if "gen" in args.parts:
        gen_rate = part_generation(args)
    if "load" in args.parts:
        sqlite_rate = part_load(args, gen_rate)
    if "files" in args.parts:
        part_files(args)
    if "faker" in args.parts:
        part_faker(args, gen_rate, sqlite_rate)
    if "memory" in args.parts:
        part_memory(args)
    if "latency" in args.parts:
        part_latency(args)

    section("ratios")
    table = Table(["measure", "ours", "reference", "ratio", "target", "result"])
    for r in ratios:
        table.add(r.what, r.ours, r.reference, f"{r.ratio:.2f}x", r.target, verdict(r.passed))
    if ratios:
        table.print()
    print(f"load average at the end: {load_average()} (1, 5, 15 min; {os.cpu_count()} CPUs)")
    if broken:
        print("\nBROKEN:", *broken, sep="\n  ")
        return 1
    if unavailable:
        print(f"\nunavailable: {', '.join(unavailable)}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
