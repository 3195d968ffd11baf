"""mcp_server.py as Claude Desktop runs it: a real stdio subprocess, reading the real APIs over HTTP."""

import json
import os
import subprocess
import sys
import threading

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.conftest import ROOT, free_port

TIMEOUT = 60


def stdio_server(customer_url: str, sales_url: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=[str(ROOT / "mcp_server.py")],
        cwd=str(ROOT),
        env={"CUSTOMER_API_URL": customer_url, "SALES_API_URL": sales_url, "API_TIMEOUT": "5"},
    )


@pytest.mark.anyio
async def test_both_seed_examples_through_a_real_stdio_session(live_apis):
    with anyio.fail_after(TIMEOUT):
        async with Client(stdio_server(live_apis.customers.url, live_apis.sales.url)) as client:
            tools = sorted(tool.name for tool in (await client.list_tools()).tools)
            bert = await client.call_tool(
                "get_customer_revenue_by_period", {"cust_id": "012", "start_date": "20260101", "end_date": "20260131"}
            )
            city = await client.call_tool(
                "get_city_revenue_by_period", {"city": "Eindhoven", "start_date": "20260101", "end_date": "20260131"}
            )
            bad = await client.call_tool(
                "get_city_revenue_by_period", {"city": "Eindhoven", "start_date": "20260101", "end_date": "2026-31-01"}
            )
    assert tools == ["get_city_revenue_by_period", "get_customer_revenue_by_period"]
    assert bert.structured_content == {
        "custid": "012", "custname": "Bert", "city": "Eindhoven", "revenue": 14, "sales_count": 2,
    }  # fmt: skip
    assert city.structured_content["total_revenue"] == 54
    assert [c["revenue"] for c in city.structured_content["customers"]] == [19, 14, 21]
    assert bad.is_error and "end_date" in bad.content[0].text


@pytest.mark.anyio
async def test_apis_that_are_down_give_a_tool_error_with_the_url_and_how_to_start_them():
    closed = f"http://127.0.0.1:{free_port()}"
    with anyio.fail_after(TIMEOUT):
        async with Client(stdio_server(closed, closed)) as client:
            result = await client.call_tool(
                "get_city_revenue_by_period", {"city": "Eindhoven", "start_date": "20260101", "end_date": "20260131"}
            )
    assert result.is_error
    text = result.content[0].text
    assert closed in text and "python cust_server.py" in text and "Traceback" not in text


@pytest.mark.parametrize("entry", ["mcp_server.py", "salesmcp mcp"])
def test_stdout_carries_nothing_but_protocol_messages(entry, live_apis, tmp_path):
    """Every stdout line is JSON-RPC, even with DEBUG logging on and a database created on the way."""
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "get_city_revenue_by_period",
            "arguments": {"city": "Tilburg", "start_date": "20260101", "end_date": "20260228"}}},
    ]  # fmt: skip
    env = {"CUSTOMER_API_URL": live_apis.customers.url, "SALES_API_URL": live_apis.sales.url, "LOG_LEVEL": "DEBUG",
           "DATABASE_URL": f"sqlite:///{(tmp_path / 'fresh.db').as_posix()}"}  # fmt: skip
    command = [str(ROOT / "mcp_server.py")] if entry == "mcp_server.py" else ["-m", "salesmcp", "mcp"]
    process = subprocess.Popen(
        [sys.executable, *command],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    watchdog = threading.Timer(TIMEOUT, process.kill)  # bounds every read below
    watchdog.start()
    replies = []
    try:
        process.stdin.write("".join(json.dumps(m) + "\n" for m in messages))
        process.stdin.flush()
        while not any(reply.get("id") == 2 for reply in replies):
            line = process.stdout.readline()
            assert line, "the server closed stdout before answering"
            replies.append(json.loads(line))  # anything but JSON on stdout fails here
        process.stdin.close()
        stderr = process.stderr.read()
        process.wait(timeout=TIMEOUT)
    finally:
        watchdog.cancel()
        process.kill()
    assert all(reply.get("jsonrpc") == "2.0" for reply in replies)
    answer = next(r for r in replies if r.get("id") == 2)
    assert answer["result"]["structuredContent"]["total_revenue"] == 28  # 11 + 5 + 7 (Dirk) + 5 (Eric)
    assert "DEBUG" in stderr  # the logs went to stderr, not stdout
