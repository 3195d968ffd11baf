"""Every read tool's default answer is at most 32 KB of text on a million generated orders, and says so when it
was cut: the server a user runs (a SQLite file with its DuckDB columnar copy) through the SDK client in memory,
every count of groups checked against one of our own on the raw rows."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import CallToolResult

from salesmcp.config import Settings
from salesmcp.mcp import build_server
from salesmcp.mcp.base import SalesMCPServer
from salesmcp.store.sql_store import open_store
from tests.integration.services.generator.tables import scratch_store, sqlite_url

# The million orders are made once, in the first test's setup: pytest-timeout's bound covers it.
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(300)]

ANSWER_LIMIT = 32 * 1024  # bytes of text a model is given at most
ORDERS = 1_000_000
CALL_TIMEOUT = 60.0  # seconds one tool call may take
READ_TOOLS = {
    "get_customer_revenue_by_period", "get_city_revenue_by_period", "get_customer", "list_customers",
    "generation_status", "summary_snapshot", "list_metrics", "query_metrics", "dimension_values",
    "explain_change", "chart_metrics", "run_sql", "describe_schema",
}  # fmt: skip
# Questions of many groups (customer and month: over half a million): (tool, arguments, the total the answer
# states, the listing it cuts).
MANY_GROUPS: dict[str, tuple[str, dict[str, Any], str, str]] = {
    "revenue-by-customer": ("query_metrics", {"metrics": ["revenue"], "group_by": ["customer"]}, "total_rows", "rows"),
    "revenue-by-customer-and-month": (
        "query_metrics", {"metrics": ["revenue"], "group_by": ["customer", "month"]}, "total_rows", "rows"),
    "customer-values": ("dimension_values", {"dimension": "customer"}, "total_values", "values"),
    "city-values": ("dimension_values", {"dimension": "city"}, "total_values", "values"),
}  # fmt: skip
# The same groups counted by us on the raw rows: every order is in one group, cancelled or not.
GROUP_COUNTS = {
    "revenue-by-customer": "SELECT count(DISTINCT customer_id) FROM orders",
    "revenue-by-customer-and-month": "SELECT count(*) FROM (SELECT DISTINCT customer_id, substr(order_date, 1, 7) "
    "FROM orders)",
    "customer-values": "SELECT count(DISTINCT customer_id) FROM orders",
    "city-values": "SELECT count(*) FROM (SELECT DISTINCT c.city FROM orders o "
    "JOIN customers c ON c.id = o.customer_id)",
}
REVENUE_CENTS = "SELECT sum(CAST(round(total * 100) AS INTEGER)) FROM orders WHERE status != 'CANCELLED'"
# Where an answer lists part of something and says how much there is in all.
LISTINGS = (("rows", "total_rows"), ("values", "total_values"), ("customers", "customer_count"), ("customers", "total"))


@dataclass
class Generated:
    database: Path
    folder: Path
    run_id: int
    city: str  # the city with the most customers
    custid: str  # the customer with the most orders
    first_day: str  # yyyymmdd, of the oldest order
    last_day: str  # yyyymmdd, of the newest order


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    folder = tmp_path_factory.mktemp("million")
    database = folder / "generated.db"
    with scratch_store(sqlite_url(database)):
        pass  # migrated, empty
    # As a user makes a million orders: the command, one process (SQLite takes one writer at a time; more
    # processes only wait for it, see docs/generator.md).
    made = subprocess.run(
        [sys.executable, "-m", "salesmcp", "generate", "--rows", str(ORDERS), "--quiet",
         "--database-url", sqlite_url(database)],
        capture_output=True, text=True, timeout=240, check=True,
    )  # fmt: skip
    run = json.loads(made.stdout.strip().splitlines()[-1])
    with sqlite3.connect(database) as connection:
        (city,) = connection.execute(
            "SELECT city FROM customers GROUP BY city ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        (custid,) = connection.execute(
            "SELECT c.custid FROM orders o JOIN customers c ON c.id = o.customer_id "
            "GROUP BY o.customer_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        first, last = connection.execute("SELECT min(order_date), max(order_date) FROM orders").fetchone()
    return Generated(database, folder, run["id"], city, custid, first.replace("-", ""), last.replace("-", ""))


@pytest.fixture(scope="module")
def server(generated: Generated) -> Iterator[SalesMCPServer]:
    """The server ``salesmcp mcp`` builds on that file, its columnar copy made (as after its first question)."""
    settings = Settings(
        _env_file=None,
        database_url=sqlite_url(generated.database),
        seed_demo_data=False,
        analytics_dir=generated.folder,
    )
    store = open_store(settings)
    try:
        if store.replica is not None:  # else the first metrics answers would come from SQLite during the build
            store.replica.refresh()
        yield build_server(store, customers=store, settings=settings)
    finally:
        store.close()


def read_tool_arguments(generated: Generated) -> dict[str, dict[str, Any]]:
    """A realistic question per read tool with only its required arguments, plus a group_by of many groups."""
    period = {"start_date": generated.first_day, "end_date": generated.last_day}
    last_year = generated.last_day[:4]
    return {
        "get_customer_revenue_by_period": {"cust_id": generated.custid, **period},
        "get_city_revenue_by_period": {"city": generated.city, **period},
        "get_customer": {"cust_id": generated.custid},
        "generation_status": {"run_id": generated.run_id},
        "query_metrics": {"metrics": ["revenue"], "group_by": ["customer"]},
        "dimension_values": {"dimension": "customer"},
        "explain_change": {
            "metric": "revenue",
            "start_date": f"{last_year}0101",
            "end_date": f"{last_year}1231",
            "by": "customer",
        },
        "chart_metrics": {"metrics": ["revenue"], "group_by": ["customer"]},
        "run_sql": {
            "sql": "SELECT * FROM orders o JOIN order_items i ON i.order_id = o.id JOIN customers c ON "
            "c.id = o.customer_id",
            "limit": 1000,
        },
    }


async def ask(client: Client, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    with anyio.fail_after(CALL_TIMEOUT):
        result = await client.call_tool(tool, arguments)
    assert not result.is_error, (tool, result.content)
    return result


def text_size(result: CallToolResult) -> int:
    """Bytes of text in the answer: every text part, as a model reads them (an image is not text)."""
    return len("\n".join(part.text for part in result.content if part.type == "text").encode())


def assert_honest_about_cuts(answer: dict[str, Any]) -> None:
    """A listing shorter than the total it states says truncated=true, and a whole one says false."""
    for listing, total in LISTINGS:
        if listing in answer and total in answer:
            assert answer["truncated"] == (len(answer[listing]) < answer[total]), (listing, total)


def count(generated: Generated, query: str) -> int:
    with sqlite3.connect(generated.database) as connection:
        (number,) = connection.execute(query).fetchone()
    return int(number)


def test_the_generated_data_has_a_million_orders(generated):
    assert count(generated, "SELECT count(*) FROM orders") == ORDERS


async def test_every_read_tool_answers_within_32_kb_on_a_million_orders(server, generated):
    chosen = read_tool_arguments(generated)
    sizes: dict[str, int] = {}
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
        read_tools = [tool for tool in tools if tool.annotations is not None and tool.annotations.read_only_hint]
        assert {tool.name for tool in read_tools} >= READ_TOOLS
        for tool in read_tools:
            required = tool.input_schema.get("required", [])
            assert tool.name in chosen or not required, f"{tool.name} is a new read tool: give it a question here"
            result = await ask(client, tool.name, chosen.get(tool.name, {}))
            sizes[tool.name] = text_size(result)
            answer = result.structured_content or {}
            if tool.name != "describe_schema":  # the schema is whole at any size; the data's rows are not
                assert answer.get("truncated", True), f"{tool.name} showed everything of a question with many groups"
            assert_honest_about_cuts(answer)
    assert all(size <= ANSWER_LIMIT for size in sizes.values()), sizes


@pytest.mark.parametrize("question", MANY_GROUPS)
async def test_a_question_of_many_groups_is_cut_to_32_kb_and_says_so_with_the_exact_number_of_groups(
    server, generated, question
):
    tool, arguments, total, listing = MANY_GROUPS[question]
    async with Client(server) as client:
        result = await ask(client, tool, arguments)
    answer = result.structured_content
    assert answer is not None
    assert text_size(result) <= ANSWER_LIMIT
    assert answer[total] == count(generated, GROUP_COUNTS[question])
    assert answer["truncated"] is True and 0 < len(answer[listing]) < answer[total]
    if tool == "query_metrics":  # the totals cover every group, not only the ones shown
        revenue = Decimal(str(answer["totals"]["revenue"]))
        assert revenue * 100 == count(generated, REVENUE_CENTS)
