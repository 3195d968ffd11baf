"""Peak memory and speed of `salesmcp export` at two sizes: streamed, memory should stay flat.

    python bench/bench_export.py                       # 50k and 500k orders (about a minute)
    python bench/bench_export.py --sizes 10000 100000  # a quicker run

Fills an SQLite database per size under bench/.data/ (reused when present) with orders and their
items, payments and shipments, then runs each format (seed000, csv, parquet) in a fresh process
and prints its peak resident memory; the last column is the ratio of the larger size's peak to the
smaller's (flat memory: close to 1, far below the ratio of the sizes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / ".data"
FORMATS = ("seed000", "csv", "parquet")


def fill(path: Path, orders: int) -> None:
    """Customers, products and ``orders`` whole orders, written through SQLite's executemany."""
    from salesmcp.store.database import open_engine

    engine = open_engine(f"sqlite:///{path.as_posix()}", seed=False)
    rng = random.Random(42)
    customers = max(orders // 10, 1)
    now = "2025-01-01 12:00:00.000000"
    with engine.begin() as connection:
        raw = connection.connection.driver_connection
        raw.executemany(
            "INSERT INTO customers (id, custid, name, city, status, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((i, f"{i:07d}", f"Customer {i}", f"City {i % 50}", "active", now, now) for i in range(1, customers + 1)),
        )
        raw.executemany(
            "INSERT INTO products (id, sku, name, category, price, stock, active, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
            ((i, f"SKU-{i:05d}", f"Product {i}", "Kitchen", i % 500 + 0.99, 100, now) for i in range(1, 1001)),
        )
        statuses = ("PLACED", "PAID", "SHIPPED", "DELIVERED", "CANCELLED")
        day0 = dt.date(2025, 1, 1)
        rows = [(n, rng.randint(1, customers), day0 + dt.timedelta(days=n % 730), statuses[n % 5],
                 round(rng.uniform(1, 900), 2)) for n in range(1, orders + 1)]  # fmt: skip
        raw.executemany(
            "INSERT INTO orders (id, customer_id, order_date, status, subtotal, tax, shipping_fee, total) "
            "VALUES (?, ?, ?, ?, ?, 0, 0, ?)",
            ((n, c, d.isoformat(), s, t, t) for n, c, d, s, t in rows),
        )
        raw.executemany(
            "INSERT INTO order_items (id, order_id, product_id, quantity, unit_price, line_total) "
            "VALUES (?, ?, ?, 1, ?, ?)",
            ((n, n, n % 1000 + 1, t, t) for n, _, _, _, t in rows),
        )
        raw.executemany(
            "INSERT INTO payments (id, order_id, method, amount, currency, paid_at, txn_ref) "
            "VALUES (?, ?, 'card', ?, 'EUR', ?, ?)",
            (
                (n, n, t, f"{d} 10:00:00.000000", f"TXN{n}")
                for n, _, d, s, t in rows
                if s not in ("PLACED", "CANCELLED")
            ),
        )
        raw.executemany(
            "INSERT INTO shipments (id, order_id, carrier, tracking_no, shipped_at, status) "
            "VALUES (?, ?, 'PostNL', ?, ?, ?)",
            ((n, n, f"3S{n}", f"{d} 18:00:00.000000", s) for n, _, d, s, _ in rows if s in ("SHIPPED", "DELIVERED")),
        )
    engine.dispose()


def child(database: Path, fmt: str, out: Path) -> None:
    """One export in this process; prints rows, seconds and peak RSS as JSON."""
    from salesmcp.services.exports import export_database
    from salesmcp.store.database import open_engine
    from salesmcp.store.sql_store import SqlStore

    store = SqlStore(open_engine(f"sqlite:///{database.as_posix()}", seed=False))
    started = time.perf_counter()
    files = export_database(store, fmt, out)
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": sum(f.rows for f in files), "seconds": seconds, "peak_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    try:
        import resource
    except ImportError:  # Windows
        import psutil

        return psutil.Process().memory_info().peak_wset / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs=2, default=(50_000, 500_000), metavar=("SMALL", "LARGE"))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--fill", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        database, fmt, out = args.child
        child(Path(database), fmt, Path(out))
        return
    if args.fill:
        fill(Path(args.fill[0]), int(args.fill[1]))
        return

    DATA.mkdir(parents=True, exist_ok=True)
    results: dict[tuple[str, int], dict] = {}
    for size in args.sizes:
        database = DATA / f"export_{size}.db"
        if not database.exists():
            print(f"filling {database.name} with {size} orders ...", file=sys.stderr)
            # In a process of its own: Linux carries a process's peak RSS across exec into its children.
            subprocess.run([sys.executable, __file__, "--fill", str(database), str(size)], timeout=1800, check=True)
        for fmt in FORMATS:
            out = DATA / f"export_{size}_{fmt}"
            command = [sys.executable, __file__, "--child", str(database), fmt, str(out)]
            answer = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=True)
            results[fmt, size] = json.loads(answer.stdout.strip().splitlines()[-1])

    small, large = args.sizes
    print(f"{'format':<9}{'orders':>9}{'rows':>11}{'seconds':>9}{'rows/s':>10}{'peak MiB':>10}{'peak ratio':>12}")
    for fmt in FORMATS:
        for size in (small, large):
            r = results[fmt, size]
            ratio = f"{r['peak_mib'] / results[fmt, small]['peak_mib']:.2f}x" if size == large else ""
            print(
                f"{fmt:<9}{size:>9}{r['rows']:>11}{r['seconds']:>9.1f}{r['rows'] / r['seconds']:>10.0f}"
                f"{r['peak_mib']:>10.0f}{ratio:>12}"
            )
    print(f"(sizes differ {large / small:.0f}x; flat memory means a peak ratio near 1)")


if __name__ == "__main__":
    main()
