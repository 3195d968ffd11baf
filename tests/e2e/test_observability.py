"""`salesmcp serve` with two worker processes, as the container runs it (WEB_CONCURRENCY=2, LOG_FORMAT=json):
JSON lines on stderr, and /metrics that adds up every worker's counts whichever worker answers the scrape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import Client
from prometheus_client.parser import text_string_to_metric_families

from salesmcp.cli.processes import stop_process, wait_until_healthy
from tests.conftest import free_port

TIMEOUT = 60
REST_KEY = ("salesmcp_http_requests_total", (("method", "GET"), ("route", "/customers/<custid>"), ("status", "200")))
TOOL_KEY = ("salesmcp_mcp_tool_calls_total", (("outcome", "ok"), ("tool", "get_customer")))


def fresh_get(url: str, **headers: str) -> httpx.Response:
    """One request on a connection of its own, so the kernel may hand it to either worker."""
    with httpx.Client(timeout=TIMEOUT) as http:
        return http.get(url, headers=headers)


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    response = fresh_get(f"{url}/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def json_lines(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def access_pids(log: Path, request_prefix: str) -> set[int]:
    lines = json_lines(log)
    return {line["pid"] for line in lines if str(line.get("request_id", "")).startswith(request_prefix)}


@pytest.mark.anyio
async def test_two_workers_log_json_lines_and_metrics_add_up_across_them(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    scratch = tmp_path / "tmp"  # where the server makes its metrics folder, to see that it is removed after
    scratch.mkdir()
    env = {k: v for k, v in os.environ.items() if k.upper() != "PROMETHEUS_MULTIPROC_DIR"}
    env |= {"WEB_CONCURRENCY": "2", "LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "TMPDIR": str(scratch),
            "TEMP": str(scratch), "TMP": str(scratch)}  # fmt: skip
    with log.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "salesmcp", "serve", "--port", str(port)],
                                   cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=stderr)  # fmt: skip
    try:
        assert wait_until_healthy(f"{url}/health", TIMEOUT, process), log.read_text()
        [folder] = list(scratch.iterdir())  # the multiprocess metrics folder, made before the workers started

        # REST reads on fresh connections, 8 at a time, until both workers have answered some (bounded).
        sent = 0
        deadline = time.monotonic() + TIMEOUT
        with ThreadPoolExecutor(8) as pool:
            while len(access_pids(log, "rest-")) < 2 or sent < 24:
                assert time.monotonic() < deadline, f"one worker answered all {sent} requests"
                ids = [f"rest-{sent + n}" for n in range(8)]
                for request_id, response in zip(ids, pool.map(lambda i: fresh_get(f"{url}/customers/011", **{
                        "X-Request-ID": i}), ids), strict=True):  # fmt: skip
                    assert response.status_code == 200 and response.headers["X-Request-ID"] == request_id
                sent += len(ids)
        # MCP tool calls through the official SDK, a client (a connection) each.
        calls = 6
        with anyio.fail_after(TIMEOUT):
            for _ in range(calls):
                async with Client(f"{url}/mcp") as client:
                    assert not (await client.call_tool("get_customer", {"cust_id": "012"})).is_error

        # Every scrape, whichever worker answers it, counts every worker's requests (a request is counted
        # just after its answer is sent: wait, bounded, for the last ones first).
        deadline = time.monotonic() + TIMEOUT
        while scrape(url).get(REST_KEY) != sent and time.monotonic() < deadline:
            time.sleep(0.05)
        for _ in range(8):
            found = scrape(url)
            assert found[REST_KEY] == sent and found[TOOL_KEY] == calls, (found[REST_KEY], found[TOOL_KEY])

        lines = json_lines(log)
        [first] = [line for line in lines if line.get("request_id") == "rest-0"]
        assert first["logger"] == "salesmcp.access" and first["status"] == 200 and first["path"] == "/customers/011"
        tools = [line for line in lines if line.get("logger") == "salesmcp.tools"]
        assert len(tools) == calls and all(line["outcome"] == "ok" and "request_id" in line for line in tools)
        assert "Traceback" not in log.read_text()
    finally:
        stop_process(process)
    if sys.platform != "win32":  # terminate is a clean stop there; on Windows it is a kill
        assert process.returncode == 0, log.read_text()
        assert not folder.exists()


def test_the_stdio_server_logs_json_tool_lines_on_stderr_and_only_protocol_on_stdout(tmp_path):
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18",
         "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "get_customer",
         "arguments": {"cust_id": "012"}}},
    ]  # fmt: skip
    env = {**os.environ, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    process = subprocess.Popen(
        [sys.executable, "-m", "salesmcp", "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env,
    )  # fmt: skip
    watchdog = threading.Timer(TIMEOUT, process.kill)  # bounds every read below
    watchdog.start()
    try:
        process.stdin.write("".join(json.dumps(m) + "\n" for m in messages))
        process.stdin.flush()
        replies = [json.loads(process.stdout.readline()) for _ in range(2)]
        process.stdin.close()
        rest, stderr = process.stdout.read(), process.stderr.read()
        process.wait(timeout=TIMEOUT)
    finally:
        watchdog.cancel()
        process.kill()
    assert [reply.get("id") for reply in replies] == [1, 2] and rest == ""  # nothing on stdout but the answers
    assert replies[1]["result"]["structuredContent"]["custid"] == "012"
    logged = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    [tool] = [line for line in logged if line["logger"] == "salesmcp.tools"]
    assert (tool["tool"], tool["outcome"]) == ("get_customer", "ok")
