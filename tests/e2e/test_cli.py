"""The salesmcp command line, run as a user runs it."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from click.testing import CliRunner

from salesmcp.cli import main
from salesmcp.cli.processes import wait_until_healthy
from tests.conftest import ROOT, free_port, start_server


def test_every_command_has_help_text():
    for name, command in main.commands.items():
        assert command.help, f"salesmcp {name} has no help text"
        assert CliRunner().invoke(main, [name, "--help"]).exit_code == 0


def test_claude_config_prints_an_entry_with_absolute_paths(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["claude-config"])
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["mcpServers"]["sales-analysis"]
    assert entry["args"] == [str(ROOT / "mcp_server.py")]
    assert entry["command"] == os.path.abspath(sys.executable)  # never resolved through links (issue 7)


def test_claude_config_write_merges_into_the_given_file(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    target = tmp_path / "claude_desktop_config.json"
    target.write_text('{"mcpServers": {"keep": {"command": "k"}}}', encoding="utf-8")
    result = CliRunner().invoke(main, ["claude-config", "--write", "--config-path", str(target)])
    assert result.exit_code == 0, result.output
    assert set(json.loads(target.read_text(encoding="utf-8"))["mcpServers"]) == {"keep", "sales-analysis"}
    assert list(tmp_path.glob("claude_desktop_config.json.*.bak"))


def test_claude_config_outside_the_project_asks_for_the_script(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["claude-config"])
    assert result.exit_code == 2
    assert "--script" in result.output


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOG_LEVEL", "LOUD"), ("LOG_FORMAT", "xml"), ("WEB_CONCURRENCY", "0"), ("WEB_CONCURRENCY", "many"),
     ("METRICS_ENABLED", "maybe"), ("METRICS_PUBLIC", "2"), ("RATE_LIMIT_READS", "lots")],
)  # fmt: skip
def test_a_bad_setting_is_a_clear_usage_error_naming_it(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["mcp-seed"])
    assert result.exit_code == 2
    assert name in result.output and "Traceback" not in result.output


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT, as Ctrl-C does in a POSIX terminal")
def test_up_starts_the_whole_system_prints_how_to_connect_and_ctrl_c_stops_it(tmp_path):
    customer_port, sales_port, main_port = free_port(), free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "salesmcp", "up", "--customer-port", str(customer_port),
         "--sales-port", str(sales_port), "--port", str(main_port)],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while not any("Press Ctrl-C" in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.1)
        output = "".join(lines)
        assert "Press Ctrl-C" in output, output
        assert "claude-config" in output and "inspector" in output
        for port in (customer_port, sales_port, main_port):
            assert wait_until_healthy(f"http://127.0.0.1:{port}/health", 5)
        assert (tmp_path / "data" / "customers.db").is_file()  # the embedded default database
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
    for port in (customer_port, sales_port, main_port):
        assert not wait_until_healthy(f"http://127.0.0.1:{port}/health", 1)


def test_claude_config_database_entry_runs_salesmcp_mcp_on_an_absolute_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["claude-config", "--database"])
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["mcpServers"]["salesmcp"]
    assert entry["args"] == ["-m", "salesmcp", "mcp"]
    assert entry["env"]["DATABASE_URL"] == f"sqlite:///{(tmp_path / 'data' / 'customers.db').resolve().as_posix()}"


def test_serve_refuses_every_interface_without_a_token(monkeypatch):
    monkeypatch.delenv("API_TOKEN", raising=False)
    monkeypatch.delenv("ALLOW_UNAUTHENTICATED", raising=False)
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "HOST: 0.0.0.0 is reachable from other machines" in result.output
    assert "Traceback" not in result.output


def test_the_seed_000_servers_can_read_the_database_instead_of_the_csv_files(tmp_path):
    url = f"sqlite:///{(tmp_path / 'shop.db').as_posix()}"
    customers = start_server("serve-customers", "--database-url", url)
    try:
        # Gijs (017) exists only in the database's demo data, not in the bundled customers.csv.
        assert httpx.get(f"{customers.url}/customer/017", timeout=10).json()["custname"] == "Gijs"
    finally:
        customers.stop()
    sales = start_server("serve-sales", "--database-url", url)
    try:
        answer = httpx.get(f"{sales.url}/sales?start_date=20260103&end_date=20260103", timeout=10).json()
        assert answer == [{"ordid": 501, "custid": "012", "orddate": "20260103", "ordamount": 9}]
    finally:
        sales.stop()
