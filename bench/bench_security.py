"""The cost of auth + rate limiting: REST requests/s and MCP tool calls/s with them off and on, in one run.

Run from the repository root:

    python bench/bench_security.py                  # about half a minute
    python bench/bench_security.py --requests 200   # smoke run

What it does:

1. Starts the real main server three times (``python -m salesmcp serve``, LOG_LEVEL=WARNING, each on
   its own scratch SQLite file with the demo data): open (no token source, ``RATE_LIMIT_ENABLED=false``),
   auth + limits in memory (``API_TOKENS``; every request sends its bearer token), and auth + limits in
   Redis (``REDIS_URL``, a key prefix of this run's own; skipped when Redis at ``--redis-url`` does not
   answer). The limits are set far above what the run sends: it measures checking and counting, not
   refusing.
2. In ``--rounds`` rounds, each server in turn (so drift of a shared machine hits all alike):
   ``--requests`` sequential ``GET /customer/012`` over one keep-alive httpx connection; the same with
   ``--concurrency`` clients at once (throughput: a store round trip overlaps other requests); and
   ``--calls`` sequential ``get_customer_revenue_by_period`` calls through one official SDK client
   session over Streamable HTTP. One warm-up of each per server first.
3. Prints, per server, the best round's rates and the slowdown against the open server (target: at
   most 10% slower).
4. Times the pieces alone, in process over a do-nothing ASGI app (microseconds per request): the
   RateLimit middleware (off / memory / Redis) and the token check (API token, a JWT seen before).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid

import httpx
from harness import Server, Table, asgi_cost, load_average, nothing_app, running_variants, verdict
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


TOKEN = "bench-token"


def rest_rate(server: Server, requests: int, token: str | None) -> float:
    """Sequential GET /customer/012 over one keep-alive connection: requests per second."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=server.url, timeout=30, headers=headers) as http:
        http.get("/customer/012").raise_for_status()
        started = time.perf_counter()
        for _ in range(requests):
            http.get("/customer/012").raise_for_status()
        return requests / (time.perf_counter() - started)


async def concurrent_rest_rate(server: Server, requests: int, token: str | None, concurrency: int) -> float:
    """GET /customer/012 from ``concurrency`` keep-alive connections at once: requests per second."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with (
        asyncio.timeout(300),
        httpx.AsyncClient(base_url=server.url, timeout=30, headers=headers, limits=limits) as http,
    ):

        async def worker(count: int) -> None:
            for _ in range(count):
                (await http.get("/customer/012")).raise_for_status()

        await asyncio.gather(*(worker(2) for _ in range(concurrency)))
        started = time.perf_counter()
        await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
        return requests // concurrency * concurrency / (time.perf_counter() - started)


async def mcp_rate(server: Server, calls: int, token: str | None) -> float:
    """Sequential tool calls through one SDK client session: calls per second."""
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = httpx2.AsyncClient(headers=headers, timeout=30)
    async with asyncio.timeout(300), Client(streamable_http_client(f"{server.url}/mcp", http_client=http)) as client:
        await client.call_tool("get_customer_revenue_by_period", REVENUE_ARGS)
        started = time.perf_counter()
        for _ in range(calls):
            result = await client.call_tool("get_customer_revenue_by_period", REVENUE_ARGS)
            if result.is_error:
                raise RuntimeError(f"tool error: {result.content}")
        return calls / (time.perf_counter() - started)


async def middleware_cost(redis_url: str | None, requests: int) -> dict[str, float]:
    """Microseconds per request of the RateLimit middleware itself, in process over a do-nothing app."""
    from salesmcp.config import DATA_DIR, Settings
    from salesmcp.mcp import build_server
    from salesmcp.store.csv_store import CsvStore
    from salesmcp.web.app import create_rest_app, routes_of
    from salesmcp.web.ratelimit import RateLimit

    # The main server's own declarations: its REST routes (building them never touches a database) and tools.
    routes = routes_of(create_rest_app(Settings(_env_file=None), None, []))  # type: ignore[arg-type]
    tool_access = build_server(CsvStore(DATA_DIR / "customers.csv", DATA_DIR / "sales.csv")).access_of
    nothing = nothing_app
    scope = {"type": "http", "method": "GET", "path": "/customers", "headers": [], "client": ("127.0.0.1", 1)}
    apps = {"limits off": nothing}
    limits = {"rate_limit_reads": GENEROUS, "rate_limit_writes": GENEROUS, "rate_limit_generate": GENEROUS}
    apps["limits on (memory)"] = RateLimit(nothing, Settings(_env_file=None, **limits), routes, tool_access)
    if redis_url:
        prefix = f"salesmcp-bench-{uuid.uuid4().hex}"
        settings = Settings(_env_file=None, redis_url=redis_url, rate_limit_prefix=prefix, **limits)
        apps["limits on (redis)"] = RateLimit(nothing, settings, routes, tool_access)
    costs = {}
    for name, app in apps.items():
        costs[name] = await asgi_cost(app, scope, requests)
    costs.update(await token_check_cost(requests))
    return costs


async def token_check_cost(requests: int) -> dict[str, float]:
    """Microseconds per token check: an API token among three, and a JWT the verifier has seen before
    (signed by a key made here; the first check fetches its JWKS from a loopback server)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    from salesmcp.config import Settings
    from salesmcp.web.auth import CallerVerifier

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "bench", "use": "sig", "alg": "RS256"}]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    jwks_url = f"http://127.0.0.1:{http.server_address[1]}/"
    settings = Settings(_env_file=None, api_tokens=f"a:read,b:write,{TOKEN}:admin", oauth_issuer="https://i.test",
                        oauth_audience="bench", oauth_jwks_url=jwks_url)  # fmt: skip
    verifier = CallerVerifier(settings)
    now = int(time.time())
    claims = {"iss": "https://i.test", "aud": "bench", "sub": "u", "scope": "read", "exp": now + 3600}
    signed = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "bench"})
    costs = {}
    try:
        for name, token in (("token check: API token", TOKEN), ("token check: JWT seen before", signed)):
            assert await verifier.verify_token(token) is not None
            started = time.perf_counter()
            for _ in range(requests):
                await verifier.verify_token(token)
            costs[name] = (time.perf_counter() - started) / requests * 1e6
    finally:
        http.shutdown()
    return costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="REST requests per round and server")
    parser.add_argument("--calls", type=int, default=300, help="MCP tool calls per round and server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8, help="clients at once in the throughput run")
    parser.add_argument("--redis-url", default=os.environ.get("SALESMCP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--startup-timeout", type=float, default=60)
    args = parser.parse_args()

    base = {"LOG_LEVEL": "WARNING", "RATE_LIMIT_READS": GENEROUS, "RATE_LIMIT_WRITES": GENEROUS,
            "RATE_LIMIT_GENERATE": GENEROUS, "CORS_ORIGINS": "", "REDIS_URL": "", "API_TOKEN": "",
            "API_TOKENS": "", "OAUTH_ISSUER": "", "OAUTH_AUDIENCE": "", "OAUTH_JWKS_URL": ""}  # fmt: skip
    secured = {"RATE_LIMIT_ENABLED": "true", "API_TOKENS": f"reader:read,writer:read+write,{TOKEN}:admin"}
    variants = {"open": {"RATE_LIMIT_ENABLED": "false"}, "auth + limits (memory)": secured}
    if redis_answers(args.redis_url):
        prefix = f"salesmcp-bench-{uuid.uuid4().hex}"
        variants["auth + limits (redis)"] = {**secured, "REDIS_URL": args.redis_url, "RATE_LIMIT_PREFIX": prefix}
    else:
        print(f"Redis at {args.redis_url} does not answer: the Redis variant is skipped")

    rest: dict[str, list[float]] = {name: [] for name in variants}
    busy: dict[str, list[float]] = {name: [] for name in variants}
    mcp: dict[str, list[float]] = {name: [] for name in variants}
    with running_variants("security", variants, base, args.startup_timeout) as servers:
        for _ in range(args.rounds):
            for name, server in servers.items():
                token = None if name == "open" else TOKEN
                rest[name].append(rest_rate(server, args.requests, token))
                busy[name].append(asyncio.run(concurrent_rest_rate(server, args.requests, token, args.concurrency)))
                mcp[name].append(asyncio.run(mcp_rate(server, args.calls, token)))

    print(f"{args.rounds} rounds of {args.requests} REST requests (one client, then {args.concurrency} at once) and "
          f"{args.calls} MCP tool calls per server (best round shown); load average {load_average()}")  # fmt: skip
    table = Table(["server", "REST req/s", "slower", f"REST x{args.concurrency} req/s", "slower", "MCP calls/s",
                   "slower", "target", "result"])  # fmt: skip
    open_rates = max(rest["open"]), max(busy["open"]), max(mcp["open"])
    for name in variants:
        rates = max(rest[name]), max(busy[name]), max(mcp[name])
        slower = [1 - rate / reference for rate, reference in zip(rates, open_rates, strict=True)]
        ok = all(value <= TARGET_SLOWDOWN for value in slower)
        cells = [cell for rate, value in zip(rates, slower, strict=True) for cell in (f"{rate:,.0f}", f"{value:.1%}")]
        table.add(name, *cells, f"<= {TARGET_SLOWDOWN:.0%}", verdict(ok))
    table.print()

    redis_variant = variants.get("auth + limits (redis)")
    costs = asyncio.run(middleware_cost(redis_variant["REDIS_URL"] if redis_variant else None, 5000))
    print("\nThe pieces alone, in process (5000 requests; the middleware over a do-nothing ASGI app):")
    small = Table(["variant", "us/request", "added us"])
    for name, cost in costs.items():
        small.add(name, f"{cost:.1f}", f"{cost - costs['limits off']:.1f}")
    small.print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
