"""The docs are part of the product: what the README and docs/ name exists, what exists is named there,
and every link between the pages leads somewhere."""

import re
from pathlib import Path

import pytest
from mcp import Client

from salesmcp.api.seed000 import create_customer_app, create_sales_app
from salesmcp.cli import main
from salesmcp.config import Settings
from salesmcp.mcp import build_server
from salesmcp.store.database import open_engine
from salesmcp.store.sql_store import SqlStore
from salesmcp.web.app import MCP_PATH, METRICS_PATH, create_rest_app
from tests.conftest import ROOT

README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
DOCS = "\n".join(page.read_text(encoding="utf-8") for page in PAGES)
TEST_COMMAND = 'python -m pip install -e ".[dev]" && python -m ruff check . && python -m mypy && python -m pytest'


def test_ci_runs_the_readme_test_command():
    assert TEST_COMMAND in README.read_text(encoding="utf-8")
    assert TEST_COMMAND in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_cli_command_named_in_the_docs_exists_and_every_command_is_named():
    named = set(re.findall(r"`salesmcp ([a-z][a-z-]+)", DOCS))
    assert named <= set(main.commands)
    assert set(main.commands) <= named


@pytest.fixture
def sqlite_store(tmp_path):
    store = SqlStore(open_engine(f"sqlite:///{(tmp_path / 'readme.db').as_posix()}"))
    yield store
    store.engine.dispose()


def test_every_route_named_in_the_docs_exists(settings, sqlite_store):
    apps = (create_customer_app(settings), create_sales_app(settings), create_rest_app(settings, sqlite_store, []))
    routes = {(method, rule.rule) for app in apps for rule in app.url_map.iter_rules() for method in rule.methods}
    routes |= {("POST", MCP_PATH), ("GET", MCP_PATH)}  # served by the SDK's Streamable HTTP app
    routes |= {("GET", METRICS_PATH)}  # served by Starlette beside /mcp
    named = set(re.findall(r"`(GET|POST|PATCH|PUT|DELETE) (/[^ `?]*)", DOCS))
    assert len(named) > 10, "the docs name too few routes"
    assert named - routes == set()


@pytest.mark.anyio
async def test_every_tool_is_in_the_docs_and_every_tool_named_there_exists(sqlite_store):
    async with Client(build_server(sqlite_store, customers=sqlite_store)) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
    named = set(re.findall(r"^\| `([a-z_]+)`", DOCS, re.MULTILINE)) - {"salesmcp"}
    named |= set(re.findall(r"`(get_[a-z_]+_by_period)`", DOCS))
    assert tools == named


def test_every_setting_is_documented_and_in_env_example():
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for field in Settings.model_fields:
        assert f"`{field.upper()}`" in DOCS, field
        assert f"{field.upper()}=" in example, field


def test_the_seed_entry_points_named_in_the_docs_exist():
    for script in ("cust_server.py", "sales_server.py", "mcp_server.py", "app.py", "claude_desktop_config.json"):
        assert script in DOCS
        assert (ROOT / script).is_file()


# -- links ---------------------------------------------------------------------------------------------

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)


def _prose(text: str) -> str:
    """The text without fenced code blocks (a `# comment` there is no heading, a `[x](y)` no link)."""
    return FENCE.sub("", text)


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its rendered text, lower case, punctuation dropped, spaces as -."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for heading in HEADING.findall(_prose(page.read_text(encoding="utf-8"))):
        slug = base = github_slug(heading)
        count = 0
        while slug in found:  # GitHub numbers repeated headings: name, name-1, name-2
            count += 1
            slug = f"{base}-{count}"
        found.add(slug)
    return found


def test_github_slugs_follow_githubs_rules():
    assert github_slug("The seed's examples, and a correction") == "the-seeds-examples-and-a-correction"
    assert github_slug("MCP over Streamable HTTP: `POST /mcp`") == "mcp-over-streamable-http-post-mcp"
    assert github_slug("Set up (Python 3.10+, Windows)") == "set-up-python-310-windows"
    assert github_slug("The stdio server (`mcp_server.py`)") == "the-stdio-server-mcp_serverpy"


def relative_links(page: Path) -> list[str]:
    prose = re.sub(r"`[^`\n]*`", "", _prose(page.read_text(encoding="utf-8")))  # code spans hold no links
    return [target for target in LINK.findall(prose) if not re.match(r"[a-z][a-z0-9+.-]*:", target)]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_leads_to_an_existing_file_and_heading(page):
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading with that anchor in {linked.relative_to(ROOT).as_posix()}")
    assert broken == []


def test_the_readme_links_every_docs_page():
    linked = {target.partition("#")[0] for target in relative_links(README)}
    pages = {page.relative_to(ROOT).as_posix() for page in PAGES if page != README}
    assert pages - linked == set()


def test_the_analytics_page_holds_the_catalogue_as_the_code_declares_it():
    from salesmcp.services.analytics.catalogue import markdown

    page = (ROOT / "docs" / "analytics.md").read_text(encoding="utf-8")
    block = page.split("<!-- catalogue:start -->\n", 1)[1].split("<!-- catalogue:end -->", 1)[0]
    assert block == markdown()
