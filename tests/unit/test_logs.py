"""Log lines as text or JSON, the request id they carry, and which ids a caller may choose."""

import io
import json
import logging

import pytest

from salesmcp.logs import log_handler, log_request, log_tool_call, request_id_from, request_id_var


@pytest.fixture
def captured() -> "Capture":
    return Capture()


class Capture:
    """The salesmcp loggers written through a real handler of ours, as text or JSON, into a string."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handlers: list[logging.Handler] = []

    def use(self, log_format: str) -> None:
        handler = log_handler(log_format, self.stream)
        logger = logging.getLogger("salesmcp")
        logger.addHandler(handler)
        self.handlers.append(handler)
        logging.getLogger("salesmcp.access").setLevel(logging.DEBUG)
        logging.getLogger("salesmcp.tools").setLevel(logging.INFO)

    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()

    def close(self) -> None:
        for handler in self.handlers:
            logging.getLogger("salesmcp").removeHandler(handler)
        logging.getLogger("salesmcp.access").setLevel(logging.NOTSET)
        logging.getLogger("salesmcp.tools").setLevel(logging.NOTSET)


@pytest.fixture(autouse=True)
def _detach(captured: Capture):
    yield
    captured.close()


@pytest.mark.parametrize("given", ["abc-123", "trace/1;o=1", "x" * 128, "Root=1-5759e988-bd862e3fe1be46a994272793"])
def test_a_printable_request_id_of_at_most_128_characters_is_kept(given):
    assert request_id_from(given) == given


@pytest.mark.parametrize("given", [None, "", " ", "x" * 129, "bad\nid", "tab\there", "caf\u00e9", "nul\x00"])
def test_any_other_request_id_is_replaced_by_a_new_one(given):
    made = request_id_from(given)
    assert made != given and len(made) == 32 and int(made, 16) >= 0  # uuid4 hex
    assert request_id_from(given) != made  # a new one each time


def test_a_json_request_line_has_every_field_and_the_request_id(captured):
    captured.use("json")
    token = request_id_var.set("req-1")
    try:
        log_request("main server", "GET", "/customers/011", "a=1", 200, 0.0123, "api-token-0")
    finally:
        request_id_var.reset(token)
    [line] = captured.lines()
    record = json.loads(line)
    assert record["request_id"] == "req-1"
    assert record | {"time": None, "pid": None} == {
        "severity": "INFO", "logger": "salesmcp.access", "time": None, "pid": None, "request_id": "req-1",
        "message": "main server GET /customers/011?a=1 -> 200 (12 ms)", "server": "main server",
        "method": "GET", "path": "/customers/011", "status": 200, "latency_ms": 12.3, "caller": "api-token-0",
    }  # fmt: skip
    assert record["time"].endswith("+00:00")  # RFC 3339, UTC


def test_a_json_tool_line_names_the_tool_its_duration_and_outcome(captured):
    captured.use("json")
    log_tool_call("get_customer", "error", 0.002, "cust_id: is required")
    [record] = [json.loads(line) for line in captured.lines()]
    assert record["tool"] == "get_customer" and record["outcome"] == "error" and record["duration_ms"] == 2.0
    assert record["error"] == "cust_id: is required" and "request_id" not in record  # outside any request


def test_text_lines_keep_the_readable_format(captured):
    captured.use("text")
    log_request("sales API", "GET", "/sales", "start_date=20260101", 200, 0.001, None)
    [line] = captured.lines()
    assert line.endswith(" INFO salesmcp.access: sales API GET /sales?start_date=20260101 -> 200 (1 ms)")


def test_a_newline_in_a_json_field_cannot_forge_a_line(captured):
    captured.use("json")
    log_request("main server", "GET", '/customer/011\n{"severity": "ERROR"}', "", 404, 0.001, None)
    [line] = captured.lines()
    assert "\\n" in json.loads(line)["path"]


def test_health_probes_are_logged_at_debug(captured):
    captured.use("json")
    for path in ("/health", "/health/live", "/health/ready"):
        log_request("main server", "GET", path, "", 200, 0.001, None)
    assert {json.loads(line)["severity"] for line in captured.lines()} == {"DEBUG"}
