"""The main ASGI app in process: the Flask routes and /mcp behind one optional bearer token."""

import json

import pytest
from starlette.testclient import TestClient

from salesmcp.web.app import create_main_app

INITIALIZE = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}  # fmt: skip
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture
def app(settings, sql_store):
    return lambda **changes: create_main_app(settings.model_copy(update=changes), sql_store)


def test_without_a_token_everything_is_open_on_loopback(app):
    with TestClient(app(), base_url="http://127.0.0.1:8080") as client:
        assert client.get("/customers/011").json()["name"] == "Annie"
        assert client.post("/mcp", content=json.dumps(INITIALIZE), headers=MCP_HEADERS).status_code == 200


def test_with_a_token_every_route_but_index_and_health_requires_it(app):
    with TestClient(app(api_token="s3cret"), base_url="http://127.0.0.1:8080") as client:
        assert client.get("/health").status_code == 200
        assert client.get("/").status_code == 200
        refused = client.get("/customers/011")
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert refused.json()["error"]["code"] == "unauthorized"
        assert client.post("/mcp", content=json.dumps(INITIALIZE), headers=MCP_HEADERS).status_code == 401
        wrong = client.get("/customers/011", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        good = {"Authorization": "Bearer s3cret"}
        assert client.get("/customers/011", headers=good).status_code == 200
        assert client.post("/mcp", content=json.dumps(INITIALIZE), headers=MCP_HEADERS | good).status_code == 200


def test_mcp_refuses_a_foreign_host_header_unless_it_is_allowed(app):
    with TestClient(app(), base_url="http://evil.example") as client:
        assert client.post("/mcp", content=json.dumps(INITIALIZE), headers=MCP_HEADERS).status_code == 421
    with TestClient(app(allowed_hosts="mcp.example.com"), base_url="http://mcp.example.com") as client:
        assert client.post("/mcp", content=json.dumps(INITIALIZE), headers=MCP_HEADERS).status_code == 200
