"""The metrics tools through the official SDK client in memory, on SQLite, MariaDB and PostgreSQL: the same
generated data gives the same answers, bounded, and bad questions are tool errors naming the parameter."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from mcp import Client

from salesmcp.mcp import build_server
from salesmcp.store.sql_store import SqlStore
from tests.conftest import emptied_database
from tests.integration.services.generator.tables import generate, scratch_store

pytestmark = pytest.mark.anyio
SEEN: dict[str, dict[str, Any]] = {}  # per database: the structured answers, compared across databases


@pytest.fixture(scope="module", params=["sqlite", "mariadb", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[tuple[str, SqlStore]]:
    url = emptied_database(request, request.param, demo_data=False)
    with scratch_store(url) as store:
        generate(store, rows=2000, seed=5, start_date="2025-01-01", end_date="2026-06-30")
        yield request.param, store


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_every_metrics_tool_answers_the_same_on_every_database(database):
    name, store = database
    async with Client(build_server(store, customers=store)) as client:
        calls = {
            "query": await client.call_tool("query_metrics", {
                "metrics": ["revenue", "orders", "cancellation_rate"], "group_by": ["quarter"],
                "start_date": "2026-01-01", "end_date": "2026-06-30", "compare": "previous_year"}),
            "top": await client.call_tool("query_metrics", {
                "metrics": ["net_sales"], "group_by": ["product"], "order_by": "-net_sales", "limit": 5}),
            "values": await client.call_tool("dimension_values", {"dimension": "carrier"}),
            "explain": await client.call_tool("explain_change", {
                "metric": "orders", "start_date": "2026-01-01", "end_date": "2026-03-31", "by": "payment_method",
                "compare": "previous_year"}),
            "catalogue": await client.call_tool("list_metrics", {}),
        }  # fmt: skip
        chart = await client.call_tool("chart_metrics", {"metrics": ["revenue"], "group_by": ["month"]})
    for label, result in calls.items():
        assert not result.is_error, (label, result.content)
        assert len(result.content[0].text.encode()) <= 32 * 1024, label
        assert json.loads(result.content[0].text) == result.structured_content, label
    assert len(calls["catalogue"].content[0].text.encode()) <= 16 * 1024
    assert base64.b64decode(chart.content[0].data).startswith(b"\x89PNG")
    answers = {label: result.structured_content for label, result in calls.items()}
    for answer in answers.values():
        answer.pop("as_of", None)  # when each was computed
    SEEN[name] = answers
    if len(SEEN) == 3:  # the generator is deterministic across databases, so are the answers
        first = SEEN["sqlite"]
        for other in ("mariadb", "postgresql"):
            for label in first:
                assert SEEN[other][label] == first[label], (other, label)


@pytest.mark.parametrize(
    ("tool", "arguments", "words"),
    [
        ("query_metrics", {"metrics": ["revenue"], "group_by": ["product"]}, "net_sales"),
        ("query_metrics", {"metrics": ["revenue"], "start_date": "2026-02-30"}, "start_date"),
        ("query_metrics", {"metrics": ["revenue"], "compare": "previous_year"}, "compare"),
        ("dimension_values", {"dimension": "colour"}, "dimension"),
        ("explain_change", {"metric": "customers", "start_date": "20260101", "end_date": "20260131", "by": "city"},
         "metric"),
    ],
)  # fmt: skip
async def test_bad_questions_are_tool_errors_naming_the_parameter(database, tool, arguments, words):
    _, store = database
    async with Client(build_server(store, customers=store)) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error and words in result.content[0].text
