"""``salesmcp sql`` as a person types it, and the SQL tool's settings: SQL_TOOL=false removes the tools and the
routes, a malformed value stops the start with a usage error naming it."""

import csv
import io
import json
import subprocess
import sys

import httpx
import pytest
from click.testing import CliRunner
from mcp import Client

from salesmcp.cli import main
from tests.conftest import ROOT, start_server

TIMEOUT = 60


def salesmcp(*args: str, cwd, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "salesmcp", *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
        env=env,
    )  # fmt: skip


def test_sql_answers_in_json_csv_and_a_table_on_a_first_run(tmp_path):
    query = "SELECT status, count(*) AS orders, sum(total) AS revenue FROM orders GROUP BY status"
    as_json = salesmcp("sql", query, "--format", "json", cwd=tmp_path)  # a new SQLite database, with the demo data
    assert as_json.returncode == 0, as_json.stderr
    answer = json.loads(as_json.stdout)
    assert answer["columns"] == ["status", "orders", "revenue"] and answer["truncated"] is False
    assert answer["rows"] == [["DELIVERED", 12, 104]]  # seed 000's twelve sales: 9 + 11 + 5 + 19 + … = 104
    as_csv = salesmcp("sql", "SELECT custid, name FROM customers ORDER BY custid", "--limit", "3", "--format", "csv",
                      cwd=tmp_path)  # fmt: skip
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [["custid", "name"], ["011", "Annie"], ["012", "Bert"],
                                                            ["013", "Carla"]]  # fmt: skip
    assert "more rows exist" in as_csv.stderr
    table = salesmcp("sql", "SELECT name FROM customers WHERE custid = '011'", cwd=tmp_path)
    assert table.returncode == 0 and "Annie" in table.stdout


def test_sql_refuses_a_write_in_one_line_and_leaves_the_data(tmp_path):
    refused = salesmcp("sql", "DELETE FROM orders", cwd=tmp_path)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "Error: sql: only a query may run" in refused.stderr and "this is DELETE" in refused.stderr
    count = salesmcp("sql", "SELECT count(*) FROM orders", "--format", "json", cwd=tmp_path)
    assert json.loads(count.stdout)["rows"] == [[12]]


def test_sql_names_a_limit_above_sql_max_rows(tmp_path):
    result = salesmcp("sql", "SELECT 1", "--limit", "20", cwd=tmp_path, env={**_env(), "SQL_MAX_ROWS": "10"})
    assert result.returncode == 1 and "limit: must be at most 10 (SQL_MAX_ROWS)" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [("SQL_TOOL", "maybe"), ("SQL_TIMEOUT", "0"), ("SQL_TIMEOUT", "soon"), ("SQL_MAX_ROWS", "0"),
     ("SQL_MAX_ROWS", "1e9"), ("READ_DATABASE_URL", "not a url"), ("READ_DATABASE_URL", "oracle://x@h/db")],
)  # fmt: skip
def test_a_malformed_sql_setting_stops_the_start_naming_it(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    for command in (["serve"], ["mcp"], ["sql", "SELECT 1"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2, (command, result.output)
        assert name in result.output and "Traceback" not in result.output


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


@pytest.mark.anyio
async def test_sql_tool_false_removes_the_tools_and_the_routes(tmp_path):
    server = start_server("serve", "--database-url", f"sqlite:///{(tmp_path / 'off.db').as_posix()}",
                          env={"SQL_TOOL": "false", "ANALYTICS_ENGINE": "database"})  # fmt: skip
    try:
        assert httpx.post(f"{server.url}/sql", json={"sql": "SELECT 1"}, timeout=TIMEOUT).status_code == 404
        assert httpx.get(f"{server.url}/schema", timeout=TIMEOUT).status_code == 404
        document = httpx.get(f"{server.url}/openapi.json", timeout=TIMEOUT).json()
        assert "/sql" not in document["paths"] and "/schema" not in document["paths"]
        async with Client(f"{server.url}/mcp") as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
        assert "run_sql" not in names and "describe_schema" not in names and "query_metrics" in names
    finally:
        server.stop()
    off = salesmcp("sql", "SELECT 1", cwd=tmp_path, env={**_env(), "SQL_TOOL": "false"})
    assert off.returncode == 2 and "SQL_TOOL=false" in off.stderr


def test_the_docs_commands_are_the_commands(tmp_path):
    page = (ROOT / "docs" / "sql.md").read_text(encoding="utf-8")
    command = 'salesmcp sql "SELECT status, count(*) AS orders, sum(total) AS revenue FROM orders GROUP BY status"'
    assert f"$ {command}" in page
    result = salesmcp("sql", command.split('"')[1], cwd=tmp_path)
    assert result.returncode == 0 and "DELIVERED" in result.stdout
