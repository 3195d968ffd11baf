"""Resources and prompts through the official SDK client, over every data source (same tests, parametrised)."""

import json

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from salesmcp.mcp import build_server
from salesmcp.store.api_source import ApiSource
from salesmcp.store.database import open_engine
from salesmcp.store.schema import metadata
from salesmcp.store.sql_store import SqlStore
from tests.conftest import free_port

pytestmark = pytest.mark.anyio

BERT = {"custid": "012", "custname": "Bert", "city": "Eindhoven", "all_time": {"revenue": 23, "sales_count": 3}}


@pytest.fixture(params=["csv-in-process", "rest-apis-over-http", "database"])
def server(request, store, tmp_path):
    if request.param == "csv-in-process":
        yield build_server(store)
    elif request.param == "rest-apis-over-http":
        apis = request.getfixturevalue("live_apis")
        source = ApiSource(apis.customers.url, apis.sales.url, timeout=10)
        yield build_server(source)
        source.close()
    else:
        database = SqlStore(open_engine(f"sqlite:///{(tmp_path / 'demo.db').as_posix()}"))
        yield build_server(database, customers=database)
        database.engine.dispose()


async def test_the_data_model_and_the_customer_template_are_listed(server):
    async with Client(server) as client:
        resources = (await client.list_resources()).resources
        templates = (await client.list_resource_templates()).resource_templates
    on_a_database = [("salesmcp://metrics", "metrics", "text/markdown")] if _has_metrics(server) else []
    assert [(r.uri, r.name, r.mime_type) for r in resources] == [
        ("salesmcp://data-model", "data-model", "text/markdown"),
        *on_a_database,
    ]
    assert [(t.uri_template, t.name, t.mime_type) for t in templates] == [
        ("customer://{custid}", "customer", "application/json")
    ]
    assert all(item.description and item.title for item in [*resources, *templates])


async def test_the_data_model_explains_custids_orders_dates_money_and_every_table(server):
    async with Client(server) as client:
        result = await client.read_resource("salesmcp://data-model")
    [content] = result.contents
    assert content.mime_type == "text/markdown"
    text = content.text
    for words in ('`"011"`', "leading zero", "ordid", "orddate", "ordamount", "yyyymmdd", "YYYY-MM-DD",
                  "both its first and its last day", "euros", "CANCELLED"):  # fmt: skip
        assert words in text, words
    for table in metadata.tables:
        assert f"| {table} |" in text, table


async def test_a_customer_is_a_resource_with_its_revenue_over_all_time(server):
    async with Client(server) as client:
        result = await client.read_resource("customer://012")
    [content] = result.contents
    assert (content.uri, content.mime_type) == ("customer://012", "application/json")
    assert json.loads(content.text) == BERT


@pytest.mark.parametrize("custid", ["999", "12", "nobody"])
async def test_an_unknown_custid_is_a_not_found_error_naming_it(server, custid):
    async with Client(server) as client:
        with pytest.raises(MCPError) as raised:
            await client.read_resource(f"customer://{custid}")
    assert raised.value.code == INVALID_PARAMS  # the SDK's code for "resource not found"
    assert f"no customer with custid '{custid}'" in raised.value.message


async def test_the_city_report_prompt_asks_for_the_tool_calls_of_the_month_and_the_one_before(server):
    async with Client(server) as client:
        prompts = (await client.list_prompts()).prompts
        result = await client.get_prompt("city_report", {"city": "Eindhoven", "month": "2026-01"})
    assert [p.name for p in prompts] == ["city_report", *(["sales_review"] if _has_metrics(server) else [])]
    prompt = prompts[0]
    assert prompt.name == "city_report" and prompt.title and prompt.description
    assert [(a.name, a.required) for a in prompt.arguments] == [("city", True), ("month", True)]
    [message] = result.messages
    text = message.content.text
    assert message.role == "user"
    assert "Eindhoven" in text and "January 2026" in text
    assert 'get_city_revenue_by_period with city="Eindhoven", start_date="20260101" and end_date="20260131"' in text
    assert 'start_date="20251201", end_date="20251231"' in text


@pytest.mark.parametrize(
    ("month", "first", "last"),
    [("202602", "20260201", "20260228"), ("2024-02", "20240201", "20240229"), ("2025-12", "20251201", "20251231")],
)
async def test_the_month_may_be_yyyymm_or_iso(server, month, first, last):
    async with Client(server) as client:
        result = await client.get_prompt("city_report", {"city": "Tilburg", "month": month})
    assert f'start_date="{first}" and end_date="{last}"' in result.messages[0].content.text


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"city": "Eindhoven", "month": "2026-13"}, "month: must be a month as YYYY-MM or yyyymm"),
        ({"city": "Eindhoven", "month": "January"}, "month: must be a month as YYYY-MM or yyyymm"),
        ({"city": "Eindhoven"}, "month: is required"),
        ({"city": " ", "month": "2026-01"}, "city: is required"),
        ({"city": "Eindhoven", "month": "2026-01", "year": "2026"}, "year: is not a known argument of city_report"),
    ],
)
async def test_bad_prompt_arguments_are_errors_naming_the_argument(server, arguments, words):
    async with Client(server) as client:
        with pytest.raises(MCPError) as raised:
            await client.get_prompt("city_report", arguments)
    assert raised.value.code == INVALID_PARAMS
    assert words in raised.value.message


async def test_a_customer_resource_with_the_apis_down_names_the_url_and_the_command():
    closed = f"http://127.0.0.1:{free_port()}"
    source = ApiSource(closed, closed, timeout=5)
    try:
        async with Client(build_server(source)) as client:
            with pytest.raises(MCPError) as raised:
                await client.read_resource("customer://012")
    finally:
        source.close()
    assert closed in raised.value.message and "python cust_server.py" in raised.value.message


def _has_metrics(server) -> bool:
    """The metrics layer (its tools, the catalogue resource and the sales_review prompt) needs a database."""
    return "query_metrics" in server.tool_names()


async def test_on_a_database_the_catalogue_is_a_resource_and_sales_review_walks_the_metrics_tools(tmp_path):
    database = SqlStore(open_engine(f"sqlite:///{(tmp_path / 'demo.db').as_posix()}"))
    try:
        async with Client(build_server(database, customers=database)) as client:
            catalogue = (await client.read_resource("salesmcp://metrics")).contents[0].text
            review = await client.get_prompt("sales_review", {"period": "2026-Q1"})
            with pytest.raises(MCPError) as bad:
                await client.get_prompt("sales_review", {"period": "Q1"})
    finally:
        database.engine.dispose()
    assert catalogue.startswith("# The metric catalogue") and "**revenue**" in catalogue
    text = review.messages[0].content.text
    assert 'start_date="2026-01-01", end_date="2026-03-31"' in text and "explain_change" in text
    assert bad.value.code == INVALID_PARAMS and "period:" in bad.value.message
