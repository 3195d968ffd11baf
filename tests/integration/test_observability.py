"""The main app in process: a JSON line per request and per tool call under the request's id (also in
Flask's threads and the tools' worker threads), and /metrics beside /mcp, behind a token as configured."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from salesmcp.config import Settings
from salesmcp.logs import log_handler
from salesmcp.store.sql_store import open_store
from salesmcp.web.app import create_main_app

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
               "MCP-Protocol-Version": "2025-06-18"}  # fmt: skip
LEVELS = {"salesmcp.access": logging.INFO, "salesmcp.tools": logging.INFO, "sqlalchemy.engine.Engine": logging.INFO}


def tool_call(name: str, **arguments: object) -> dict:
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}


class JsonLog:
    """Our JSON handler on the root logger, as `LOG_FORMAT=json` sets it up; SQLAlchemy's statements logged
    too, from whichever thread runs them."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handler = log_handler("json", self.stream)

    def records(self, logger: str | None = None) -> list[dict]:
        found = [json.loads(line) for line in self.stream.getvalue().splitlines()]
        return [record for record in found if logger is None or record["logger"] == logger]


@pytest.fixture
def json_log() -> Iterator[JsonLog]:
    log = JsonLog()
    root = logging.getLogger()
    before = {name: logging.getLogger(name).level for name in LEVELS}
    root.addHandler(log.handler)
    for name, level in LEVELS.items():
        logging.getLogger(name).setLevel(level)
    yield log
    root.removeHandler(log.handler)
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def client_for(settings):
    # No columnar copy: its background catch-up at start runs SQL of its own, outside any request, which would
    # mix with the statements these tests attribute to requests.
    store = open_store(settings.model_copy(update={"analytics_engine": "database"}))
    clients = []

    def make(**changes) -> TestClient:
        client = TestClient(
            create_main_app(Settings.model_validate({**settings.model_dump(), **changes}), store),
            base_url="http://127.0.0.1:8080",
        )
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
    store.engine.dispose()


def scrape(client: TestClient, **headers: str) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_each_request_is_one_json_line_under_the_id_it_echoes(client_for, json_log):
    client = client_for()
    given = client.get("/customers/011?x=1", headers={"X-Request-ID": "trace-7"})
    made = client.get("/customers/nobody", headers={"X-Request-ID": "x" * 129})  # too long: replaced
    assert given.headers["X-Request-ID"] == "trace-7"
    assert len(made.headers["X-Request-ID"]) == 32
    lines = json_log.records("salesmcp.access")
    assert [line["request_id"] for line in lines] == ["trace-7", made.headers["X-Request-ID"]]
    first = lines[0]
    assert (first["method"], first["path"], first["status"], first["caller"]) == ("GET", "/customers/011", 200,
                                                                                  "anonymous")  # fmt: skip
    assert first["severity"] == "INFO" and first["latency_ms"] > 0 and first["server"] == "main server"
    assert lines[1]["status"] == 404


def test_the_request_id_reaches_flask_threads_and_the_tools_worker_threads(client_for, json_log):
    client = client_for()
    assert client.get("/customers/011", headers={"X-Request-ID": "rest-1"}).status_code == 200
    answer = client.post("/mcp", json=tool_call("get_customer", cust_id="012"), headers=MCP_HEADERS | {
        "X-Request-ID": "mcp-1"})  # fmt: skip
    assert '"isError":false' in answer.text and answer.headers["X-Request-ID"] == "mcp-1"
    statements = json_log.records("sqlalchemy.engine.Engine")
    # Each request's queries ran in another thread (a2wsgi's for Flask, anyio's for the sync tool): same id.
    assert {line.get("request_id") for line in statements} == {"rest-1", "mcp-1"}
    [tool] = json_log.records("salesmcp.tools")
    assert (tool["tool"], tool["outcome"], tool["request_id"]) == ("get_customer", "ok", "mcp-1")
    assert tool["duration_ms"] > 0
    [mcp_line] = [line for line in json_log.records("salesmcp.access") if line["path"] == "/mcp"]
    assert mcp_line["rpc"] == "tools/call get_customer" and mcp_line["request_id"] == "mcp-1"


def test_metrics_count_requests_by_route_template_and_tool_calls_by_outcome(client_for):
    client = client_for()
    for path in ("/customers/011", "/customers/012", "/customers/nobody", "/no/such/route/1", "/no/such/route/2"):
        client.get(path)
    client.post("/mcp", json=tool_call("get_customer", cust_id="011"), headers=MCP_HEADERS)
    client.post("/mcp", json=tool_call("get_customer", cust_id="nope"), headers=MCP_HEADERS)
    client.post("/mcp", json=tool_call("no_such_tool_" + "x" * 20), headers=MCP_HEADERS)
    found = scrape(client)
    requests = {labels: value for (name, labels), value in found.items() if name == "salesmcp_http_requests_total"}
    route = (("method", "GET"), ("route", "/customers/<custid>"))
    assert requests[(*route, ("status", "200"))] == 2 and requests[(*route, ("status", "404"))] == 1
    assert requests[(("method", "GET"), ("route", "unmatched"), ("status", "404"))] == 2  # not one label per path
    assert requests[(("method", "POST"), ("route", "/mcp"), ("status", "200"))] == 3
    calls = {labels: value for (name, labels), value in found.items() if name == "salesmcp_mcp_tool_calls_total"}
    assert calls == {
        (("outcome", "ok"), ("tool", "get_customer")): 1,
        (("outcome", "error"), ("tool", "get_customer")): 1,
        (("outcome", "error"), ("tool", "unknown")): 1,  # a caller's made-up name is no label of its own
    }
    assert found[("salesmcp_mcp_tool_call_duration_seconds_count", (("tool", "get_customer"),))] == 2
    assert found[("salesmcp_db_pool_connections_in_use", ())] == 0
    assert found[("salesmcp_generation_runs", (("state", "done"),))] == 0


def test_metrics_need_the_read_scope_once_tokens_are_set(client_for, json_log):
    client = client_for(api_tokens="reader:read")
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert scrape(client, Authorization="Bearer reader")
    assert json_log.records("salesmcp.access")[-1]["caller"] == "api-token-0"


def test_metrics_public_serves_them_without_a_token(client_for):
    client = client_for(api_tokens="reader:read", metrics_public=True)
    assert scrape(client)
    assert client.get("/customers/011").status_code == 401  # only /metrics is opened


def test_the_caller_of_an_mcp_request_is_logged(client_for, json_log):
    client = client_for(api_tokens="reader:read")
    answer = client.post("/mcp", json=tool_call("get_customer", cust_id="011"),
                         headers=MCP_HEADERS | {"Authorization": "Bearer reader"})  # fmt: skip
    assert answer.status_code == 200
    [line] = json_log.records("salesmcp.access")
    assert line["caller"] == "api-token-0"


def test_metrics_can_be_switched_off(client_for):
    client = client_for(metrics_enabled=False)
    assert client.get("/metrics").status_code == 404
    answer = client.post("/mcp", json=tool_call("get_customer", cust_id="011"), headers=MCP_HEADERS)
    assert '"isError":false' in answer.text
