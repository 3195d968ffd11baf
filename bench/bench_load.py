"""Load: the real main server under a mix of REST reads, MCP tool calls and writes from concurrent clients.

Run from the repository root:

    python bench/bench_load.py                          # 60 s on a scratch SQLite with 20k generated orders
    python bench/bench_load.py --seconds 10 --orders 2000              # smoke run: about 25 seconds
    python bench/bench_load.py --db postgresql --workers 2             # a scratch PostgreSQL, 2 worker processes
    python bench/bench_load.py --database-url mysql+pymysql://root@127.0.0.1:3306/mydb   # a database of yours
    python bench/bench_load.py --mix mcp=16 --seconds 20               # the issue's reads-only MCP figure

What one run does:

1. **Data.** A scratch database (``--db``, default sqlite; see ``harness.scratch_database``) or the
   ``--database-url`` given, migrated with the demo data and filled by ``salesmcp generate --rows
   --orders`` (a subprocess; ``--orders 0`` skips it). Custids and cities for the requests are read
   from it.
2. **Server.** ``python -m salesmcp serve`` on a free loopback port (``WEB_CONCURRENCY=--workers``,
   logs at INFO to ``bench/.data/load-<pid>/serve.log``), the rate limits set far above the load: they
   are counted, not refused.
3. **Load.** One client per kind, all at once for ``--seconds``, each with its connections
   (``--mix``, default ``rest=6,mcp=8,write=2``: 16 concurrent clients), every connection sending its
   next request as soon as the answer is in (keep-alive, closed loop):
   - ``rest``: seed 000's routes (``/customer/<id>``, ``/customers/city/<city>``, ``/sales`` of one
     day, ``/sales/revenue``), ``/customers``, ``/customers/<id>``, ``/orders``, ``/summary``;
   - ``mcp``: ``tools/call`` over Streamable HTTP, stateless, with the headers and ``_meta`` the SDK's
     ``mcp.Client`` sends (protocol ``--protocol``, default 2026-07-28): ``get_customer``, both
     revenue tools (one month), ``list_customers``;
   - ``write``: ``POST /customers`` and ``PATCH /customers/<id>``, the tools ``add_customer`` and
     ``update_customer`` (new customers with unique e-mails; updates of generated customers).
   The client is ``wrk`` (C, one thread per kind; Lua scripts written to the run folder) when it is on
   PATH, else asyncio + httpx in ``--client-processes`` processes. wrk costs a small fraction of the
   server's CPU per request; the Python client costs about as much as the server and lowers the figures.
4. **Verdict.** Per kind: requests, requests/s, p50/p99/max latency and errors. An error is a
   connection error or timeout, a status outside 2xx, or an MCP answer that is a JSON-RPC error or a
   tool error (``"isError":true``). The exit code is 1 when any error happened, 2 when the server or
   the database is unavailable. The load average is printed before and after (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from harness import DATA_ROOT, Server, Table, hidden, load_average, percentile, running_salesmcp, scratch_database

GENEROUS = "1000000000/hour"  # the rate limits stay on (their cost is counted) but never refuse
UNIQUE = "@@N@@"  # replaced in a request's path and body by a value unique to the run, client and request
LATEST = "2026-07-28"
LEGACY = "2025-11-25"
DEFAULT_MIX = "rest=6,mcp=8,write=2"
ERROR_MARKERS = ('"isError":true', '"error":{"code"')  # a tool error; a JSON-RPC error


# ------------------------------------------------------------------------------------------ requests


@dataclass(frozen=True)
class Request:
    """One HTTP request a client sends; ``UNIQUE`` in its path or body is replaced on every send."""

    method: str
    path: str
    body: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def mcp_call(tool: str, arguments: Mapping[str, object], protocol: str = LATEST, request_id: int = 1) -> Request:
    """``tools/call`` as the SDK's client sends it: at 2026-07-28 the routing headers and ``_meta``."""
    params: dict[str, object] = {"name": tool, "arguments": dict(arguments)}
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": protocol}  # fmt: skip
    if protocol >= LATEST:
        headers.update({"Mcp-Method": "tools/call", "Mcp-Name": tool})
        params["_meta"] = {
            "io.modelcontextprotocol/protocolVersion": protocol,
            "io.modelcontextprotocol/clientInfo": {"name": "salesmcp-bench", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {},
        }
    body = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}
    return Request("POST", "/mcp", json.dumps(body, separators=(",", ":")), headers)


def rest_json(method: str, path: str, body: Mapping[str, object]) -> Request:
    return Request(method, path, json.dumps(dict(body), separators=(",", ":")), {"Content-Type": "application/json"})


@dataclass
class Sample:
    """What the requests are about: customers and cities of the database, and a month with orders."""

    custids: list[str]
    cities: list[str]
    month: tuple[str, str] = ("20260101", "20260131")
    day: str = "20260105"


def sample_data(url: str, count: int = 200) -> Sample:
    """The first ``count`` custids and up to 20 cities of the database."""
    from sqlalchemy import create_engine, select

    from salesmcp.store.schema import customers

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            custids = list(connection.scalars(select(customers.c.custid).order_by(customers.c.id).limit(count)))
            query = select(customers.c.city).where(customers.c.city.is_not(None)).distinct().limit(20)
            cities = sorted(connection.scalars(query))
    finally:
        engine.dispose()
    if not custids or not cities:
        raise RuntimeError("the database has no customers with a city to ask about")
    return Sample(custids, cities)


def rest_reads(sample: Sample) -> list[Request]:
    first, last = sample.month
    requests = []
    for i, custid in enumerate(sample.custids[:50]):
        city = sample.cities[i % len(sample.cities)]
        requests += [
            Request("GET", f"/customer/{custid}"),
            Request("GET", f"/customers/city/{quote(city)}"),
            Request("GET", f"/sales?start_date={sample.day}&end_date={sample.day}"),
            Request("GET", f"/sales/revenue?start_date={first}&end_date={last}&custid={custid}"),
            Request("GET", f"/customers?limit=20&offset={i * 20 % max(len(sample.custids), 1)}"),
            Request("GET", f"/customers/{custid}"),
            Request("GET", f"/orders?limit=20&from={first}&to={last}&offset={i * 20}"),
            Request("GET", "/summary"),
        ]
    return requests


def mcp_reads(sample: Sample, protocol: str) -> list[Request]:
    first, last = sample.month
    requests = []
    for i, custid in enumerate(sample.custids[:50]):
        city = sample.cities[i % len(sample.cities)]
        requests += [
            mcp_call("get_customer", {"cust_id": custid}, protocol),
            mcp_call(
                "get_customer_revenue_by_period", {"cust_id": custid, "start_date": first, "end_date": last}, protocol
            ),
            mcp_call("get_city_revenue_by_period", {"city": city, "start_date": first, "end_date": last}, protocol),
            mcp_call("list_customers", {"limit": 20, "offset": i * 20}, protocol),
        ]
    return requests


def writes(sample: Sample, protocol: str) -> list[Request]:
    cities = sample.cities
    requests = []
    for i, custid in enumerate(sample.custids[:50]):
        city = cities[i % len(cities)]
        requests += [
            rest_json(
                "POST", "/customers", {"name": f"Load {UNIQUE}", "email": f"rest-{UNIQUE}@example.com", "city": city}
            ),
            rest_json("PATCH", f"/customers/{custid}", {"name": f"Load {UNIQUE}", "city": city}),
            mcp_call(
                "add_customer", {"name": f"Load {UNIQUE}", "email": f"mcp-{UNIQUE}@example.com", "city": city}, protocol
            ),
            mcp_call("update_customer", {"cust_id": custid, "name": f"Load {UNIQUE}", "city": city}, protocol),
        ]
    return requests


def quote(text: str) -> str:
    from urllib.parse import quote as url_quote

    return url_quote(text, safe="")


# ---------------------------------------------------------------------------------------------- load


@dataclass
class KindResult:
    """One client's outcome: requests answered, seconds, latencies (ms) and errors with a first example."""

    kind: str
    connections: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def _lua_string(text: str) -> str:
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def wrk_script(requests: Sequence[Request], run_tag: str) -> str:
    """A wrk Lua script: sends ``requests`` in turn (``UNIQUE`` replaced per send), counts errors per thread,
    and prints one ``WRKJSON {...}`` line when done."""
    entries = []
    for r in requests:
        headers = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in r.headers.items())
        body = _lua_string(r.body) if r.body is not None else "nil"
        entries.append(f"  {{{_lua_string(r.method)}, {_lua_string(r.path)}, {{{headers}}}, {body}}},")
    markers = ", ".join(_lua_string(m) for m in ERROR_MARKERS)
    return f"""-- written by bench/bench_load.py
local requests = {{
{chr(10).join(entries)}
}}
local markers = {{{markers}}}
local threads = {{}}
local counter = 0
local index = 0
errors = 0
first_error = ""
tid = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  index = tid * 7919 % #requests
end

function request()
  index = index % #requests + 1
  local r = requests[index]
  counter = counter + 1
  local unique = "{run_tag}-" .. tid .. "-" .. counter
  local path = string.gsub(r[2], "{UNIQUE}", unique)
  local body = r[4]
  if body then body = string.gsub(body, "{UNIQUE}", unique) end
  return wrk.format(r[1], path, r[3], body)
end

function response(status, headers, body)
  local bad = status < 200 or status > 299
  if not bad and body then
    for _, marker in ipairs(markers) do
      if string.find(body, marker, 1, true) then bad = true end
    end
  end
  if bad then
    errors = errors + 1
    if first_error == "" then
      first_error = string.gsub(status .. " " .. string.sub(body or "", 1, 300), '[%c"\\\\]', " ")
    end
  end
end

function done(summary, latency, requests)
  local errs, first = 0, ""
  for _, thread in ipairs(threads) do
    errs = errs + thread:get("errors")
    if first == "" then first = thread:get("first_error") end
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"bad":%d,' ..
    '"socket":%d,"status":%d,"timeout":%d,"first":"%s"}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max, errs,
    e.connect + e.read + e.write, e.status, e.timeout, first))
end
"""


def start_wrk(url: str, kind: str, requests: Sequence[Request], connections: int, seconds: float, folder: Path,
              run_tag: str) -> subprocess.Popen:  # fmt: skip
    script = folder / f"{kind}.lua"
    script.write_text(wrk_script(requests, run_tag), encoding="utf-8")
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
               "-s", str(script), url]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish_wrk(process: subprocess.Popen, kind: str, connections: int, timeout: float) -> KindResult:
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    line = next((x for x in out.splitlines() if x.startswith("WRKJSON ")), None)
    if ".lua:" in out:  # a script error: wrk would have sent plain GETs instead
        raise RuntimeError(f"wrk's script for {kind} failed:\n{out[:2000]}")
    if line is None:
        return KindResult(kind, connections, 0, 0, float("nan"), float("nan"), float("nan"), 1, out[-300:])
    data = json.loads(line.removeprefix("WRKJSON "))
    # wrk counts non-2xx answers in both its own status count and our Lua check: count them once.
    errors = data["bad"] + data["socket"] + data["timeout"]
    return KindResult(kind, connections, data["requests"], data["duration_us"] / 1e6, data["p50_us"] / 1000,
                      data["p99_us"] / 1000, data["max_us"] / 1000, errors, data["first"])  # fmt: skip


def _python_client(args: tuple[str, list[Request], int, float, str]) -> tuple[int, list[float], int, str, float]:
    """One process of the fallback client: ``connections`` closed-loop httpx connections for ``seconds``."""
    import asyncio

    import httpx

    url, requests, connections, seconds, tag = args
    latencies: list[float] = []
    errors = [0, ""]

    async def worker(http: httpx.AsyncClient, number: int, deadline: float) -> None:
        index, counter = number * 7919 % len(requests), 0
        while time.perf_counter() < deadline:
            request = requests[index]
            index = (index + 1) % len(requests)
            counter += 1
            unique = f"{tag}-{os.getpid()}-{number}-{counter}"
            body = request.body.replace(UNIQUE, unique).encode() if request.body is not None else None
            started = time.perf_counter()
            try:
                answer = await http.request(request.method, request.path.replace(UNIQUE, unique),
                                            content=body, headers=dict(request.headers))  # fmt: skip
                text = answer.text
                bad = not 200 <= answer.status_code < 300 or any(marker in text for marker in ERROR_MARKERS)
                detail = f"{answer.status_code} {text[:300]}"
            except httpx.HTTPError as exc:
                bad, detail = True, f"{type(exc).__name__}: {exc}"
            latencies.append(time.perf_counter() - started)
            if bad:
                errors[0] += 1
                errors[1] = errors[1] or detail

    async def main() -> float:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as http:
            started = time.perf_counter()
            deadline = started + seconds
            await asyncio.gather(*(worker(http, n, deadline) for n in range(connections)))
            return time.perf_counter() - started

    took = asyncio.run(main())
    return len(latencies), latencies, int(errors[0]), str(errors[1]), took


def run_python_clients(url: str, kinds: Mapping[str, tuple[list[Request], int]], seconds: float, processes: int,
                       run_tag: str) -> list[KindResult]:  # fmt: skip
    """The fallback: each kind's connections spread over ``processes`` processes, all at once."""
    from concurrent.futures import ProcessPoolExecutor

    jobs = []
    for kind, (requests, connections) in kinds.items():
        share = max(1, min(processes, connections))
        for part in range(share):
            count = connections // share + (1 if part < connections % share else 0)
            jobs.append((kind, (url, requests, count, seconds, run_tag)))
    with ProcessPoolExecutor(max_workers=len(jobs)) as pool:
        outcomes = list(pool.map(_python_client, [job for _, job in jobs]))
    results = []
    for kind, (_, connections) in kinds.items():
        mine = [outcome for (name, _), outcome in zip(jobs, outcomes, strict=True) if name == kind]
        latencies = [x * 1000 for outcome in mine for x in outcome[1]]
        took = max(outcome[4] for outcome in mine)
        first = next((outcome[3] for outcome in mine if outcome[3]), "")
        results.append(KindResult(kind, connections, len(latencies), took, percentile(latencies, 50),
                                  percentile(latencies, 99), max(latencies, default=float("nan")),
                                  sum(outcome[2] for outcome in mine), first))  # fmt: skip
    return results


def drive(url: str, kinds: Mapping[str, tuple[list[Request], int]], seconds: float, folder: Path, client: str,
          processes: int = 2) -> list[KindResult]:  # fmt: skip
    """Every kind at once for ``seconds``: wrk (one process per kind) or the Python fallback."""
    run_tag = f"{os.getpid()}{int(time.time()) % 100000}"
    if client == "python":
        return run_python_clients(url, kinds, seconds, processes, run_tag)
    started = [(kind, connections, start_wrk(url, kind, requests, connections, seconds, folder, run_tag))
               for kind, (requests, connections) in kinds.items()]  # fmt: skip
    return [finish_wrk(process, kind, connections, seconds + 60) for kind, connections, process in started]


def choose_client(wanted: str) -> str:
    """``wrk`` when asked for or found on PATH (``auto``), else ``python``."""
    if wanted == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if wanted == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not on PATH (Debian/Ubuntu: apt-get install wrk); or use --client python")
    return wanted


def client_note(client: str) -> str:
    if client == "wrk":
        return "client: wrk (one thread per kind)"
    return ("client: asyncio + httpx (wrk not on PATH: `apt-get install wrk` for a client that costs the "
            "server less CPU; this one lowers the figures)")  # fmt: skip


def results_table(results: Sequence[KindResult]) -> Table:
    table = Table(["kind", "clients", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "errors"])
    for r in results:
        table.add(r.kind, r.connections, f"{r.requests:,}", f"{r.rate:,.0f}", f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}",
                  f"{r.max_ms:.0f}", r.errors)  # fmt: skip
    total = sum(r.requests for r in results)
    seconds = max((r.seconds for r in results), default=0)
    table.add("all", sum(r.connections for r in results), f"{total:,}", f"{total / seconds if seconds else 0:,.0f}",
              "", "", "", sum(r.errors for r in results))  # fmt: skip
    return table


# ---------------------------------------------------------------------------------------------- main


def parse_mix(text: str) -> dict[str, int]:
    mix = {}
    for part in text.split(","):
        name, _, count = part.partition("=")
        if name.strip() not in ("rest", "mcp", "write") or not count.strip().isdigit() or int(count) < 1:
            raise argparse.ArgumentTypeError(f"--mix: {part!r} is not KIND=N with KIND rest, mcp or write")
        mix[name.strip()] = int(count)
    return mix


def server_env(workers: int, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Our server as deployed (INFO logs, metrics, rate limits counted), the limits above any load."""
    return {"WEB_CONCURRENCY": str(workers), "LOG_LEVEL": "INFO", "RATE_LIMIT_READS": GENEROUS,
            "RATE_LIMIT_WRITES": GENEROUS, "RATE_LIMIT_GENERATE": GENEROUS, "REDIS_URL": "", "API_TOKEN": "",
            "API_TOKENS": "", "READ_ONLY": "false", **(extra or {})}  # fmt: skip


def generate(url: str, orders: int, folder: Path) -> None:
    """``salesmcp generate --rows N`` into the database (the demo data comes with the migration)."""
    command = [sys.executable, "-m", "salesmcp", "generate", "--rows", str(orders), "--quiet", "--database-url", url]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=1800,
                          env={**os.environ, "LOG_LEVEL": "WARNING"})  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"salesmcp generate failed ({done.returncode}):\n{done.stderr[-2000:]}")
    print(f"generated {orders:,} orders in {time.perf_counter() - started:.1f} s", flush=True)


def run(args: argparse.Namespace, url: str, folder: Path, on_server: Callable[[Server], None] | None = None) -> int:
    if args.orders > 0:
        generate(url, args.orders, folder)
    else:
        subprocess.run([sys.executable, "-m", "salesmcp", "migrate", "--database-url", url], check=True, cwd=folder,
                       capture_output=True, timeout=600)  # fmt: skip
    sample = sample_data(url)
    makers = {"rest": lambda: rest_reads(sample), "mcp": lambda: mcp_reads(sample, args.protocol),
              "write": lambda: writes(sample, args.protocol)}  # fmt: skip
    kinds = {kind: (makers[kind](), connections) for kind, connections in args.mix.items()}
    client = choose_client(args.client)
    log = folder / "serve.log"
    server_args = ["serve", "--database-url", url]
    env = server_env(args.workers)
    with running_salesmcp("main server", server_args, log, args.startup_timeout, env=env, cwd=folder) as server:
        if on_server:
            on_server(server)
        print(f"server {server.url} ({args.workers} worker(s)), {hidden(url)}; {client_note(client)}", flush=True)
        print(f"{args.seconds:.0f} s of {', '.join(f'{k}={c}' for k, c in args.mix.items())} clients, "
              f"MCP protocol {args.protocol}; load average before: {load_average()}", flush=True)  # fmt: skip
        results = drive(server.url, kinds, args.seconds, folder, client, args.client_processes)
    print(f"load average after: {load_average()}; server log: {log}")
    results_table(results).print()
    errors = [r for r in results if r.errors]
    for r in errors:
        print(f"{r.kind}: {r.errors} error(s), the first: {r.first_error}")
    print("PASS: no errors" if not errors else "FAIL: errors (must be 0)")
    return 1 if errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long the load runs")
    parser.add_argument("--mix", type=parse_mix, default=parse_mix(DEFAULT_MIX),
                        help=f"concurrent clients per kind (rest, mcp, write), default {DEFAULT_MIX}")  # fmt: skip
    parser.add_argument("--db", choices=["sqlite", "postgresql", "mariadb"], default="sqlite",
                        help="scratch database to create (dropped afterwards)")  # fmt: skip
    parser.add_argument("--database-url", help="use this database instead of a scratch one (writes go into it)")
    parser.add_argument("--orders", type=int, default=20000, help="orders to generate first (0: demo data only)")
    parser.add_argument("--workers", type=int, default=1, help="WEB_CONCURRENCY of the server")
    parser.add_argument("--protocol", choices=[LATEST, LEGACY], default=LATEST, help="MCP protocol of the requests")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--client-processes", type=int, default=2, help="processes of the Python client")
    parser.add_argument("--startup-timeout", type=float, default=60)
    args = parser.parse_args()
    if args.seconds <= 0 or args.seconds > 3600:
        parser.error("--seconds must be in (0, 3600]")

    folder = DATA_ROOT / f"load-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{' '.join(sys.argv)}\nload average: {load_average()}", flush=True)
    try:
        with ExitStack() as stack:
            url = args.database_url or stack.enter_context(scratch_database(args.db, "load"))
            return run(args, url, folder)
    except (RuntimeError, OSError) as exc:
        print(f"unavailable: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a database server that does not answer: the driver's own error
        if type(exc).__module__.startswith(("sqlalchemy", "psycopg", "pymysql")):
            print(f"database unavailable: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    raise SystemExit(main())
