"""`salesmcp doctor` tells each way a Claude Desktop setup breaks apart, naming the fix, and passes a working one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from salesmcp.cli import main
from salesmcp.desktop import config as desktop
from tests.conftest import ROOT, free_port

PYTHON = os.path.abspath(sys.executable)
SEED_SCRIPT = str(ROOT / "mcp_server.py")


def doctor(tmp_path: Path, servers: dict | None = None, *options: str, text: str | None = None) -> Result:
    """Write a config holding ``servers`` (or ``text``) and run `salesmcp doctor` on it."""
    config = tmp_path / "claude_desktop_config.json"
    config.write_text(text if text is not None else json.dumps({"mcpServers": servers}), encoding="utf-8")
    logs = tmp_path / "logs"
    return CliRunner().invoke(main, ["doctor", "--config-path", str(config), "--logs-dir", str(logs), *options])


def failures(result: Result) -> list[str]:
    return [line.strip() for line in result.output.splitlines() if line.strip().startswith("FAIL")]


def seed_entry(customers: str, sales: str) -> dict:
    return {"command": PYTHON, "args": [SEED_SCRIPT], "env": {"CUSTOMER_API_URL": customers, "SALES_API_URL": sales}}


def database_entry(url: str) -> dict:
    return {"command": PYTHON, "args": ["-m", "salesmcp", "mcp"], "env": {"DATABASE_URL": url}}


def test_a_working_setup_passes_and_shows_where_the_logs_are(tmp_path, live_apis):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "mcp-server-sales-analysis.log").write_text(
        "2026-01-05T10:00:00.000Z [sales-analysis] [info] Initializing server...\n"
        "2026-01-05T10:00:01.000Z [sales-analysis] [error] spawn python ENOENT\n",
        encoding="utf-8",
    )
    servers = {
        "sales-analysis": seed_entry(live_apis.customers.url, live_apis.sales.url),
        "salesmcp": database_entry(f"sqlite:///{(tmp_path / 'data' / 'customers.db').as_posix()}"),
        "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/x"]},
    }
    result = doctor(tmp_path, servers)
    assert result.exit_code == 0, result.output
    assert failures(result) == []
    assert "answers initialize and tools/list (2 tools)" in result.output
    assert f"customer API at {live_apis.customers.url} answers" in result.output
    assert "other servers, not checked: filesystem" in result.output
    assert f"Claude Desktop's MCP logs: {logs}" in result.output
    assert "[error] spawn python ENOENT" in result.output  # the last error lines of our server's log
    assert "Initializing server" not in result.output


def test_a_config_that_is_not_json_is_named_with_its_line(tmp_path):
    result = doctor(tmp_path, text='{\n  "mcpServers": {\n    "s": {"command": "py",}\n  }\n}\n')
    assert result.exit_code == 1
    (problem,) = failures(result)
    assert "not valid JSON" in problem and "line 3" in problem


def test_a_missing_config_and_a_config_without_our_server_say_how_to_write_one(tmp_path):
    missing = CliRunner().invoke(main, ["doctor", "--config-path", str(tmp_path / "none.json")])
    assert missing.exit_code == 1 and "salesmcp claude-config --write" in failures(missing)[0]
    other = doctor(tmp_path, {"filesystem": {"command": "npx", "args": ["server-filesystem"]}})
    assert other.exit_code == 1 and "no salesmcp server" in failures(other)[0]


def test_without_config_path_it_reads_claude_desktops_own_file_for_this_os(tmp_path, monkeypatch):
    for variable in ("HOME", "USERPROFILE", "APPDATA", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(variable, str(tmp_path))
    config = desktop.config_path()
    config.parent.mkdir(parents=True)
    config.write_text("{oops", encoding="utf-8")
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 1
    assert f"Claude Desktop config: {config}" in result.output and "not valid JSON" in result.output
    assert f"Claude Desktop's MCP logs: {desktop.logs_dir()}" in result.output


def test_a_command_that_does_not_exist(tmp_path):
    result = doctor(tmp_path, {"sales-analysis": {"command": str(tmp_path / "gone" / "python"), "args": [SEED_SCRIPT]}})
    assert result.exit_code == 1
    problem = failures(result)[0]
    assert "does not exist" in problem and "salesmcp claude-config --write" in problem


def test_a_python_without_salesmcp(tmp_path):
    bare = tmp_path / "bare"  # an environment of its own: no salesmcp, as the interpreter behind a venv's link
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=60)
    python = bare / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    result = doctor(tmp_path, {"salesmcp": database_entry(f"sqlite:///{(tmp_path / 'x.db').as_posix()}") | {
        "command": str(python)}})  # fmt: skip
    assert result.exit_code == 1
    (problem,) = failures(result)
    assert "is not a Python that has salesmcp" in problem and "No module named 'salesmcp'" in problem
    assert "salesmcp claude-config --database --write" in problem and "venv activated" in problem


def test_a_script_that_does_not_exist(tmp_path):
    entry = {"command": PYTHON, "args": [str(tmp_path / "old" / "mcp_server.py")]}  # and no API URLs: the defaults
    result = doctor(tmp_path, {"sales-analysis": entry})
    assert result.exit_code == 1
    assert "answers initialize" not in result.output  # not started: it could not be
    script_problem = failures(result)[0]
    assert "mcp_server.py does not exist" in script_problem and "salesmcp claude-config --write" in script_problem
    for url in ("http://127.0.0.1:5001", "http://127.0.0.1:5002"):  # up or down, the defaults are the ones checked
        assert f"API at {url}" in result.output


def test_a_server_that_dies_at_start_shows_its_stderr(tmp_path):
    entry = database_entry(f"sqlite:///{(tmp_path / 'x.db').as_posix()}")
    entry["env"]["LOG_LEVEL"] = "LOUD"  # a bad setting: the server stops before answering
    result = doctor(tmp_path, {"salesmcp": entry})
    assert result.exit_code == 1
    (problem,) = failures(result)
    assert "does not answer initialize and tools/list" in problem
    assert "stderr:" in result.output and "LOG_LEVEL" in result.output


def test_a_server_that_hangs_is_given_up_after_the_time_out(tmp_path):
    script = tmp_path / "mcp_server.py"  # stands in for a server stuck before its first answer
    script.write_text("import sys, time\nprint('loading the world', file=sys.stderr, flush=True)\ntime.sleep(60)\n")
    result = doctor(tmp_path, {"stuck": {"command": PYTHON, "args": [str(script)]}}, "--timeout", "3")
    assert result.exit_code == 1
    assert any("no answer within 3 s" in problem for problem in failures(result))
    assert "stderr: loading the world" in result.output


def test_apis_that_are_down_are_named_with_their_urls_and_how_to_start_them(tmp_path):
    customers, sales = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    result = doctor(tmp_path, {"sales-analysis": seed_entry(customers, sales)})
    assert result.exit_code == 1
    assert "answers initialize and tools/list" in result.output  # the server itself starts
    customer_problem, sales_problem = failures(result)
    assert f"customer API at {customers} is down" in customer_problem and "python cust_server.py" in customer_problem
    assert f"sales API at {sales} is down" in sales_problem and "python sales_server.py" in sales_problem
    assert "salesmcp up" in customer_problem


def test_an_unreachable_database(tmp_path):
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/shop"
    result = doctor(tmp_path, {"salesmcp": database_entry(url)})
    assert result.exit_code == 1
    (problem,) = failures(result)
    assert "database postgresql+psycopg://postgres@127.0.0.1" in problem and "is unreachable" in problem


def test_a_database_entry_without_database_url_depends_on_the_folder_claude_starts_in(tmp_path):
    result = doctor(tmp_path, {"salesmcp": {"command": PYTHON, "args": ["-m", "salesmcp", "mcp"]}})
    assert result.exit_code == 1
    (problem,) = failures(result)
    assert "no DATABASE_URL" in problem and "salesmcp claude-config --database --write" in problem


@pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker command (not its engine)")
def test_a_docker_entry_without_a_docker_engine_says_so(tmp_path):
    entry = desktop.docker_entry(ROOT / "docker-compose.yml")
    entry["env"] = {"DOCKER_HOST": f"tcp://127.0.0.1:{free_port()}"}  # no engine listens there
    result = doctor(tmp_path, {"salesmcp-docker": entry})
    assert result.exit_code == 1
    assert "salesmcp mcp inside the docker compose service api" in result.output  # recognised as ours
    assert any(
        "no Docker engine is running" in problem and "start Docker Desktop" in problem for problem in failures(result)
    )


def test_a_docker_entry_without_docker_installed(tmp_path):
    entry = desktop.docker_entry(ROOT / "docker-compose.yml")
    entry["command"] = str(tmp_path / "no-docker" / "docker")
    result = doctor(tmp_path, {"salesmcp-docker": entry})
    assert result.exit_code == 1
    (problem,) = failures(result)
    assert "not installed" in problem and "Docker Desktop" in problem
