"""What `salesmcp up` prints, run as a user runs it: a banner, then one line per request; chatter only at DEBUG."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest

from tests.conftest import ROOT, SEED_001_INITIALIZE, free_port

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT, as Ctrl-C does in a POSIX terminal")

TIMEOUT = 60
CHATTER = ("httpx", "httpcore", "alembic", "uvicorn", "waitress", "mcp.server")


@dataclass
class Up:
    process: subprocess.Popen
    customers: str
    sales: str
    main: str
    lines: list[str] = field(default_factory=list)

    def wait_for(self, found: Callable[[list[str]], bool], what: str, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not found(self.lines):
            assert time.monotonic() < deadline, f"no {what} within {timeout} s:\n{''.join(self.lines)}"
            assert self.process.poll() is None, f"salesmcp up exited:\n{''.join(self.lines)}"
            time.sleep(0.05)

    def after_banner(self) -> list[str]:
        start = next(i for i, line in enumerate(self.lines) if "Press Ctrl-C" in line)
        return [line.rstrip("\n") for line in self.lines[start + 1 :] if line.strip()]


@contextmanager
def salesmcp_up(tmp_path, **env: str) -> Iterator[Up]:
    """`salesmcp up` on free ports in an empty folder (so a new database is made), stderr collected."""
    ports = [free_port(), free_port(), free_port()]
    process = subprocess.Popen(
        [sys.executable, "-m", "salesmcp", "up", "--customer-port", str(ports[0]), "--sales-port", str(ports[1]),
         "--port", str(ports[2])],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "LOG_LEVEL": "INFO", **env},
    )  # fmt: skip
    up = Up(process, *(f"http://127.0.0.1:{port}" for port in ports))
    reader = threading.Thread(target=lambda: up.lines.extend(process.stderr), daemon=True)
    reader.start()
    try:
        up.wait_for(lambda lines: any("Press Ctrl-C" in line for line in lines), "banner")
        yield up
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=TIMEOUT) == 0
        reader.join(timeout=TIMEOUT)
    finally:
        process.kill()
        process.wait(timeout=TIMEOUT)


def post_mcp(url: str, message: dict) -> dict:
    response = httpx.post(f"{url}/mcp", json=message, headers={"Accept": "*/*"}, timeout=TIMEOUT)
    return json.loads(next(line[5:] for line in response.text.splitlines() if line.startswith("data:")))


def test_up_prints_a_banner_then_one_line_per_request_and_no_library_chatter(tmp_path):
    with salesmcp_up(tmp_path) as up:
        banner = "".join(up.lines)
        # Nothing before the banner but the one "Starting" line: no start-up logs of the servers.
        assert up.lines[0].startswith("Starting salesmcp")
        assert up.lines[1].strip() == "" and "is running" in up.lines[2], banner
        for url in (up.customers, up.sales, up.main, f"{up.main}/mcp"):
            assert f" {url} " in banner or f" {url}\n" in banner, url
        assert "salesmcp claude-config --write" in banner
        assert f"--env CUSTOMER_API_URL={up.customers}" in banner  # mcp_server.py must find the APIs elsewhere
        assert "What was the revenue of Eindhoven in January 2026?" in banner
        assert f"npx @modelcontextprotocol/inspector --cli {up.main}/mcp --method tools/list" in banner
        assert f'curl "{up.sales}/sales?start_date=20260101&end_date=20260131"' in banner
        assert f'curl -X POST {up.main}/mcp -H "Content-Type: application/json" -d \'{{"jsonrpc"' in banner
        assert "docs/how-it-works.md" in banner and "Ctrl-C" in banner

        # The banner's own curl commands work as printed.
        seed_001 = banner.split(" -d '", 1)[1].split("'\n", 1)[0]
        assert json.loads(seed_001) == SEED_001_INITIALIZE
        assert post_mcp(up.main, SEED_001_INITIALIZE)["result"]["serverInfo"]["name"] == "salesmcp"
        sales = httpx.get(f"{up.sales}/sales", params={"start_date": "20260101", "end_date": "20260131"}, timeout=10)
        assert sales.status_code == 200 and len(sales.json()) == 7
        assert httpx.get(f"{up.customers}/customer/012", timeout=10).json()["custname"] == "Bert"
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "get_city_revenue_by_period",
            "arguments": {"city": "Eindhoven", "start_date": "20260101", "end_date": "20260131"}}}  # fmt: skip
        assert post_mcp(up.main, call)["result"]["structuredContent"]["total_revenue"] == 54
        assert httpx.get(f"{up.main}/customers/nobody", timeout=10).status_code == 404
        assert httpx.get(f"{up.main}/health", timeout=10).status_code == 200  # polled by machines: DEBUG only

        up.wait_for(lambda lines: sum("GET /customers/nobody" in line for line in lines) == 1, "last request line")
        requests = up.after_banner()

    assert len(requests) == 5, requests
    expected = [
        "main server POST /mcp initialize -> 200",
        "sales API GET /sales?start_date=20260101&end_date=20260131 -> 200",
        "customer API GET /customer/012 -> 200",
        "main server POST /mcp tools/call get_city_revenue_by_period -> 200",
        "main server GET /customers/nobody -> 404",
    ]
    for line, words in zip(requests, expected, strict=True):
        assert words in line and " INFO salesmcp.access: " in line, (words, line)
    everything = "".join(up.lines)
    assert not [line for line in up.lines if any(f" {name}" in line for name in CHATTER)], everything
    assert "Traceback" not in everything


def test_debug_shows_the_library_chatter(tmp_path):
    with salesmcp_up(tmp_path, LOG_LEVEL="DEBUG") as up:
        assert httpx.get(f"{up.main}/health", timeout=10).status_code == 200
        up.wait_for(lambda lines: sum("main server GET /health" in line for line in lines) >= 2, "health line")
    everything = "".join(up.lines)
    assert " INFO httpx: HTTP Request: GET " in everything  # up's own health checks
    assert " INFO alembic.runtime.migration: Running upgrade" in everything  # the new database
    assert "DEBUG salesmcp.access: main server GET /health -> 200" in everything


def test_up_refuses_a_port_that_is_already_in_use(tmp_path, live_apis):
    taken = live_apis.customers.url.rsplit(":", 1)[1]
    result = subprocess.run(
        [sys.executable, "-m", "salesmcp", "up", "--customer-port", taken, "--sales-port", str(free_port()),
         "--port", str(free_port())],
        cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 1
    assert f"port {taken} (customer API) is already in use" in result.stderr
    assert "--customer-port" in result.stderr and "Traceback" not in result.stderr


def test_the_seed_stdio_server_logs_no_line_per_internal_request_at_info(live_apis):
    """mcp_server.py's stderr (Claude Desktop's log of it) stays quiet while its tools call the APIs."""
    messages = [
        SEED_001_INITIALIZE | {"params": SEED_001_INITIALIZE["params"] | {"protocolVersion": "2025-06-18"}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "get_city_revenue_by_period",
            "arguments": {"city": "Eindhoven", "start_date": "20260101", "end_date": "20260131"}}},
    ]  # fmt: skip
    env = {**os.environ, "CUSTOMER_API_URL": live_apis.customers.url, "SALES_API_URL": live_apis.sales.url,
           "LOG_LEVEL": "INFO"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "mcp_server.py")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )  # fmt: skip
    watchdog = threading.Timer(TIMEOUT, process.kill)  # bounds every read below
    watchdog.start()
    try:
        process.stdin.write("".join(json.dumps(m) + "\n" for m in messages))
        process.stdin.flush()
        replies = [json.loads(process.stdout.readline()) for _ in range(2)]
        process.stdin.close()
        stderr = process.stderr.read()
        process.wait(timeout=TIMEOUT)
    finally:
        watchdog.cancel()
        process.kill()
    assert replies[1]["result"]["structuredContent"]["total_revenue"] == 54
    assert "httpx" not in stderr and "HTTP Request" not in stderr, stderr
