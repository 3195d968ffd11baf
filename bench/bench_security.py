"""The cost of rate limiting: REST requests/s and MCP tool calls/s with the limits off and on, in one run.

Run from the repository root:

    python bench/bench_security.py                  # about half a minute
    python bench/bench_security.py --requests 200   # smoke run

What it does:

1. Starts the real main server three times (``python -m salesmcp serve``, LOG_LEVEL=WARNING, each on
   its own scratch SQLite file with the demo data): limits off (``RATE_LIMIT_ENABLED=false``), limits
   on in memory, and limits on in Redis (``REDIS_URL``, a key prefix of this run's own; skipped when
   Redis at ``--redis-url`` does not answer). The limits are set far above what the run sends, so it
   measures the cost of counting, not of refusing.
2. In ``--rounds`` rounds, each server in turn (so drift of a shared machine hits all alike):
   ``--requests`` sequential ``GET /customer/012`` over one keep-alive httpx connection, and
   ``--calls`` sequential ``get_customer_revenue_by_period`` calls through one official SDK client
   session over Streamable HTTP. One warm-up of each per server first.
3. Prints, per server, the best round's requests/s and calls/s, and the slowdown against limits off
   (target: at most 10% slower).
4. Times the RateLimit middleware alone, in process over a do-nothing ASGI app (microseconds per
   request, off / memory / Redis): the cost itself, free of the servers' noise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx
from harness import DATA_ROOT, Server, Table, load_average, running_salesmcp, verdict
from mcp import Client

TARGET_SLOWDOWN = 0.10
GENEROUS = "100000000/hour"
REVENUE_ARGS = {"cust_id": "012", "start_date": "20260101", "end_date": "20260131"}


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def rest_rate(server: Server, requests: int) -> float:
    """Sequential GET /customer/012 over one keep-alive connection: requests per second."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        http.get("/customer/012").raise_for_status()
        started = time.perf_counter()
        for _ in range(requests):
            http.get("/customer/012").raise_for_status()
        return requests / (time.perf_counter() - started)


async def mcp_rate(server: Server, calls: int) -> float:
    """Sequential tool calls through one SDK client session: calls per second."""
    async with asyncio.timeout(300), Client(f"{server.url}/mcp") as client:
        await client.call_tool("get_customer_revenue_by_period", REVENUE_ARGS)
        started = time.perf_counter()
        for _ in range(calls):
            result = await client.call_tool("get_customer_revenue_by_period", REVENUE_ARGS)
            if result.is_error:
                raise RuntimeError(f"tool error: {result.content}")
        return calls / (time.perf_counter() - started)


async def middleware_cost(redis_url: str | None, requests: int) -> dict[str, float]:
    """Microseconds per request of the RateLimit middleware itself, in process over a do-nothing app."""
    from salesmcp.config import Settings
    from salesmcp.ratelimit import RateLimit

    async def nothing(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        pass

    scope = {"type": "http", "method": "GET", "path": "/customers", "headers": [], "client": ("127.0.0.1", 1)}
    apps = {"limits off": nothing}
    limits = {"rate_limit_reads": GENEROUS, "rate_limit_writes": GENEROUS, "rate_limit_generate": GENEROUS}
    apps["limits on (memory)"] = RateLimit(nothing, Settings(_env_file=None, **limits))
    if redis_url:
        prefix = f"salesmcp-bench-{uuid.uuid4().hex}"
        settings = Settings(_env_file=None, redis_url=redis_url, rate_limit_prefix=prefix, **limits)
        apps["limits on (redis)"] = RateLimit(nothing, settings)
    costs = {}
    for name, app in apps.items():
        await app(scope, receive, send)
        started = time.perf_counter()
        for _ in range(requests):
            await app(scope, receive, send)
        costs[name] = (time.perf_counter() - started) / requests * 1e6
    return costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="REST requests per round and server")
    parser.add_argument("--calls", type=int, default=300, help="MCP tool calls per round and server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis-url", default=os.environ.get("SALESMCP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--startup-timeout", type=float, default=60)
    args = parser.parse_args()

    base = {"LOG_LEVEL": "WARNING", "RATE_LIMIT_READS": GENEROUS, "RATE_LIMIT_WRITES": GENEROUS,
            "RATE_LIMIT_GENERATE": GENEROUS, "CORS_ORIGINS": "", "REDIS_URL": ""}  # fmt: skip
    variants = {"limits off": {"RATE_LIMIT_ENABLED": "false"}, "limits on (memory)": {"RATE_LIMIT_ENABLED": "true"}}
    if redis_answers(args.redis_url):
        prefix = f"salesmcp-bench-{uuid.uuid4().hex}"
        variants["limits on (redis)"] = {"RATE_LIMIT_ENABLED": "true", "REDIS_URL": args.redis_url,
                                         "RATE_LIMIT_PREFIX": prefix}  # fmt: skip
    else:
        print(f"Redis at {args.redis_url} does not answer: the Redis variant is skipped")

    folder = DATA_ROOT / f"security-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    rest: dict[str, list[float]] = {name: [] for name in variants}
    mcp: dict[str, list[float]] = {name: [] for name in variants}
    with ExitStack() as stack:
        servers = {}
        for number, (name, env) in enumerate(variants.items()):
            database = folder / f"db{number}.sqlite"
            server_args = ["serve", "--database-url", f"sqlite:///{database.as_posix()}"]
            log = Path(folder / f"server{number}.log")
            servers[name] = stack.enter_context(
                running_salesmcp(name, server_args, log, args.startup_timeout, env={**base, **env})
            )
        for _ in range(args.rounds):
            for name, server in servers.items():
                rest[name].append(rest_rate(server, args.requests))
                mcp[name].append(asyncio.run(mcp_rate(server, args.calls)))

    print(f"{args.rounds} rounds of {args.requests} REST requests and {args.calls} MCP tool calls per server "
          f"(best round shown); load average {load_average()}")  # fmt: skip
    table = Table(["server", "REST req/s", "REST slower", "MCP calls/s", "MCP slower", "target", "result"])
    off_rest, off_mcp = max(rest["limits off"]), max(mcp["limits off"])
    for name in variants:
        best_rest, best_mcp = max(rest[name]), max(mcp[name])
        rest_slower, mcp_slower = 1 - best_rest / off_rest, 1 - best_mcp / off_mcp
        ok = rest_slower <= TARGET_SLOWDOWN and mcp_slower <= TARGET_SLOWDOWN
        table.add(name, f"{best_rest:,.0f}", f"{rest_slower:.1%}", f"{best_mcp:,.0f}", f"{mcp_slower:.1%}",
                  f"<= {TARGET_SLOWDOWN:.0%}", verdict(ok))  # fmt: skip
    table.print()

    costs = asyncio.run(middleware_cost(variants["limits on (redis)"]["REDIS_URL"] if "limits on (redis)" in variants
                                        else None, 5000))  # fmt: skip
    print("\nThe middleware alone, in process (5000 requests over a do-nothing ASGI app):")
    small = Table(["variant", "us/request", "added us"])
    for name, cost in costs.items():
        small.add(name, f"{cost:.1f}", f"{cost - costs['limits off']:.1f}")
    small.print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
