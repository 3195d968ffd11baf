"""The metrics layer against the bare SQL on the same database, side by side in one run (first version: SQLite).

Run from the repository root:

    python bench/bench_analytics.py                       # 1M orders into bench/.data/analytics.db (once)
    python bench/bench_analytics.py --orders 100000       # a smaller dataset

What it does:

1. Fills a scratch SQLite file with ``--orders`` generated orders (seed 42) unless it holds them already.
2. For each of a fixed set of catalogue questions, ``--repeat`` rounds of ``query_metrics`` (the service, as the
   tools and routes call it) and of the hand-written SQL that answers the same question, alternating; prints
   the medians and the ratio ours / bare, and checks that both give the same numbers (to the cent).

The issue's targets (every query ≤ 1 s at 10M orders; ≤ 3x DuckDB over a Parquet export) need the columnar
engine that is still to come; this version measures what the row store gives today.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from salesmcp.config import Settings
from salesmcp.services import generator
from salesmcp.services.analytics import query_metrics
from salesmcp.store.sql_store import open_store

COUNTED = "case when {o}status != 'CANCELLED' then round({o}{column} * 100) else 0 end"
CASES: list[tuple[str, dict[str, Any], str]] = [
    ("revenue by month", {"metrics": ["revenue"], "group_by": ["month"]},
     f"select strftime('%Y-%m', order_date), sum({COUNTED.format(o='', column='total')}) from orders group by 1"),
    ("net sales by category", {"metrics": ["net_sales"], "group_by": ["category"]},
     f"select p.category, sum({COUNTED.format(o='o.', column='total').replace('o.total', 'i.line_total')}) "
     "from order_items i join orders o on i.order_id = o.id join products p on i.product_id = p.id group by 1"),
    ("top 10 cities by revenue", {"metrics": ["revenue"], "group_by": ["city"], "order_by": "-revenue", "limit": 10},
     f"select c.city, sum({COUNTED.format(o='o.', column='total')}) r from orders o join customers c "
     "on o.customer_id = c.id group by 1 order by r desc limit 10"),
    ("revenue by payment method, Q1 2026",
     {"metrics": ["revenue"], "group_by": ["payment_method"], "start_date": "2026-01-01", "end_date": "2026-03-31"},
     f"select p.method, sum({COUNTED.format(o='o.', column='total')}) from orders o left join payments p "
     "on p.order_id = o.id where o.order_date between '2026-01-01' and '2026-03-31' group by 1"),
    ("orders by weekday", {"metrics": ["orders"], "group_by": ["weekday"]},
     "select (cast(strftime('%w', order_date) as integer) + 6) % 7, "
     "sum(case when status != 'CANCELLED' then 1 else 0 end) from orders group by 1"),
]  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def fill(url: str, orders: int) -> None:
    store = open_store(Settings(_env_file=None, database_url=url, seed_demo_data=False))
    try:
        if generator.summary(store).counts["orders"] >= orders:
            return
        generator.reset(store)
        request = generator.build_request({"rows": orders, "seed": 42}, 42, 10**8)
        run, todo = generator.prepare_run(store, request)
        if todo:
            generator.run_generation(store, run.id, 10_000)
    finally:
        store.engine.dispose()


def same(ours: dict[str, Any], bare: list[tuple[Any, ...]], metric: str, key: str) -> bool:
    got = {row[key]: Decimal(str(row[metric])) for row in ours["rows"]}
    scale = Decimal("0.01") if metric in ("revenue", "net_sales") else Decimal(1)
    expected = {(WEEKDAYS[value] if key == "weekday" else value): Decimal(str(total)) * scale for value, total in bare}
    return got == expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--file", type=Path, default=Path("bench/.data/analytics.db"))
    args = parser.parse_args()
    args.file.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{args.file.resolve().as_posix()}"
    started = time.perf_counter()
    fill(url, args.orders)
    print(f"{args.orders:,} orders in {args.file} ({time.perf_counter() - started:.1f} s to make or find)")
    store = open_store(Settings(_env_file=None, database_url=url, seed_demo_data=False))
    raw = sqlite3.connect(args.file)
    print(f"{'question':<36} {'ours':>9} {'bare SQL':>9} {'ratio':>6}  answers")
    for name, question, bare_sql in CASES:
        ours_times, bare_times = [], []
        for _ in range(args.repeat):
            began = time.perf_counter()
            answer = query_metrics(store, **question)
            ours_times.append(time.perf_counter() - began)
            began = time.perf_counter()
            rows = raw.execute(bare_sql).fetchall()
            bare_times.append(time.perf_counter() - began)
        ours, bare = statistics.median(ours_times), statistics.median(bare_times)
        agree = same(answer, rows, question["metrics"][0], question["group_by"][0])
        print(
            f"{name:<36} {ours * 1000:7.0f}ms {bare * 1000:7.0f}ms {ours / bare:6.2f}  {'equal' if agree else 'DIFFER'}"
        )
    store.engine.dispose()


if __name__ == "__main__":
    main()
