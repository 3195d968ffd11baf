"""CORS and rate limits of `salesmcp serve`, as real processes: preflights for REST and /mcp, and 429 +
Retry-After in memory and in Redis (two servers sharing one budget)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server, start_server
from tests.unit.redis_support import redis_url_or_skip

TIMEOUT = 30
ALLOWED = "https://inspector.example"
REFUSED = "https://evil.example"
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": "2025-06-18"}  # fmt: skip
CLIENT = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": CLIENT}
MCP_REQUEST_HEADERS = "authorization,content-type,mcp-session-id,mcp-protocol-version,last-event-id"


def _serve(tmp: Path, **env: str) -> Server:
    """`salesmcp serve` on a scratch SQLite database with these environment variables."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return start_server("serve", "--database-url", f"sqlite:///{(tmp / 'scratch.db').as_posix()}")


@pytest.fixture(scope="module")
def cors_server(tmp_path_factory) -> Iterator[Server]:
    server = _serve(tmp_path_factory.mktemp("cors"), CORS_ORIGINS=f"{ALLOWED},http://localhost:6274")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory) -> Iterator[Server]:
    server = _serve(tmp_path_factory.mktemp("limits"), RATE_LIMIT_READS="4/minute", RATE_LIMIT_WRITES="2/minute",
                    RATE_LIMIT_GENERATE="1/minute")  # fmt: skip
    yield server
    server.stop()


def _preflight(url: str, origin: str, method: str = "POST", headers: str = MCP_REQUEST_HEADERS) -> httpx.Response:
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method,
                       "Access-Control-Request-Headers": headers}  # fmt: skip
    return httpx.options(url, headers=request_headers, timeout=TIMEOUT)


@pytest.mark.parametrize(("path", "method"), [("/mcp", "POST"), ("/customers", "GET"), ("/customers", "POST")])
def test_preflight_from_an_allowed_origin_allows_the_mcp_headers(cors_server, path, method):
    response = _preflight(f"{cors_server.url}{path}", ALLOWED, method)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    allowed = {name.strip().lower() for name in response.headers["access-control-allow-headers"].split(",")}
    assert set(MCP_REQUEST_HEADERS.split(",")) <= allowed
    assert method in response.headers["access-control-allow-methods"]


@pytest.mark.parametrize("path", ["/mcp", "/customers"])
def test_preflight_from_another_origin_is_refused(cors_server, path):
    response = _preflight(f"{cors_server.url}{path}", REFUSED)
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_mcp_answers_an_allowed_origin_and_refuses_another(cors_server):
    allowed = httpx.post(f"{cors_server.url}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "Origin": ALLOWED},
                         timeout=TIMEOUT)  # fmt: skip
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    exposed = {name.strip().lower() for name in allowed.headers["access-control-expose-headers"].split(",")}
    assert exposed >= {"mcp-session-id", "www-authenticate", "retry-after", "x-request-id"}
    # The SDK's own DNS-rebinding check refuses an Origin that CORS_ORIGINS does not list.
    refused = httpx.post(f"{cors_server.url}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "Origin": REFUSED},
                         timeout=TIMEOUT)  # fmt: skip
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers


def test_rest_answers_carry_cors_headers_for_an_allowed_origin(cors_server):
    response = httpx.get(f"{cors_server.url}/customers", headers={"Origin": ALLOWED}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED


@pytest.mark.parametrize("path", ["/mcp", "/customers"])
def test_without_cors_origins_there_are_no_cors_headers(limited_server, path):
    preflight = _preflight(f"{limited_server.url}{path}", ALLOWED)
    response = httpx.get(f"{limited_server.url}/health", headers={"Origin": ALLOWED}, timeout=TIMEOUT)
    for answer in (preflight, response):
        assert not [name for name in answer.headers if name.lower().startswith("access-control-")]


def _get_as(server: Server, caller: str, path: str = "/customers") -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {caller}"}, timeout=TIMEOUT)


def _tool_call_as(server: Server, caller: str, tool: str, **arguments) -> httpx.Response:
    body = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {caller}"}
    return httpx.post(f"{server.url}/mcp", content=json.dumps(body), headers=headers, timeout=TIMEOUT)


def _assert_limited(response: httpx.Response, kind: str) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.json()["error"]["code"] == "rate_limited"
    assert kind in response.json()["error"]["message"]


def test_rest_reads_over_the_limit_get_429_with_retry_after(limited_server):
    caller = f"rest-{uuid.uuid4().hex}"
    assert [_get_as(limited_server, caller).status_code for _ in range(4)] == [200] * 4
    _assert_limited(_get_as(limited_server, caller), "reads")
    assert _get_as(limited_server, f"other-{uuid.uuid4().hex}").status_code == 200  # per caller
    assert _get_as(limited_server, caller, "/health").status_code == 200  # never limited
    assert _get_as(limited_server, caller, "/").status_code == 200


def test_mcp_generate_calls_over_the_limit_get_429_with_retry_after(limited_server):
    caller = f"mcp-{uuid.uuid4().hex}"
    first = _tool_call_as(limited_server, caller, "generate_data", rows=-1)  # a tool error, but counted
    assert first.status_code == 200 and "rows" in first.text
    _assert_limited(_tool_call_as(limited_server, caller, "reset_db"), "generate")
    assert _tool_call_as(limited_server, caller, "get_customer", cust_id="012").status_code == 200  # reads apart


def test_mcp_write_calls_over_the_limit_get_429(limited_server):
    caller = f"writer-{uuid.uuid4().hex}"
    for _ in range(2):
        assert _tool_call_as(limited_server, caller, "disable_customer", cust_id="nobody").status_code == 200
    _assert_limited(_tool_call_as(limited_server, caller, "activate_customer", cust_id="nobody"), "writes")


@pytest.fixture(scope="module")
def redis_servers(tmp_path_factory) -> Iterator[tuple[Server, Server]]:
    """Two servers with one Redis budget (a key prefix of this run's own) and their own databases."""
    env = {"REDIS_URL": redis_url_or_skip(), "RATE_LIMIT_PREFIX": f"salesmcp-test-{uuid.uuid4().hex}",
           "RATE_LIMIT_READS": "4/minute"}  # fmt: skip
    first = _serve(tmp_path_factory.mktemp("redis-a"), **env)
    try:
        second = _serve(tmp_path_factory.mktemp("redis-b"), **env)
    except BaseException:
        first.stop()
        raise
    yield first, second
    first.stop()
    second.stop()


def test_two_servers_share_one_redis_budget_on_rest_and_mcp(redis_servers):
    first, second = redis_servers
    caller = f"shared-{uuid.uuid4().hex}"
    assert [_get_as(server, caller).status_code for server in (first, second, first, second)] == [200] * 4
    _assert_limited(_get_as(first, caller), "reads")
    _assert_limited(_get_as(second, caller), "reads")
    _assert_limited(_tool_call_as(second, caller, "get_customer", cust_id="012"), "reads")
    assert _get_as(second, f"fresh-{uuid.uuid4().hex}").status_code == 200
