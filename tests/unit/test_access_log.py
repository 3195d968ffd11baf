"""One log line per request: what it says, that a request cannot make it two, and the request id of it."""

import logging

import pytest
from flask import Flask
from werkzeug.test import Client

from salesmcp.logs import RequestContext
from salesmcp.web.access_log import WsgiAccessLog, describe_json_rpc


@pytest.fixture
def client() -> Client:
    app = Flask("test")

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.get("/work")
    def work():
        logging.getLogger("salesmcp.work").warning("working")  # a line logged while handling the request
        return {"status": "ok"}

    return Client(WsgiAccessLog(app, "sales API"))


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "salesmcp.access"]


def test_a_request_is_one_line_with_method_path_query_and_status(client, caplog):
    caplog.set_level(logging.DEBUG, logger="salesmcp.access")
    client.get("/sales?start_date=20260101&end_date=20260131")
    [(level, message)] = lines(caplog)
    assert level == logging.INFO
    assert message.startswith("sales API GET /sales?start_date=20260101&end_date=20260131 -> 404 (")


def test_health_checks_are_logged_at_debug_only(client, caplog):
    caplog.set_level(logging.DEBUG, logger="salesmcp.access")
    client.get("/health")
    assert [level for level, _ in lines(caplog)] == [logging.DEBUG]


def test_a_newline_in_the_path_cannot_forge_a_second_log_line(client, caplog):
    caplog.set_level(logging.INFO, logger="salesmcp.access")
    client.get("/customer/011%0A2026-01-01 INFO salesmcp.access: forged")
    [(_, message)] = lines(caplog)
    assert "\n" not in message and "\\n" in message


@pytest.mark.parametrize(
    ("body", "described"),
    [
        (b'{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}', " initialize"),
        (b'{"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "get_customer"}}',
         " tools/call get_customer"),
        (b'{"jsonrpc": "2.0", "id": 4, "method": "resources/read", "params": {"uri": "customer://012"}}',
         " resources/read customer://012"),
        (b'{"jsonrpc": "2.0", "id": 5, "result": {}}', ""),
        (b"not json", ""),
        (b'[{"method": "ping"}, {"method": "tools/list"}]', " ping, tools/list"),
    ],
)  # fmt: skip
def test_an_mcp_request_is_described_by_its_json_rpc_method(body, described):
    assert describe_json_rpc(body) == described


def test_the_request_id_is_echoed_and_carried_into_every_line_of_the_request(client, caplog):
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RequestContext())  # what our handlers carry (salesmcp.logs.log_handler)
    response = client.get("/work", headers={"X-Request-ID": "req-42"})
    assert response.headers["X-Request-ID"] == "req-42"
    ids = {r.name: getattr(r, "request_id", None) for r in caplog.records if r.name.startswith("salesmcp.")}
    assert ids == {"salesmcp.work": "req-42", "salesmcp.access": "req-42"}


def test_a_request_without_a_usable_id_gets_a_new_one(client):
    first = client.get("/health", headers={"X-Request-ID": "bad\tid"}).headers["X-Request-ID"]
    second = client.get("/health").headers["X-Request-ID"]
    assert len(first) == len(second) == 32 and first != second
