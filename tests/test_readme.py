"""The README is part of the product: what it names exists, and what exists is in it."""

import re

import pytest
from mcp import Client

from salesmcp.api import create_customer_app, create_sales_app
from salesmcp.cli import main
from salesmcp.config import Settings
from salesmcp.mcp import build_server
from salesmcp.store.database import open_engine
from salesmcp.store.sql_store import SqlStore
from salesmcp.web import MCP_PATH, METRICS_PATH, create_rest_app
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
TEST_COMMAND = 'python -m pip install -e ".[dev]" && python -m ruff check . && python -m pytest'


def test_ci_runs_the_readme_test_command():
    assert TEST_COMMAND in README
    assert TEST_COMMAND in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_cli_command_named_in_the_readme_exists_and_every_command_is_named():
    named = set(re.findall(r"`salesmcp ([a-z][a-z-]+)", README))
    assert named <= set(main.commands)
    assert set(main.commands) <= named


@pytest.fixture
def sqlite_store(tmp_path):
    store = SqlStore(open_engine(f"sqlite:///{(tmp_path / 'readme.db').as_posix()}"))
    yield store
    store.engine.dispose()


def test_every_route_named_in_the_readme_exists(settings, sqlite_store):
    apps = (create_customer_app(settings), create_sales_app(settings), create_rest_app(settings, sqlite_store, []))
    routes = {(method, rule.rule) for app in apps for rule in app.url_map.iter_rules() for method in rule.methods}
    routes |= {("POST", MCP_PATH), ("GET", MCP_PATH)}  # served by the SDK's Streamable HTTP app in web.py
    routes |= {("GET", METRICS_PATH)}  # served by Starlette beside /mcp
    named = set(re.findall(r"`(GET|POST|PATCH|PUT|DELETE) (/[^ `?]*)", README))
    assert len(named) > 10, "the README names too few routes"
    assert named - routes == set()


@pytest.mark.anyio
async def test_every_tool_is_in_the_readme_and_every_tool_named_there_exists(sqlite_store):
    async with Client(build_server(sqlite_store, customers=sqlite_store)) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
    named = set(re.findall(r"^\| `([a-z_]+)`", README, re.MULTILINE)) - {"salesmcp"}
    named |= set(re.findall(r"`(get_[a-z_]+_by_period)`", README))
    assert tools == named


def test_every_setting_is_documented_in_the_readme_and_env_example():
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for field in Settings.model_fields:
        assert f"`{field.upper()}`" in README, field
        assert f"{field.upper()}=" in example, field


def test_the_seed_entry_points_named_in_the_readme_exist():
    for script in ("cust_server.py", "sales_server.py", "mcp_server.py", "app.py", "claude_desktop_config.json"):
        assert script in README
        assert (ROOT / script).is_file()
