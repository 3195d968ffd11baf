"""`salesmcp serve` as a real process on each database, driven over HTTP: seed 001's curl and the SDK client."""

import base64
import csv
import json
import sys
from decimal import Decimal

import anyio
import httpx
import pytest
from mcp import Client, StdioServerParameters

from salesmcp.config import DATA_DIR
from tests.conftest import DATABASES, ROOT, SEED_001_INITIALIZE, emptied_database, start_server

TIMEOUT = 60
ALL_TOOLS = {
    "get_customer_revenue_by_period", "get_city_revenue_by_period", "get_customer", "list_customers",
    "add_customer", "update_customer", "disable_customer", "activate_customer",
    "generate_data", "generation_status", "reset_db", "summary_snapshot",
    "list_metrics", "query_metrics", "dimension_values", "explain_change", "chart_metrics",
    "run_sql", "describe_schema",
}  # fmt: skip


@pytest.fixture(scope="module", params=DATABASES)
def database(request):
    """A database holding exactly the demo data, for the tests of this module."""
    return emptied_database(request, request.param, demo_data=True)


@pytest.fixture(scope="module")
def server(database):
    running = start_server("serve", "--database-url", database)
    yield running
    running.stop()


def test_seed_001_curl_initialize_answers_over_sse(server):
    # What `curl -X POST .../mcp -H "Content-Type: application/json" -d '{...}'` sends: Accept: */*.
    response = httpx.post(
        f"{server.url}/mcp",
        content=json.dumps(SEED_001_INITIALIZE),
        headers={"Content-Type": "application/json", "Accept": "*/*", "User-Agent": "curl/8.5.0"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    data = next(line[5:] for line in response.text.splitlines() if line.startswith("data:"))
    result = json.loads(data)["result"]
    assert result["protocolVersion"] == "2024-11-05"
    assert result["serverInfo"]["name"] == "salesmcp"


def test_index_and_health_describe_the_server(server):
    index = httpx.get(f"{server.url}/", timeout=TIMEOUT).json()
    assert set(index["mcp"]["tools"]) == ALL_TOOLS
    assert "/mcp" in index["endpoints"] and "/customers" in index["endpoints"]
    assert httpx.get(f"{server.url}/health", timeout=TIMEOUT).json()["status"] == "ok"


def test_seed_000_routes_answer_from_the_database(server):
    assert httpx.get(f"{server.url}/customer/012", timeout=TIMEOUT).json()["custname"] == "Bert"
    sales = httpx.get(f"{server.url}/sales?start_date=20260103&end_date=20260107", timeout=TIMEOUT).json()
    assert sales == [
        {"ordid": 501, "custid": "012", "orddate": "20260103", "ordamount": 9},
        {"ordid": 502, "custid": "014", "orddate": "20260107", "ordamount": 11},
    ]


async def call(client, tool, **arguments):
    return await client.call_tool(tool, arguments)


@pytest.mark.anyio
async def test_every_tool_over_streamable_http(server):
    with anyio.fail_after(TIMEOUT):
        async with Client(f"{server.url}/mcp") as client:
            assert {tool.name for tool in (await client.list_tools()).tools} == ALL_TOOLS
            await _revenue_examples(client)
            await _metrics_questions(client)
            await _customer_life_cycle(client, "http")
            await _bad_inputs(client)


@pytest.mark.anyio
async def test_every_tool_over_stdio_on_the_same_database(database):
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "salesmcp", "mcp"],
        cwd=str(ROOT),
        env={"DATABASE_URL": database, "LOG_LEVEL": "WARNING"},
    )
    with anyio.fail_after(TIMEOUT):
        async with Client(params) as client:
            assert {tool.name for tool in (await client.list_tools()).tools} == ALL_TOOLS
            await _revenue_examples(client)
            await _metrics_questions(client)
            await _customer_life_cycle(client, "stdio")
            await _bad_inputs(client)


async def _metrics_questions(client):
    """The metrics tools on the demo data: revenue per month equals the seed's sales.csv, summed here."""
    sales = list(csv.DictReader((DATA_DIR / "sales.csv").open(encoding="utf-8")))
    per_month: dict[str, Decimal] = {}
    for sale in sales:
        month = f"{sale['orddate'][:4]}-{sale['orddate'][4:6]}"
        per_month[month] = per_month.get(month, Decimal(0)) + Decimal(sale["ordamount"])
    answer = await call(client, "query_metrics", metrics=["revenue", "orders"], group_by=["month"])
    got = {row["month"]: (Decimal(str(row["revenue"])), row["orders"]) for row in answer.structured_content["rows"]}
    counts = {month: sum(1 for s in sales if f"{s['orddate'][:4]}-{s['orddate'][4:6]}" == month) for month in per_month}
    assert got == {month: (total, counts[month]) for month, total in per_month.items()}
    assert len(answer.content[0].text) <= 32 * 1024 and answer.structured_content["truncated"] is False
    catalogue = (await call(client, "list_metrics")).structured_content
    assert "revenue" in {metric["name"] for metric in catalogue["metrics"]}
    found = (await call(client, "dimension_values", dimension="city", search="EIND")).structured_content
    assert [entry["value"] for entry in found["values"]] == ["Eindhoven"]
    refused = await call(client, "query_metrics", metrics=["revenue"], group_by=["category"])
    assert refused.is_error and "net_sales" in refused.content[0].text
    unknown = await call(client, "query_metrics", metrics=["profit"])
    assert unknown.is_error and "metrics" in unknown.content[0].text
    chart = await call(client, "chart_metrics", metrics=["revenue"], group_by=["month"])
    assert [content.type for content in chart.content] == ["image", "text"] and not chart.is_error
    assert chart.content[0].mime_type == "image/png" and base64.b64decode(chart.content[0].data)[:4] == b"\x89PNG"
    assert chart.structured_content["vega_lite"]["data"]["values"]


async def _revenue_examples(client):
    bert = await call(client, "get_customer_revenue_by_period", cust_id="012", start_date="20260101",
                      end_date="20260131")  # fmt: skip
    assert bert.structured_content == {
        "custid": "012", "custname": "Bert", "city": "Eindhoven", "revenue": 14, "sales_count": 2,
    }  # fmt: skip
    city = await call(client, "get_city_revenue_by_period", city="Eindhoven", start_date="2026-01-01",
                      end_date="2026-01-31")  # fmt: skip
    assert city.structured_content["total_revenue"] == 54
    assert [c["revenue"] for c in city.structured_content["customers"]] == [19, 14, 21]


async def _customer_life_cycle(client, transport):
    email = f"kees.{transport}@example.com"
    added = await call(client, "add_customer", name="Kees", email=email.upper(), city="Delft", phone="+31 15 555 0100")
    assert not added.is_error, added.content
    custid = added.structured_content["custid"]
    assert added.structured_content["email"] == email
    assert added.structured_content["status"] == "active"

    got = await call(client, "get_customer", cust_id=custid)
    assert got.structured_content["name"] == "Kees"

    page = await call(client, "list_customers", city="delft", limit=500)
    assert custid in [c["custid"] for c in page.structured_content["customers"]]

    updated = await call(client, "update_customer", cust_id=custid, city="Leiden")
    assert (updated.structured_content["city"], updated.structured_content["phone"]) == ("Leiden", "+31 15 555 0100")

    first = await call(client, "disable_customer", cust_id=custid)
    again = await call(client, "disable_customer", cust_id=custid)
    assert first.structured_content["changed"] is True
    assert (again.is_error, again.structured_content["changed"]) == (False, False)
    assert "already" in again.structured_content["message"]
    disabled = await call(client, "list_customers", status="disabled")
    assert custid in [c["custid"] for c in disabled.structured_content["customers"]]

    active = await call(client, "activate_customer", cust_id=custid)
    assert active.structured_content["customer"]["status"] == "active"


async def _bad_inputs(client):
    cases = [
        (("add_customer", {"name": "X", "email": "not-an-email"}), "email"),
        (("add_customer", {"name": "X", "email": "annie@example.com"}), "already used by customer 011"),
        (("add_customer", {"email": "x@example.com"}), "name: is required"),
        (("get_customer", {"cust_id": "nobody"}), "no customer with custid 'nobody'"),
        (("disable_customer", {"cust_id": "nobody"}), "no customer with custid 'nobody'"),
        (("update_customer", {"cust_id": "011", "nickname": "An"}), "nickname: is not a known argument"),
        (("list_customers", {"limit": 501}), "limit: must be between 1 and 500"),
        (("list_customers", {"status": "gone"}), "status"),
        (("get_city_revenue_by_period", {"city": "X", "start_date": "2026-02-30", "end_date": "20260301"}),
         "start_date: must be a date"),
        (("get_customer_revenue_by_period", {"cust_id": "012", "start_date": "20260201", "end_date": "20260101"}),
         "start_date: must not be after end_date"),
    ]  # fmt: skip
    for (tool, arguments), words in cases:
        result = await client.call_tool(tool, arguments)
        assert result.is_error, (tool, arguments)
        assert words in result.content[0].text, (tool, result.content[0].text)
        assert "Traceback" not in result.content[0].text
    annie = await call(client, "get_customer", cust_id="011")
    assert annie.structured_content["email"] == "annie@example.com"  # the failed writes changed nothing
