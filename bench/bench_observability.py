"""The cost of JSON logs and metrics: REST requests/s and MCP tool calls/s with them on and off, in one run.

Run from the repository root:

    python bench/bench_observability.py                  # about half a minute
    python bench/bench_observability.py --requests 200   # smoke run

What it does:

1. Starts the real main server three times (``python -m salesmcp serve``, each on its own scratch SQLite file
   with the demo data, rate limits off in both so that only logs and metrics differ):
   *off*: ``LOG_FORMAT=text``, ``LOG_LEVEL=WARNING``, ``METRICS_ENABLED=false`` (no line per request, no
   metrics); *on*: ``LOG_FORMAT=json``, ``LOG_LEVEL=INFO``, ``METRICS_ENABLED=true`` (a JSON line per
   request and per tool call, written to the server's log file, and every metric counted), as the
   container runs it; and *off* once more, as a control: the slowdown measured between two equal
   servers is this machine's noise at the time.
2. In ``--rounds`` rounds, the servers back to back, in alternating order (so drift of a shared
   machine hits both alike): ``--requests`` sequential ``GET /customers/012`` over one keep-alive httpx
   connection, and ``--calls`` sequential ``get_customer`` calls through one official SDK client
   session over Streamable HTTP. One warm-up of each per server first; ``GET /metrics`` once at the
   end, to check it counted them all.
3. Prints, per server, the best round's requests/s and calls/s, the slowdown of *on* against *off*
   between those, and the median of the rounds' own slowdowns (each round's pair measured within
   seconds of each other: the steadier figure on a busy machine, and the one the verdict uses;
   target: at most 10% slower).
4. Times the request middleware alone, in process over a do-nothing ASGI app (microseconds per
   request, off / on): the cost itself, free of the servers' noise.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import statistics
import time

import httpx
from harness import Server, Table, asgi_cost, load_average, nothing_app, running_variants, verdict
from mcp import Client

TARGET_SLOWDOWN = 0.10
BASE = {"RATE_LIMIT_ENABLED": "false", "CORS_ORIGINS": "", "WEB_CONCURRENCY": "1"}
QUIET = {"LOG_FORMAT": "text", "LOG_LEVEL": "WARNING", "METRICS_ENABLED": "false"}
VARIANTS = {
    "off (text, WARNING, no metrics)": QUIET,
    "on (json, INFO, metrics)": {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "METRICS_ENABLED": "true"},
    "off again (control)": QUIET,  # the same as off: how far apart two equal servers measure on this machine
}
OFF, ON, CONTROL = VARIANTS


def rest_rate(server: Server, requests: int) -> float:
    """Sequential GET /customers/012 over one keep-alive connection: requests per second."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        http.get("/customers/012").raise_for_status()
        started = time.perf_counter()
        for _ in range(requests):
            http.get("/customers/012").raise_for_status()
        return requests / (time.perf_counter() - started)


async def mcp_rate(server: Server, calls: int) -> float:
    """Sequential get_customer calls through one SDK client session: calls per second."""
    async with asyncio.timeout(300), Client(f"{server.url}/mcp") as client:
        await client.call_tool("get_customer", {"cust_id": "012"})
        started = time.perf_counter()
        for _ in range(calls):
            result = await client.call_tool("get_customer", {"cust_id": "012"})
            if result.is_error:
                raise RuntimeError(f"tool error: {result.content}")
        return calls / (time.perf_counter() - started)


def counted(server: Server) -> float:
    """GET /customers/<custid> answers 200 that the server's /metrics counted."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"{server.url}/metrics", timeout=30).raise_for_status().text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "salesmcp_http_requests_total" and sample.labels["route"] == "/customers/<custid>"
    )


async def middleware_cost(requests: int) -> dict[str, float]:
    """Microseconds per request of the request middleware (id, log line, route template, metrics), over a
    do-nothing app."""
    from salesmcp.config import Settings
    from salesmcp.logs import access_log, log_handler
    from salesmcp.web.access_log import AsgiAccessLog
    from salesmcp.web.app import create_rest_app, routes_of
    from salesmcp.web.telemetry import Metrics

    # The main server's own route namer, over its Flask routes (building them never touches a database).
    routes = routes_of(create_rest_app(Settings(_env_file=None), None, []))  # type: ignore[arg-type]

    def route_of(method: str, path: str) -> str:
        return routes.find(method, path).template

    nothing = nothing_app
    scope = {"type": "http", "method": "GET", "path": "/customers/012", "query_string": b"", "headers": [],
             "client": ("127.0.0.1", 1)}  # fmt: skip
    metrics = Metrics()
    handler = log_handler("json", io.StringIO())
    access_log.addHandler(handler)
    access_log.propagate = False
    variants = {
        "no middleware": (nothing, logging.WARNING),
        "off": (AsgiAccessLog(nothing, "main server"), logging.WARNING),
        "on": (AsgiAccessLog(nothing, "main server", metrics.observe_request, route_of), logging.INFO),
    }  # fmt: skip
    costs = {}
    try:
        for name, (app, level) in variants.items():
            access_log.setLevel(level)
            costs[name] = await asgi_cost(app, scope, requests)
    finally:
        access_log.removeHandler(handler)
        access_log.propagate = True
        access_log.setLevel(logging.NOTSET)
    return costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="REST requests per round and server")
    parser.add_argument("--calls", type=int, default=150, help="MCP tool calls per round and server")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--startup-timeout", type=float, default=60)
    args = parser.parse_args()

    rest: dict[str, list[float]] = {name: [] for name in VARIANTS}
    mcp: dict[str, list[float]] = {name: [] for name in VARIANTS}
    with running_variants("observability", VARIANTS, BASE, args.startup_timeout) as servers:
        for number in range(args.rounds):
            for name in list(servers)[:: -1 if number % 2 else 1]:
                rest[name].append(rest_rate(servers[name], args.requests))
                mcp[name].append(asyncio.run(mcp_rate(servers[name], args.calls)))
        expected = args.rounds * (args.requests + 1)
        seen = counted(servers[ON])
        if seen != expected:
            raise RuntimeError(f"/metrics counted {seen:.0f} REST requests, {expected} were sent")
        log_lines = len(servers[ON].log.read_text().splitlines())

    print(f"{args.rounds} rounds of {args.requests} REST requests and {args.calls} MCP tool calls per server "
          f"(best round shown); load average {load_average()}")  # fmt: skip
    table = Table(["server", "REST req/s", "REST slower", "MCP calls/s", "MCP slower"])
    for name in VARIANTS:
        best_rest, best_mcp = max(rest[name]), max(mcp[name])
        table.add(name, f"{best_rest:,.0f}", f"{1 - best_rest / max(rest[OFF]):.1%}", f"{best_mcp:,.0f}",
                  f"{1 - best_mcp / max(mcp[OFF]):.1%}")  # fmt: skip
    table.print()
    paired = Table(["median of the rounds' slowdowns", "REST", "MCP", "target", "result"])
    for name in (ON, CONTROL):
        rest_slower = statistics.median(1 - a / b for a, b in zip(rest[name], rest[OFF], strict=True))
        mcp_slower = statistics.median(1 - a / b for a, b in zip(mcp[name], mcp[OFF], strict=True))
        ok = rest_slower <= TARGET_SLOWDOWN and mcp_slower <= TARGET_SLOWDOWN
        target, result = (f"<= {TARGET_SLOWDOWN:.0%}", verdict(ok)) if name == ON else ("(noise)", "")
        paired.add(f"{name.split(' (')[0]} against off", f"{rest_slower:.1%}", f"{mcp_slower:.1%}", target, result)
    print()
    paired.print()
    print(f"/metrics of 'on' counted all {expected} REST requests; its log holds {log_lines} JSON lines")

    costs = asyncio.run(middleware_cost(20000))
    print("\nThe request middleware alone, in process (20000 requests over a do-nothing ASGI app):")
    small = Table(["variant", "us/request", "added us"])
    for name, cost in costs.items():
        small.add(name, f"{cost:.1f}", f"{cost - costs['no middleware']:.1f}")
    small.print()
    share = (costs["on"] - costs["off"]) / (1e6 / max(rest[OFF]))
    print(f"on adds {costs['on'] - costs['off']:.0f} us to a request: {share:.1%} of the best 'off' REST request here")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
