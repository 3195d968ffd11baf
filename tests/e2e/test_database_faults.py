"""The database goes away under a running `salesmcp serve`, and comes back: no restart needed.

A TCP proxy the test controls sits between the real server process and PostgreSQL / MariaDB. Cut,
every connection through it is closed and new ones are refused; blackholed, new connections are
accepted but never answered. Meanwhile /health/ready is 503 with the reason, REST routes are 503
with our JSON error and MCP tools a tool error; once the proxy forwards again, all of it works.
"""

from __future__ import annotations

import time

import anyio
import httpx
import pytest
from mcp import Client
from sqlalchemy.engine import make_url

from tests.conftest import emptied_database, start_server
from tests.support.tcp_proxy import TcpProxy

TIMEOUT = 60  # no request may take this long
FAST = 5.0  # seconds an answer may take while the database refuses connections
RECOVERY = 15.0  # seconds the server may take to serve again once the database is back
SHORT_CONNECT_TIMEOUT = 2  # seconds, in the URL: waiting on a silent database takes less time (libpq: at least 2)


@pytest.fixture(params=["postgresql", "mariadb"])
def proxied(request):
    """A proxy to a database holding the demo data, and a function starting the server through it."""
    url = make_url(emptied_database(request, request.param, demo_data=True))
    servers = []

    def serve(**query: str):
        through = url.set(host="127.0.0.1", port=proxy.port).update_query_dict(query)
        servers.append(start_server("serve", "--database-url", through.render_as_string(hide_password=False)))
        return servers[-1]

    with TcpProxy(url.host or "127.0.0.1", url.port or {"postgresql": 5432, "mariadb": 3306}[request.param]) as proxy:
        try:
            yield serve, proxy
        finally:
            for server in servers:
                server.stop()


def _get(server, path: str) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    response = httpx.get(f"{server.url}{path}", timeout=TIMEOUT)
    return response, time.monotonic() - began


def _tool(server, name: str, arguments: dict):
    async def call():
        with anyio.fail_after(TIMEOUT):
            async with Client(f"{server.url}/mcp") as client:
                return await client.call_tool(name, arguments)

    return anyio.run(call)


def _assert_serving(server) -> None:
    ready, _ = _get(server, "/health/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ok", ready.text
    assert _get(server, "/customers/011")[0].json()["name"] == "Annie"
    result = _tool(server, "get_customer", {"cust_id": "012"})
    assert not result.is_error and result.structured_content["name"] == "Bert", result


def _assert_unavailable(server, within: float) -> None:
    ready, took = _get(server, "/health/ready")
    assert ready.status_code == 503 and took < within, (ready.text, took)
    body = ready.json()
    assert body["status"] == "unavailable" and body["reason"].startswith("database unavailable: "), body
    assert body["error"]["code"] == "unavailable" and body["revision"] is None

    live, took = _get(server, "/health/live")
    assert (live.status_code, live.json(), took < FAST) == (200, {"status": "ok"}, True)
    assert _get(server, "/health")[0].status_code == 503

    for response in (
        _get(server, "/customers/011")[0],
        _get(server, "/sales?start_date=20260101&end_date=20260131")[0],
        httpx.patch(f"{server.url}/customers/011", json={"city": "Tilburg"}, timeout=TIMEOUT),
    ):
        assert response.status_code == 503, response.text
        assert response.headers["Content-Type"] == "application/json"
        error = response.json()["error"]
        assert error["code"] == "unavailable" and error["message"].startswith("database unavailable: "), error

    result = _tool(server, "get_customer", {"cust_id": "012"})
    assert result.is_error and "database unavailable: " in result.content[0].text, result


def _until_ready(server, timeout: float) -> float:
    began = time.monotonic()
    while _get(server, "/health/ready")[0].status_code != 200:
        assert time.monotonic() - began < timeout, "the server did not recover after the database came back"
        time.sleep(0.2)
    return time.monotonic() - began


def test_the_server_answers_503_while_the_database_is_cut_and_recovers_without_a_restart(proxied):
    serve, proxy = proxied
    server = serve()
    _assert_serving(server)
    assert proxy.connections > 0, "the server's pool should hold connections through the proxy"

    proxy.cut()
    _assert_unavailable(server, within=FAST)

    proxy.restore()
    _until_ready(server, RECOVERY)
    _assert_serving(server)
    response = httpx.patch(f"{server.url}/customers/011", json={"city": "Tilburg"}, timeout=TIMEOUT)
    assert response.status_code == 200 and response.json()["city"] == "Tilburg"
    assert server.process.poll() is None, "the same server process"


def test_a_database_that_stops_answering_costs_a_request_the_connect_timeout_not_minutes(proxied):
    serve, proxy = proxied
    server = serve(connect_timeout=str(SHORT_CONNECT_TIMEOUT))  # the default, 10 s: tests/integration/store
    _assert_serving(server)

    proxy.blackhole()  # open connections close; new ones are accepted and never answered
    _assert_unavailable(server, within=SHORT_CONNECT_TIMEOUT + FAST)

    proxy.restore()
    _until_ready(server, RECOVERY)
    _assert_serving(server)
