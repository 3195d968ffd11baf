"""MCP tool calls/s of our server vs a minimal server on the official TypeScript SDK, side by side in one run.

Run from the repository root (needs npm on PATH; wrk is used when installed):

    python bench/bench_mcp_typescript.py                       # 5 rounds of 10 s per server: about 5 minutes
    python bench/bench_mcp_typescript.py --rounds 1 --seconds 3   # smoke run: about a minute

What one run does:

1. **The reference.** ``bench/typescript_reference/`` (``server.mjs`` and ``package.json``) is copied to
   a cache folder outside the repository (``~/.cache/salesmcp-bench/typescript``, or
   ``$SALESMCP_BENCH_CACHE/typescript``) and ``npm install`` puts ``@modelcontextprotocol/sdk`` (1.x),
   zod and Node 22 (the npm package ``node``) there; reinstalled only when package.json changes.
   It serves Streamable HTTP, stateless, SSE answers (the SDK's default), at ``POST /mcp``, with one
   tool, ``get_customer``, reading the same SQLite file with ``node:sqlite`` and answering the same
   structured content and JSON text as ours.
2. **Data.** A scratch SQLite file, migrated with the demo data (``salesmcp migrate``) and, with
   ``--orders N``, ``salesmcp generate``; the requests rotate over its first 50 custids.
3. **Servers.** The reference on Node, and ``python -m salesmcp serve`` with each ``--workers`` count
   (``WEB_CONCURRENCY``) as deployed: INFO logs (to a file), metrics on, rate limits counted but set
   above the load. All run at once; only the one being measured gets requests.
4. **Honesty check.** Every custid's ``get_customer`` answer must carry the same structured content
   from every server (exit code 1 otherwise).
5. **Load.** ``--rounds`` rounds; in each, every server in turn (drift of the shared machine hits all
   alike) gets ``--connections`` concurrent closed-loop clients for ``--seconds`` (``bench_load.drive``:
   wrk, else asyncio + httpx). Our server is asked in both protocol revisions: 2026-07-28 (what the
   Python SDK's ``mcp.Client`` sends) and 2025-11-25 (the TypeScript SDK 1.x's latest, which the
   reference is asked in; also what clients on that SDK send us). Errors must be 0.
6. **Figures.** Per server and protocol: median calls/s, p50/p99 latency, the server's CPU time per
   call (its process tree, psutil), each round's calls/s, and the ratio of our calls/s to the
   reference's (target >= 1.0x). The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from bench_load import LATEST, LEGACY, KindResult, Request, choose_client, client_note, drive, mcp_call, server_env
from harness import BENCH_DIR, DATA_ROOT, Table, load_average, running_salesmcp, scratch_database

from salesmcp.cli.processes import free_port, stop_process, wait_until_healthy

REFERENCE_DIR = BENCH_DIR / "typescript_reference"
REFERENCE_FILES = ("package.json", "server.mjs")
TARGET = 1.0


def cache_dir() -> Path:
    base = os.environ.get("SALESMCP_BENCH_CACHE")
    return (Path(base) if base else Path.home() / ".cache" / "salesmcp-bench") / "typescript"


def install_reference(folder: Path) -> Path:
    """Copy the reference to ``folder`` and ``npm install`` it there when package.json changed; Node's path."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not on PATH: it installs the TypeScript SDK and Node 22 for the reference")
    folder.mkdir(parents=True, exist_ok=True)
    for name in REFERENCE_FILES:
        shutil.copyfile(REFERENCE_DIR / name, folder / name)
    stamp = folder / ".installed"
    wanted = hashlib.sha256((REFERENCE_DIR / "package.json").read_bytes()).hexdigest()
    node = folder / "node_modules" / ".bin" / ("node.cmd" if os.name == "nt" else "node")
    if not node.exists() or not stamp.exists() or stamp.read_text() != wanted:
        print(f"npm install in {folder} (the TypeScript SDK and Node 22)...", flush=True)
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=folder, capture_output=True, text=True,
                              timeout=600)  # fmt: skip
        if done.returncode != 0 or not node.exists():
            raise RuntimeError(f"npm install failed ({done.returncode}):\n{done.stdout[-1500:]}{done.stderr[-1500:]}")
        stamp.write_text(wanted)
    version = subprocess.run([str(node), "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    if not version.startswith("v") or int(version[1:].split(".")[0]) < 22:
        raise RuntimeError(f"the reference needs Node >= 22 (node:sqlite); {node} is {version or 'not runnable'}")
    return node


def sdk_version(folder: Path) -> str:
    package = folder / "node_modules" / "@modelcontextprotocol" / "sdk" / "package.json"
    return json.loads(package.read_text())["version"]


@dataclass
class Target:
    """One server asked in one protocol revision, and what each round measured."""

    label: str
    url: str
    pid: int
    requests: list[Request]
    rates: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""


def cpu_seconds(pid: int) -> dict[int, float]:
    """User + system CPU time so far of a process and of each of its children (uvicorn's workers), by pid."""
    spent = {}
    process = psutil.Process(pid)
    for member in [process, *process.children(recursive=True)]:
        try:
            if "resource_tracker" in " ".join(member.cmdline()):  # multiprocessing's helper, not a worker
                continue
            times = member.cpu_times()
        except psutil.Error:
            continue
        spent[member.pid] = times.user + times.system
    return spent


def worker_split(pid: int, before: dict[int, float], after: dict[int, float]) -> str:
    """How the CPU of a round was shared by the worker processes (`` workers 52/48%``), for several workers.

    Keep-alive connections stay with the worker that accepted them: an uneven split means fewer
    workers served the round than were running.
    """
    used = sorted((after[p] - before.get(p, 0.0) for p in after if p != pid), reverse=True)
    total = sum(used)
    if len(used) < 2 or total <= 0:
        return ""
    return "  workers " + "/".join(f"{x / total:.0%}".removesuffix("%") for x in used) + "%"


def structured(url: str, request: Request) -> dict:
    """A tools/call answer's structured content, from a JSON or an SSE answer."""
    answer = httpx.post(f"{url}{request.path}", content=request.body, headers=dict(request.headers), timeout=30)
    answer.raise_for_status()
    text = answer.text
    if answer.headers.get("content-type", "").startswith("text/event-stream"):
        text = next(line[5:] for line in text.splitlines() if line.startswith("data:"))
    message = json.loads(text)
    if "result" not in message or message["result"].get("isError"):
        raise RuntimeError(f"{url}: {text[:300]}")
    return message["result"]["structuredContent"]


def custids_of(url: str, count: int = 50) -> list[str]:
    from sqlalchemy import create_engine, select

    from salesmcp.store.schema import customers

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(select(customers.c.custid).order_by(customers.c.id).limit(count)))
    finally:
        engine.dispose()


def measure(target: Target, args: argparse.Namespace, client: str, folder: Path) -> None:
    before = cpu_seconds(target.pid)
    result: KindResult = drive(target.url, {"mcp": (target.requests, args.connections)}, args.seconds, folder, client,
                               args.client_processes)[0]  # fmt: skip
    after = cpu_seconds(target.pid)
    spent = sum(after.values()) - sum(before.get(p, 0.0) for p in after)
    target.rates.append(result.rate)
    target.p50.append(result.p50_ms)
    target.p99.append(result.p99_ms)
    target.cpu_us.append(spent / result.requests * 1e6 if result.requests else float("nan"))
    target.errors += result.errors
    target.first_error = target.first_error or result.first_error
    print(f"  {target.label:44s} {result.rate:8,.0f} calls/s  p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms"
          f"  {target.cpu_us[-1]:5.0f} us CPU/call  errors {result.errors}{worker_split(target.pid, before, after)}",
          flush=True)  # fmt: skip


def report(targets: Sequence[Target], reference: Target) -> Table:
    table = Table(["server", "calls/s", "p50 ms", "p99 ms", "CPU us/call", "vs TS", "target", "result", "rounds"])
    base = statistics.median(reference.rates)
    for t in targets:
        rate = statistics.median(t.rates)
        ratio = rate / base if base else float("nan")
        ours = t is not reference
        table.add(t.label, f"{rate:,.0f}", f"{statistics.median(t.p50):.1f}", f"{statistics.median(t.p99):.1f}",
                  f"{statistics.median(t.cpu_us):.0f}", f"{ratio:.2f}x", f">= {TARGET:.1f}x" if ours else "",
                  ("PASS" if ratio >= TARGET else "MISS") if ours else "",
                  " ".join(f"{x:,.0f}" for x in t.rates))  # fmt: skip
    return table


def run(args: argparse.Namespace, url: str, folder: Path) -> int:
    node = install_reference(cache_dir())
    command = [sys.executable, "-m", "salesmcp"]
    quiet = {**os.environ, "LOG_LEVEL": "WARNING"}
    subprocess.run([*command, "migrate", "--database-url", url], cwd=folder, env=quiet, check=True, capture_output=True)
    if args.orders:
        subprocess.run([*command, "generate", "--rows", str(args.orders), "--quiet", "--database-url", url], cwd=folder,
                       env=quiet, check=True, capture_output=True)  # fmt: skip
    custids = custids_of(url)
    database_file = url.removeprefix("sqlite:///")
    client = choose_client(args.client)
    with ExitStack() as stack:
        port = free_port()
        log = (folder / "typescript.log").open("wb")
        stack.callback(log.close)
        node_process = subprocess.Popen([str(node), "server.mjs", "--port", str(port), "--database", database_file],
                                        cwd=cache_dir(), stdout=log, stderr=log, stdin=subprocess.DEVNULL)  # fmt: skip
        stack.callback(stop_process, node_process)
        ts_url = f"http://127.0.0.1:{port}"
        if not wait_until_healthy(f"{ts_url}/health", args.startup_timeout, node_process):
            raise RuntimeError(f"the TypeScript reference did not start; see {folder / 'typescript.log'}")
        reference = Target(f"TypeScript SDK {sdk_version(cache_dir())}, {LEGACY}", ts_url, node_process.pid,
                           [mcp_call("get_customer", {"cust_id": c}, LEGACY) for c in custids])  # fmt: skip
        targets = [reference]
        for workers in args.workers:
            server = stack.enter_context(
                running_salesmcp(
                    f"ours ({workers} worker(s))",
                    ["serve", "--database-url", url],
                    folder / f"serve-{workers}.log",
                    args.startup_timeout,
                    env=server_env(workers),
                    cwd=folder,
                )  # fmt: skip
            )
            for protocol in (LATEST, LEGACY):
                label = f"ours, {workers} worker{'s' if workers > 1 else ''}, {protocol}"
                requests = [mcp_call("get_customer", {"cust_id": c}, protocol) for c in custids]
                targets.append(Target(label, server.url, server.process.pid, requests))

        mismatches = []
        for custid, request in zip(custids, reference.requests, strict=True):
            expected = structured(reference.url, request)
            for t in targets[1:]:
                got = structured(t.url, mcp_call("get_customer", {"cust_id": custid}, LATEST))
                if got != expected:
                    mismatches.append(f"{custid}: {t.label} {got} != reference {expected}")
        if mismatches:
            print("The servers disagree:\n" + "\n".join(mismatches[:10]))
            return 1

        print(f"{len(custids)} custids, {args.connections} concurrent clients, {args.rounds} round(s) of "
              f"{args.seconds:.0f} s per server; {client_note(client)}", flush=True)  # fmt: skip
        for target in targets:  # JIT, pools and caches warm before anything counts
            drive(target.url, {"mcp": (target.requests, args.connections)}, args.warmup, folder, client)
        print(f"load average before: {load_average()}", flush=True)
        for number in range(args.rounds):
            print(f"round {number + 1}:", flush=True)
            for target in targets:
                measure(target, args, client, folder)
        print(f"load average after: {load_average()}")
    print()
    report(targets, reference).print()
    failed = [t for t in targets if t.errors]
    for t in failed:
        print(f"{t.label}: {t.errors} error(s), the first: {t.first_error}")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="load per server and round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (medians are reported)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of load per server before round 1")
    parser.add_argument("--workers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2],
                        help="our WEB_CONCURRENCY values, comma-separated (default 1,2)")  # fmt: skip
    parser.add_argument("--orders", type=int, default=0, help="orders to generate (more customers); 0: demo data")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--client-processes", type=int, default=2, help="processes of the Python client")
    parser.add_argument("--startup-timeout", type=float, default=60)
    args = parser.parse_args()
    folder = DATA_ROOT / f"mcp-typescript-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{' '.join(sys.argv)}\nload average: {load_average()}", flush=True)
    try:
        with scratch_database("sqlite", "mcp_ts") as url:
            return run(args, url, folder)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        print(f"unavailable: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
