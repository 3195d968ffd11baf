"""Rate limits: how requests are classed and keyed, and the middleware's 429, in memory and in Redis."""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path

import anyio
import httpx
import pytest
from limits import parse
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from salesmcp.config import Settings
from salesmcp.mcp import build_server
from salesmcp.mcp.base import SalesMCPServer
from salesmcp.scopes import GENERATE, READS, WRITES
from salesmcp.store.sql_store import open_store
from salesmcp.web import json_rpc
from salesmcp.web.app import create_rest_app, routes_of
from salesmcp.web.ratelimit import (
    MCP_PEEK_BYTES,
    SYNC_BATCH,
    SYNC_SECONDS,
    RateLimit,
    caller_key,
    request_class_of_json_rpc,
)
from salesmcp.web.routes import RouteTable
from tests.unit.redis_support import redis_url_or_skip

_DECLARED: list[tuple[RouteTable, SalesMCPServer]] = []


def _declared() -> tuple[RouteTable, SalesMCPServer]:
    """The real declarations: the main server's REST routes and every MCP tool (on a scratch SQLite file)."""
    if not _DECLARED:
        folder = tempfile.mkdtemp(prefix="salesmcp-ratelimit-")
        settings = Settings(_env_file=None, database_url=f"sqlite:///{Path(folder, 'db.sqlite').as_posix()}")
        store = open_store(settings)
        server = build_server(store, customers=store, settings=settings)
        _DECLARED.append((routes_of(create_rest_app(settings, store, server.tool_names())), server))
        store.engine.dispose()
    return _DECLARED[0]


def _call(name: str) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name}}).encode()


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [("GET", "/customers", READS), ("HEAD", "/sales", READS), ("POST", "/customers", WRITES),
     ("PATCH", "/customers/011", WRITES), ("POST", "/generate", GENERATE), ("POST", "/reset", GENERATE),
     ("GET", "/generate/3", READS)],
)  # fmt: skip
def test_rest_requests_are_classed_by_method_and_route(method, path, kind):
    routes, _ = _declared()
    assert routes.find(method, path).access.limit == kind


def _class_of(body: bytes) -> str:
    _, server = _declared()
    return request_class_of_json_rpc(json_rpc.messages({}, body), server.access_of)


def test_mcp_requests_are_classed_by_tool():
    assert _class_of(b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}') == READS
    assert _class_of(_call("get_customer")) == READS
    assert _class_of(_call("add_customer")) == WRITES
    assert _class_of(_call("generate_data")) == GENERATE
    assert _class_of(_call("reset_db")) == GENERATE
    batch = b"[" + _call("get_customer") + b"," + _call("reset_db") + b"]"
    assert _class_of(batch) == GENERATE
    assert _class_of(b"tools/call but not json") == READS


def test_an_undeclared_or_unknown_tool_counts_as_generate_as_auth_asks_admin_of_it():
    assert _class_of(_call("no_such_tool")) == GENERATE


def test_callers_are_keyed_by_subject_then_token_hash_then_address():
    scope = {"headers": [(b"authorization", b"Bearer s3cret")], "client": ("10.0.0.7", 5555), "state": {}}
    by_token = caller_key(scope)
    assert by_token.startswith("tok:") and "s3cret" not in by_token
    assert caller_key({**scope, "headers": []}) == "ip:10.0.0.7"
    assert caller_key({**scope, "state": {"caller": "alice"}}) == "sub:alice"


def test_bad_limit_strings_are_refused_by_the_settings():
    with pytest.raises(ValueError, match="600/minute"):
        Settings(rate_limit_reads="lots")


def _app(settings: Settings) -> RateLimit:
    async def echo(request):
        return JSONResponse({"body": (await request.body()).decode()})

    routes = [Route(path, echo, methods=["GET", "POST"]) for path in ("/", "/health", "/customers", "/mcp")]
    table, server = _declared()
    return RateLimit(Starlette(routes=routes), settings, table, server.access_of)


async def _client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=_app(settings)), base_url="http://test", timeout=10)


def _settings(**overrides) -> Settings:
    base = {"rate_limit_reads": "3/minute", "rate_limit_writes": "2/minute", "rate_limit_generate": "1/minute"}
    return Settings(_env_file=None, **{**base, **overrides})


@pytest.fixture(params=["memory", "redis"])
def limit_settings(request) -> Settings:
    if request.param == "memory":
        return _settings()
    return _settings(redis_url=redis_url_or_skip(), rate_limit_prefix=f"salesmcp-test-{uuid.uuid4().hex}")


@pytest.mark.anyio
async def test_a_caller_over_its_read_budget_gets_429_with_retry_after(limit_settings):
    async with await _client(limit_settings) as client:
        assert [(await client.get("/customers")).status_code for _ in range(3)] == [200, 200, 200]
        refused = await client.get("/customers")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json()["error"]["code"] == "rate_limited"
        assert "reads" in refused.json()["error"]["message"]
        other = await client.get("/customers", headers={"Authorization": "Bearer another-caller"})
        assert other.status_code == 200
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/")).status_code == 200


@pytest.mark.anyio
async def test_mcp_generate_calls_have_their_own_budget_and_the_body_still_arrives(limit_settings):
    async with await _client(limit_settings) as client:
        first = await client.post("/mcp", content=_call("generate_data"))
        assert first.status_code == 200 and json.loads(first.json()["body"])["params"]["name"] == "generate_data"
        assert (await client.post("/mcp", content=_call("reset_db"))).status_code == 429
        assert (await client.post("/mcp", content=_call("get_customer"))).status_code == 200


@pytest.mark.parametrize(("enabled", "expected"), [(True, True), (False, False)])
def test_rate_limit_enabled_false_leaves_the_middleware_out(settings, enabled, expected):
    from salesmcp.web.app import create_main_app

    app = create_main_app(settings.model_copy(update={"rate_limit_enabled": enabled}))
    assert any(entry.cls is RateLimit for entry in app.user_middleware) is expected


def _shared(limit: str, prefix: str) -> Settings:
    return _settings(rate_limit_reads=limit, redis_url=redis_url_or_skip(), rate_limit_prefix=prefix)


@pytest.mark.anyio
async def test_two_processes_sharing_redis_keep_a_large_budget_within_one_batch_per_process():
    """Far from the limit each process counts locally; the last tenth goes to Redis request by request."""
    prefix = f"salesmcp-test-{uuid.uuid4().hex}"
    first, second = await _client(_shared("300/minute", prefix)), await _client(_shared("300/minute", prefix))
    async with first, second:
        statuses = [(await client.get("/customers")).status_code for _ in range(200) for client in (first, second)]
    served = statuses.count(200)
    assert 300 <= served <= 300 + min(SYNC_BATCH, 300 // 20)  # at most one unsynced batch of the other process
    assert statuses[-10:] == [429] * 10


@pytest.mark.anyio
async def test_requests_counted_locally_reach_redis_within_the_sync_interval():
    prefix = f"salesmcp-test-{uuid.uuid4().hex}"
    settings = _shared("1000/minute", prefix)
    async with await _client(settings) as busy:
        for _ in range(50):
            assert (await busy.get("/customers")).status_code == 200
        await anyio.sleep(SYNC_SECONDS + 0.05)  # bounded: one sync interval
        assert (await busy.get("/customers")).status_code == 200  # this request pushes the local count
    limiter = RateLimit(Starlette(), settings, *_declared()[:1], _declared()[1].access_of).limiter
    stats = await limiter.get_window_stats(parse("1000/minute"), READS, "ip:127.0.0.1")
    assert stats.remaining == 1000 - 51


@pytest.mark.anyio
async def test_padding_a_tool_call_past_what_is_read_to_class_it_counts_it_as_generate():
    padded = _call("get_customer")[:-1] + b" " * MCP_PEEK_BYTES + b"}"
    async with await _client(_settings()) as client:
        assert (await client.post("/mcp", content=padded)).status_code == 200  # the one generate request
        assert (await client.post("/mcp", content=_call("generate_data"))).status_code == 429
        assert (await client.post("/mcp", content=_call("get_customer"))).status_code == 200
