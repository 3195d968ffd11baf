"""Seed 000 benchmark: our MCP revenue tools vs the seed's naive algorithm, on the same real APIs.

Run (from the repository root; the full size takes a couple of minutes):

    python bench/bench_seed000.py                  # 10k customers, 1M sales
    python bench/bench_seed000.py --sales 20000    # quick smoke run

What it does, all in one run:

1. Writes deterministic synthetic seed-format CSVs (numpy, fixed seed) under ``bench/.data/``
   (reused when present with the right row counts; ``--regenerate`` rewrites them).
2. Starts the real customer and sales APIs (``python -m salesmcp serve-customers|serve-sales``,
   waitress) on free loopback ports and times the sales API's load (until ``/health`` answers).
3. Times our tool path: ``build_server(ApiSource(...))`` called through the in-memory MCP ``Client``.
4. Times the seed's naive algorithm against the same servers: fetch every sale of the period from
   ``GET /sales`` with httpx, parse the JSON, filter by custid in Python and sum. Both answers must
   agree (revenue and counts, per customer too); otherwise the exit code is 1.
5. Prints medians, the ratio naive/ours and PASS/MISS against the targets (month >= 30x and
   year >= 100x at 1M sales), then the sales API's resident memory against the size of sales.csv
   (target: RSS < 4x the file). Targets are informational: the exit code is 0 unless answers
   disagree (1) or a server fails to start (2).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
from harness import DATA_ROOT, Server, peak_rss, rss, start_salesmcp, time_async, time_sync, verdict, wait_started
from mcp import Client
from mcp.types import CallToolResult

from salesmcp.cli.processes import stop_process
from salesmcp.mcp import build_server
from salesmcp.services import revenue
from salesmcp.store.api_source import ApiSource

CUSTOMER_HEADER = "custid,custname,city"
SALES_HEADER = "ordid,custid,orddate,ordamount"
FIRST_DAY = np.datetime64("2025-01-01")
DAYS = 730  # 2025-01-01 .. 2026-12-31
FIRST_ORDID = 100_001

MONTH = ("20260101", "20260131")
YEAR = ("20260101", "20261231")
TARGETS = {"month": 30.0, "year": 100.0}  # naive/ours at 1M sales
RSS_TARGET = 4.0  # sales API resident memory / size of sales.csv
MEMORY_SAMPLES = ("after load", "after queries", "peak (VmHWM)")

# Split strings keep the pools compact; a few names need URL quoting (space, apostrophe).
CITIES = (  # noqa: SIM905
    "Amsterdam,Rotterdam,Den Haag,Utrecht,Eindhoven,Groningen,Tilburg,Almere,Breda,Nijmegen,Apeldoorn,"
    "Haarlem,Arnhem,Enschede,Amersfoort,Zaanstad,'s-Hertogenbosch,Haarlemmermeer,Zwolle,Zoetermeer,"
    "Leiden,Maastricht,Dordrecht,Ede,Alphen aan den Rijn,Westland,Alkmaar,Emmen,Delft,Venlo,Deventer,"
    "Sittard-Geleen,Helmond,Oss,Amstelveen,Hilversum,Súdwest-Fryslân,Heerlen,Nissewaard,Hengelo,"
    "Purmerend,Roosendaal,Schiedam,Lelystad,Leeuwarden,Almelo,Gouda,Vlaardingen,Assen,Katwijk"
).split(",")
FIRST_NAMES = (  # noqa: SIM905
    "Annie Bert Carla Dirk Eric Fien Gijs Hanna Ilse Jeroen Kim Lars Maud Niels Olga Pim Quinten Roos "
    "Sanne Tom Ula Vera Wim Xander Yara Zoë"
).split()


# --------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class DataFiles:
    customers_csv: Path
    sales_csv: Path
    custids: list[str] = field(repr=False)


def custid_width(customers: int) -> int:
    return max(5, len(str(customers)))


def count_rows(path: Path, header: str) -> int:
    """Data rows of a CSV file with the expected header; -1 if it is missing or has another header."""
    if not path.is_file():
        return -1
    with path.open("rb") as handle:
        if handle.readline().decode("utf-8").strip() != header:
            return -1
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def generate(folder: Path, customers: int, sales: int, seed: int) -> None:
    """Write customers.csv and sales.csv (sorted by date, ordid ascending) from a fixed numpy seed."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    width = custid_width(customers)
    custids = [str(i).zfill(width) for i in range(1, customers + 1)]
    names = rng.integers(0, len(FIRST_NAMES), customers)
    cities = rng.integers(0, len(CITIES), customers)
    lines = [CUSTOMER_HEADER]
    lines += [f"{c},{FIRST_NAMES[n]},{CITIES[t]}" for c, n, t in zip(custids, names, cities, strict=True)]
    (folder / "customers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    days = np.sort(rng.integers(0, DAYS, sales))
    day_text = np.datetime_as_string(FIRST_DAY + np.arange(DAYS), unit="D")
    day_text = [d.replace("-", "") for d in day_text.tolist()]
    who = rng.integers(0, customers, sales).tolist()
    cents = rng.integers(100, 100_000, sales).tolist()  # 1.00 .. 999.99
    lines = [SALES_HEADER]
    lines += [
        f"{FIRST_ORDID + i},{custids[c]},{day_text[d]},{a // 100}.{a % 100:02d}"
        for i, (c, d, a) in enumerate(zip(who, days.tolist(), cents, strict=True))
    ]
    (folder / "sales.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def ensure_data(customers: int, sales: int, seed: int, regenerate: bool) -> DataFiles:
    folder = DATA_ROOT / f"seed000_c{customers}_s{sales}_r{seed}"
    files = DataFiles(
        folder / "customers.csv",
        folder / "sales.csv",
        [str(i).zfill(custid_width(customers)) for i in range(1, customers + 1)],
    )
    present = (
        count_rows(files.customers_csv, CUSTOMER_HEADER) == customers
        and count_rows(files.sales_csv, SALES_HEADER) == sales
    )
    if regenerate or not present:
        started = time.perf_counter()
        generate(folder, customers, sales, seed)
        print(f"generated {folder} in {time.perf_counter() - started:.1f} s")
    else:
        print(f"reusing {folder}")
    return files


# ------------------------------------------------------------------------------------------ servers


def start_server(command: str, csv_flag: str, csv_path: Path, log_dir: Path) -> Server:
    args = [command, "--host", "127.0.0.1", csv_flag, str(csv_path)]
    return start_salesmcp(command, args, log_dir / f"{command}.log", env={"LOG_LEVEL": "WARNING"})


@contextmanager
def running_servers(files: DataFiles, timeout: float) -> Iterator[tuple[Server, Server]]:
    """Start both APIs (sales first, its load is timed alone), yield them, always stop them."""
    servers: list[Server] = []
    try:
        started = time.perf_counter()
        sales = start_server("serve-sales", "--sales-csv", files.sales_csv, files.sales_csv.parent)
        servers.append(sales)
        wait_started(sales, timeout, started)
        started = time.perf_counter()
        customers = start_server("serve-customers", "--customers-csv", files.customers_csv, files.customers_csv.parent)
        servers.append(customers)
        wait_started(customers, timeout, started)
        yield sales, customers
    finally:
        for server in servers:
            stop_process(server.process)


# ------------------------------------------------------------------------------------ the two paths


def cents(value: Any) -> int:
    """Money as whole cents, exactly (Decimal or int from our tools, float from the naive path)."""
    if isinstance(value, float):
        return round(value * 100)
    scaled = Decimal(value) * 100
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value!r} has more than 2 decimals")
    return int(scaled)


async def call_tool(client: Client, name: str, args: dict[str, str]) -> CallToolResult:
    result = await client.call_tool(name, args)
    if result.is_error:
        raise RuntimeError(f"{name}{args} failed: {result.content}")
    return result


def tool_answer(result: CallToolResult) -> dict[str, Any]:
    """The tool's JSON text, money read as Decimal so the comparison is exact."""
    return json.loads(result.content[0].text, parse_float=Decimal)


@dataclass
class Naive:
    """The seed's algorithm with a plain httpx client; ``parts`` times each step of the last call."""

    http: httpx.Client
    customer_url: str
    sales_url: str
    parts: dict[str, float] = field(default_factory=dict)
    rows_fetched: int = 0
    bytes_fetched: int = 0

    def _all_sales(self, start: str, end: str) -> list[dict[str, Any]]:
        t0 = time.perf_counter()
        response = self.http.get(f"{self.sales_url}/sales", params={"start_date": start, "end_date": end})
        response.raise_for_status()
        t1 = time.perf_counter()
        rows = response.json()
        t2 = time.perf_counter()
        self.parts["GET /sales"] = t1 - t0
        self.parts["parse JSON"] = t2 - t1
        self.rows_fetched, self.bytes_fetched = len(rows), len(response.content)
        return rows

    def customer(self, custid: str, start: str, end: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        customer = self.http.get(f"{self.customer_url}/customer/{quote(custid, safe='')}").json()
        self.parts["GET customer(s)"] = time.perf_counter() - t0
        if not customer:
            return {}
        sales = self._all_sales(start, end)
        t0 = time.perf_counter()
        amounts = [s["ordamount"] for s in sales if s["custid"] == custid]
        result = {**customer, "revenue": sum(amounts), "sales_count": len(amounts)}
        self.parts["filter + sum"] = time.perf_counter() - t0
        return result

    def city(self, city: str, start: str, end: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        customers = self.http.get(f"{self.customer_url}/customers/city/{quote(city, safe='')}").json()
        self.parts["GET customer(s)"] = time.perf_counter() - t0
        sales = self._all_sales(start, end)
        t0 = time.perf_counter()
        totals = {c["custid"]: [0.0, 0] for c in customers}
        for sale in sales:
            total = totals.get(sale["custid"])
            if total is not None:
                total[0] += sale["ordamount"]
                total[1] += 1
        lines = [
            {"custid": c["custid"], "custname": c["custname"], "revenue": totals[c["custid"]][0],
             "sales_count": totals[c["custid"]][1]}
            for c in sorted(customers, key=lambda c: c["custid"])
        ]  # fmt: skip
        result = {
            "city": customers[0]["city"] if customers else city,
            "total_revenue": sum(line["revenue"] for line in lines),
            "customer_count": len(lines),
            "customers": lines,
        }
        self.parts["filter + sum"] = time.perf_counter() - t0
        return result


def differences(ours: dict[str, Any], naive: dict[str, Any]) -> list[str]:
    """Where the two answers disagree (money compared in exact cents); empty when they agree."""
    problems = []
    for key in sorted((ours.keys() | naive.keys()) - {"truncated", "shown", "offset"}):
        a, b = ours.get(key), naive.get(key)
        if key in ("revenue", "total_revenue"):
            a, b = cents(a), cents(b)
        if key == "customers":
            if len(a) != len(b):
                problems.append(f"customers: {len(a)} lines vs {len(b)}")
            for line_a, line_b in zip(a, b, strict=False):
                problems += [f"customer {line_a.get('custid')}: {p}" for p in differences(line_a, line_b)]
        elif a != b:
            problems.append(f"{key}: ours {a!r} vs naive {b!r}")
    return problems


# ---------------------------------------------------------------------------------------- measuring


@dataclass
class Case:
    label: str
    period: str  # "month" or "year"
    tool: str
    args: dict[str, str]
    ours_ms: float = float("nan")
    service_ms: float = float("nan")
    check_ms: float = float("nan")
    naive_ms: float = float("nan")
    naive_parts: dict[str, float] = field(default_factory=dict)
    naive_rows: int = 0
    naive_bytes: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.naive_ms / self.ours_ms


async def measure_case(
    case: Case, client: Client, source: ApiSource, naive: Naive, repeat: int, naive_repeat: int
) -> None:
    """Time one case three ways (MCP tool, service without MCP, naive) and compare the answers."""
    subject = case.args.get("city", case.args.get("cust_id", ""))
    period = (case.args["start_date"], case.args["end_date"])
    is_city = "city" in case.args
    service = revenue.city_revenue if is_city else revenue.customer_revenue
    naive_call = naive.city if is_city else naive.customer

    case.ours_ms, result = await time_async(partial(call_tool, client, case.tool, case.args), repeat)
    # Part of ours: the Python MCP client re-validates structured output against the tool's output schema.
    case.check_ms, _ = await time_async(partial(client.session.validate_tool_result, case.tool, result), repeat)
    case.service_ms, _ = time_sync(partial(service, source, subject, *period), repeat)
    case.naive_ms, naive_answer = time_sync(partial(naive_call, subject, *period), naive_repeat)
    case.naive_parts = dict(naive.parts)
    case.naive_rows, case.naive_bytes = naive.rows_fetched, naive.bytes_fetched
    ours = tool_answer(result)
    if ours.get("truncated"):  # a big city's answer shows its first customers (custid order): compare those
        naive_answer = {**naive_answer, "customers": naive_answer["customers"][: ours["shown"]]}
    case.problems = differences(ours, naive_answer)
    status = "ok" if not case.problems else f"{len(case.problems)} DIFFERENCES"
    print(f"  {case.label:<28} ours {case.ours_ms:8.2f} ms  naive {case.naive_ms:9.1f} ms  {status}")


async def measure(cases: list[Case], customer_url: str, sales_url: str, repeat: int, naive_repeat: int) -> None:
    source = ApiSource(customer_url, sales_url, timeout=120.0)
    http = httpx.Client(timeout=120.0)
    try:
        async with Client(build_server(source, log_level="WARNING")) as client:
            for case in cases:
                naive = Naive(http, customer_url, sales_url)
                await measure_case(case, client, source, naive, repeat, naive_repeat)
    finally:
        http.close()
        source.close()


# ------------------------------------------------------------------------------------------- report


def print_report(cases: list[Case], sales: Server, customers: Server, memory: dict[str, Any], n_sales: int) -> None:
    note = "" if n_sales >= 1_000_000 else "  (targets are set for 1M sales)"
    print()
    print(
        f"{'case':<28} {'ours ms':>8} {'(check)':>8} {'svc ms':>7} {'naive ms':>9} {'naive/ours':>10}"
        f" {'target':>6}  result"
    )
    print("-" * 94)
    for case in cases:
        target = TARGETS[case.period]
        print(
            f"{case.label:<28} {case.ours_ms:8.2f} {case.check_ms:8.2f} {case.service_ms:7.2f}"
            f" {case.naive_ms:9.1f} {case.ratio:9.1f}x {target:5.0f}x  {verdict(case.ratio >= target)}{note}"
        )
    print()
    print("ours    = the MCP tool called through the in-memory mcp.Client (build_server on ApiSource)")
    print("(check) = part of ours: the Python MCP client re-validating the result against the output schema")
    print("svc     = the same revenue service on ApiSource, called directly (no MCP)")
    print("naive   = the seed's algorithm: every sale of the period over HTTP, filter + sum in Python")
    print("all medians; ratio = naive / ours")
    print()
    print("naive breakdown, last call (ms):")
    for case in cases:
        parts = "  ".join(f"{k} {v * 1000:7.1f}" for k, v in case.naive_parts.items())
        rate = case.naive_rows / case.naive_parts["GET /sales"] if case.naive_rows else 0.0
        print(f"  {case.label:<28} {parts}")
        print(f"  {'':<28} {case.naive_rows:,} rows, {case.naive_bytes / 1e6:.1f} MB; GET /sales {rate:,.0f} rows/s")
    print()
    print(f"sales API load time (start until /health answers): {sales.startup_seconds:6.2f} s"
          f"  ({n_sales / sales.startup_seconds:,.0f} rows/s incl. interpreter start)")  # fmt: skip
    print(f"customer API load time (for scale: start-up cost):  {customers.startup_seconds:6.2f} s")
    print()
    size = memory["csv_bytes"]
    print(f"sales.csv: {size / 2**20:.1f} MiB; sales API resident memory (target < {RSS_TARGET:.0f}x the file):")
    for label in MEMORY_SAMPLES:
        value = memory.get(label)
        if value is None:
            continue
        ratio = value / size
        print(f"  {label:<14} {value / 2**20:8.1f} MiB  {ratio:6.2f}x  {verdict(ratio < RSS_TARGET)}")
    baseline = memory["customer API"]
    print(f"  for scale: the customer API (same interpreter and libraries, 10k customers) {baseline / 2**20:.1f} MiB")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000, help="customers (default 10000)")
    parser.add_argument("--sales", type=int, default=1_000_000, help="sales (default 1000000)")
    parser.add_argument("--seed", type=int, default=0, help="numpy seed of the synthetic data")
    parser.add_argument("--regenerate", action="store_true", help="rewrite the CSV files even if present")
    parser.add_argument("--repeat", type=int, default=20, help="timed tool calls per case (default 20)")
    parser.add_argument("--naive-repeat", type=int, default=3, help="timed naive calls per case (default 3)")
    parser.add_argument("--city", default="Eindhoven", help="city to query (default Eindhoven)")
    parser.add_argument("--custid", help="customer to query (default: the one a third of the way in)")
    parser.add_argument("--startup-timeout", type=float, default=180.0, help="seconds to wait for /health")
    args = parser.parse_args()
    if args.customers < 1 or args.sales < 1 or args.repeat < 1 or args.naive_repeat < 1:
        parser.error("counts must be positive")
    return args


def main() -> int:
    args = parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
    files = ensure_data(args.customers, args.sales, args.seed, args.regenerate)
    custid = args.custid or files.custids[len(files.custids) // 3]
    cases = [
        Case(f"{kind} {period} ({subject})", period, tool, {arg: subject, "start_date": start, "end_date": end})
        for kind, tool, arg, subject in (
            ("city", "get_city_revenue_by_period", "city", args.city),
            ("customer", "get_customer_revenue_by_period", "cust_id", custid),
        )
        for period, (start, end) in (("month", MONTH), ("year", YEAR))
    ]

    memory: dict[str, Any] = {"csv_bytes": files.sales_csv.stat().st_size}
    try:
        with running_servers(files, args.startup_timeout) as (sales, customers):
            print(f"sales API up in {sales.startup_seconds:.2f} s, customer API in {customers.startup_seconds:.2f} s")
            time.sleep(0.5)  # let the allocator settle before sampling memory
            memory["after load"] = rss(sales.process.pid)
            memory["customer API"] = rss(customers.process.pid)
            asyncio.run(measure(cases, customers.url, sales.url, args.repeat, args.naive_repeat))
            memory["after queries"] = rss(sales.process.pid)
            memory["peak (VmHWM)"] = peak_rss(sales.process.pid)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_report(cases, sales, customers, memory, args.sales)

    problems = [f"{case.label}: {p}" for case in cases for p in case.problems]
    if problems:
        print("\nANSWERS DIFFER (ours vs naive):", *problems[:20], sep="\n  ")
        return 1
    print("\nanswers agree (ours == naive, revenue and counts per customer)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
