"""The revenue tools through the official SDK client, over every data source (same tests, parametrised)."""

import json

import pytest
from mcp import Client

from salesmcp.mcp import build_server
from salesmcp.services.revenue import CITY_ORDERS, DEFAULT_CITY_LIMIT, MAX_CITY_LIMIT
from salesmcp.store.api_source import ApiSource
from salesmcp.store.database import open_engine
from salesmcp.store.sql_store import SqlStore
from tests.conftest import emptied_database, free_port

pytestmark = pytest.mark.anyio

EXAMPLE_2 = {
    "city": "Eindhoven",
    "total_revenue": 54,
    "customer_count": 3,
    "customers": [
        {"custid": "011", "custname": "Annie", "revenue": 19, "sales_count": 2},
        {"custid": "012", "custname": "Bert", "revenue": 14, "sales_count": 2},
        {"custid": "016", "custname": "Fien", "revenue": 21, "sales_count": 1},
    ],
}


@pytest.fixture(params=["csv-in-process", "rest-apis-over-http", "sqlite-in-process"])
def server(request, store):
    if request.param == "csv-in-process":
        yield build_server(store)
        return
    if request.param == "sqlite-in-process":  # the demo data (MariaDB and PostgreSQL: tests/integration/store)
        database = SqlStore(open_engine(emptied_database(request, "sqlite", demo_data=True), seed=False))
        yield build_server(database)
        database.engine.dispose()
        return
    apis = request.getfixturevalue("live_apis")
    source = ApiSource(apis.customers.url, apis.sales.url, timeout=10)
    yield build_server(source)
    source.close()


async def call(server, tool, **arguments):
    async with Client(server) as client:
        return await client.call_tool(tool, arguments)


async def test_exactly_the_two_seed_tools_are_listed_with_output_schemas(server):
    async with Client(server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == {"get_customer_revenue_by_period", "get_city_revenue_by_period"}
    for tool in tools.values():
        assert tool.output_schema["type"] == "object"
        assert "inclusive" in tool.description and "yyyymmdd" in tool.description


async def test_the_city_tool_offers_limit_order_and_offset_and_describes_a_cut_list(server):
    async with Client(server) as client:
        tool = next(t for t in (await client.list_tools()).tools if t.name == "get_city_revenue_by_period")
    arguments = tool.input_schema["properties"]
    assert tool.input_schema["required"] == ["city", "start_date", "end_date"]
    assert (arguments["limit"]["default"], arguments["limit"]["maximum"]) == (DEFAULT_CITY_LIMIT, MAX_CITY_LIMIT)
    assert arguments["order_by"]["enum"] == list(CITY_ORDERS) and "-revenue" in CITY_ORDERS
    assert arguments["offset"]["default"] == 0
    answer = tool.output_schema
    assert answer["required"] == ["city", "total_revenue", "customer_count", "customers"]
    assert {"truncated", "shown", "offset"} <= set(answer["properties"])


async def test_seed_example_1_bert_in_january(server):
    result = await call(server, "get_customer_revenue_by_period", cust_id="012", start_date="20260101",
                        end_date="20260131")  # fmt: skip
    assert not result.is_error
    assert result.structured_content == {
        "custid": "012", "custname": "Bert", "city": "Eindhoven", "revenue": 14, "sales_count": 2,
    }  # fmt: skip


async def test_seed_example_2_eindhoven_in_january_totals_54(server):
    result = await call(server, "get_city_revenue_by_period", city="Eindhoven", start_date="20260101",
                        end_date="20260131")  # fmt: skip
    assert result.structured_content == EXAMPLE_2
    assert json.loads(result.content[0].text) == EXAMPLE_2  # the same JSON as text, for clients without structure


async def test_a_cut_list_says_truncated_and_shown_while_the_totals_stay_whole(server):
    result = await call(server, "get_city_revenue_by_period", city="Eindhoven", start_date="20260101",
                        end_date="20260131", limit=2, order_by="-revenue")  # fmt: skip
    assert result.structured_content == {
        "city": "Eindhoven", "total_revenue": 54, "customer_count": 3, "truncated": True, "shown": 2, "offset": 0,
        "customers": [EXAMPLE_2["customers"][2], EXAMPLE_2["customers"][0]],
    }  # fmt: skip
    assert json.loads(result.content[0].text) == result.structured_content
    rest = await call(server, "get_city_revenue_by_period", city="Eindhoven", start_date="20260101",
                      end_date="20260131", limit=2, order_by="-revenue", offset=2)  # fmt: skip
    assert rest.structured_content["customers"] == [EXAMPLE_2["customers"][1]]


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"limit": 0}, "limit: must be between 1 and 300"),
        ({"limit": 1000}, "limit: must be between 1 and 300"),
        ({"order_by": "revenue desc"}, "order_by: must be one of custid, -custid, revenue, -revenue"),
        ({"offset": -5}, "offset: must be between 0 and"),
    ],
)
async def test_a_bad_limit_order_or_offset_is_a_tool_error_naming_it(server, arguments, words):
    result = await call(server, "get_city_revenue_by_period", city="Eindhoven", start_date="20260101",
                        end_date="20260131", **arguments)  # fmt: skip
    assert result.is_error
    assert words in result.content[0].text
    assert "Traceback" not in result.content[0].text


async def test_dates_may_arrive_as_numbers_or_iso_strings(server):
    result = await call(server, "get_city_revenue_by_period", city="eindhoven", start_date=20260101,
                        end_date="2026-01-31")  # fmt: skip
    assert result.structured_content == EXAMPLE_2


async def test_unknown_customer_gives_an_empty_object(server):
    result = await call(server, "get_customer_revenue_by_period", cust_id="999", start_date="20260101",
                        end_date="20260131")  # fmt: skip
    assert (result.is_error, result.structured_content) == (False, {})


async def test_unknown_city_gives_zero_totals(server):
    # No customer lives in Maastricht, in the CSV files or in the demo database.
    result = await call(server, "get_city_revenue_by_period", city="Maastricht", start_date="20260101",
                        end_date="20260131")  # fmt: skip
    assert result.structured_content == {"city": "Maastricht", "total_revenue": 0, "customer_count": 0,
                                         "customers": []}  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"start_date": "2026-13-01", "end_date": "20260131"}, "start_date: must be a date as yyyymmdd"),
        ({"start_date": "20260101", "end_date": "Jan 31"}, "end_date: must be a date as yyyymmdd"),
        ({"start_date": "20260201", "end_date": "20260101"}, "start_date: must not be after end_date"),
    ],
)
async def test_bad_dates_are_tool_errors_naming_the_parameter(server, arguments, words):
    result = await call(server, "get_city_revenue_by_period", city="Eindhoven", **arguments)
    assert result.is_error
    assert words in result.content[0].text
    assert "Traceback" not in result.content[0].text


async def test_a_missing_argument_is_a_tool_error_naming_it(server):
    result = await call(server, "get_customer_revenue_by_period", cust_id="012", end_date="20260131")
    assert result.is_error
    assert "start_date" in result.content[0].text


async def test_an_api_that_is_down_is_a_tool_error_naming_the_url_and_the_command():
    closed = f"http://127.0.0.1:{free_port()}"
    source = ApiSource(closed, closed, timeout=5)
    try:
        result = await call(build_server(source), "get_customer_revenue_by_period", cust_id="012",
                            start_date="20260101", end_date="20260131")  # fmt: skip
    finally:
        source.close()
    assert result.is_error
    assert closed in result.content[0].text
    assert "python cust_server.py" in result.content[0].text
