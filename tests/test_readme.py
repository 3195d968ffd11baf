"""The README is part of the product: what it names exists, and what exists is in it."""

import re

import pytest
from mcp import Client

from salesmcp.api import create_customer_app, create_sales_app
from salesmcp.cli import main
from salesmcp.config import Settings
from salesmcp.mcp import build_server
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


def test_every_route_named_in_the_readme_exists(settings):
    routes = {
        rule.rule.replace("<", "<").split("?")[0]
        for app in (create_customer_app(settings), create_sales_app(settings))
        for rule in app.url_map.iter_rules()
    }
    named = set(re.findall(r"`GET (/[^ `?]*)", README))
    assert named, "the README names no route"
    assert named <= routes


@pytest.mark.anyio
async def test_every_tool_is_in_the_readme_and_every_tool_named_there_exists(store):
    async with Client(build_server(store)) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
    named = set(re.findall(r"`(get_[a-z_]+)`", README))
    assert tools == named


def test_every_setting_is_documented_in_the_readme_and_env_example():
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for field in Settings.model_fields:
        assert f"`{field.upper()}`" in README, field
        assert f"{field.upper()}=" in example, field


def test_the_seed_entry_points_named_in_the_readme_exist():
    for script in ("cust_server.py", "sales_server.py", "mcp_server.py", "claude_desktop_config.json"):
        assert script in README
        assert (ROOT / script).is_file()
