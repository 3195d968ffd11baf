"""get_city_revenue_by_period on generated data with a city of thousands of customers, over every source:
the database in process, the same data exported to seed 000's CSV files in process, and those files served
by the two APIs over HTTP. Every number is checked against a computation of our own on the raw rows."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from mcp import Client

from salesmcp.mcp import build_server
from salesmcp.services.exports import export_database
from salesmcp.services.revenue import DEFAULT_CITY_LIMIT, MAX_CITY_LIMIT
from salesmcp.store.api_source import ApiSource
from salesmcp.store.csv_store import CsvStore
from salesmcp.store.database import open_engine
from salesmcp.store.sql_store import SqlStore
from tests.conftest import start_server
from tests.integration.services.generator.tables import generate, scratch_store, sqlite_url

pytestmark = pytest.mark.anyio

ANSWER_LIMIT = 32 * 1024  # bytes of text a model is given at most
ROWS = 20_000  # orders, each by a new customer: one Dutch town gets about 2,000 of them
PERIODS = (("20250101", "20261231"), ("20260301", "20260331"))  # the whole window, and one month

Line = tuple[str, str, Decimal, int]
"""(custid, custname, revenue, sales_count): one customer of the list."""


@dataclass
class Generated:
    database: Path
    folder: Path
    city: str  # the city with the most customers


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    folder = tmp_path_factory.mktemp("big-city")
    database = folder / "generated.db"
    with scratch_store(sqlite_url(database)) as store:
        generate(store, rows=ROWS, customers_per_order=1, locale="nl_NL")
        export_database(store, "seed000", folder)  # customers.csv and sales.csv
    with sqlite3.connect(database) as connection:
        cities = Counter(city for (city,) in connection.execute("SELECT city FROM customers"))
    return Generated(database, folder, cities.most_common(1)[0][0])


def expected_lines(generated: Generated, period: tuple[str, str]) -> list[Line]:
    """Every customer of the big city with its revenue in the period, by custid: from the raw rows, in Python."""
    first, last = (f"{day[:4]}-{day[4:6]}-{day[6:]}" for day in period)
    with sqlite3.connect(generated.database) as connection:
        people = connection.execute("SELECT id, custid, name, city FROM customers").fetchall()
        sales = connection.execute("SELECT customer_id, order_date, status, total FROM orders").fetchall()
    revenue: dict[int, Decimal] = {}
    count: Counter[int] = Counter()
    for customer_id, day, status, total in sales:
        if status != "CANCELLED" and first <= day <= last:
            revenue[customer_id] = revenue.get(customer_id, Decimal(0)) + Decimal(str(total))
            count[customer_id] += 1
    wanted = generated.city.lower()
    lines = [
        (custid, name, revenue.get(key, Decimal(0)), count[key])
        for key, custid, name, city in people
        if city.lower() == wanted
    ]
    return sorted(lines)


@pytest.fixture(scope="module", params=["sqlite-in-process", "csv-in-process", "rest-apis-over-http"])
def server(request: pytest.FixtureRequest, generated: Generated) -> Iterator[object]:
    if request.param == "sqlite-in-process":
        store = SqlStore(open_engine(sqlite_url(generated.database), seed=False))
        yield build_server(store)
        store.engine.dispose()
        return
    if request.param == "csv-in-process":
        yield build_server(CsvStore(generated.folder / "customers.csv", generated.folder / "sales.csv"))
        return
    customers = start_server("serve-customers", "--customers-csv", str(generated.folder / "customers.csv"))
    try:
        sales = start_server("serve-sales", "--sales-csv", str(generated.folder / "sales.csv"))
    except BaseException:
        customers.stop()
        raise
    source = ApiSource(customers.url, sales.url, timeout=30)
    try:
        yield build_server(source)
    finally:
        source.close()
        customers.stop()
        sales.stop()


async def city_answer(server: object, city: str, period: tuple[str, str], **options: object) -> tuple[int, dict]:
    """The tool's answer: the size of its text in bytes, and the text read with exact money."""
    start, end = period
    async with Client(server) as client:
        result = await client.call_tool(
            "get_city_revenue_by_period", {"city": city, "start_date": start, "end_date": end, **options}
        )
    assert not result.is_error, result.content[0].text
    text = result.content[0].text
    assert json.loads(text) == result.structured_content
    return len(text.encode()), json.loads(text, parse_float=Decimal)


def listed(answer: dict) -> list[Line]:
    return [(c["custid"], c["custname"], Decimal(c["revenue"]), c["sales_count"]) for c in answer["customers"]]


def test_the_generated_data_has_a_city_of_thousands_of_customers(generated):
    lines = expected_lines(generated, PERIODS[0])
    assert len(lines) > 1500
    assert sum(count for *_, count in lines) > len(lines) // 2  # and they bought


@pytest.mark.parametrize("period", PERIODS)
async def test_the_default_answer_fits_in_32_kb_with_exact_totals_for_the_whole_city(server, generated, period):
    size, answer = await city_answer(server, generated.city.upper(), period)
    expected = expected_lines(generated, period)
    assert size <= ANSWER_LIMIT
    assert answer["city"] == generated.city
    assert answer["total_revenue"] == sum((revenue for _, _, revenue, _ in expected), Decimal(0))
    assert answer["customer_count"] == len(expected)
    assert (answer["truncated"], answer["shown"], answer["offset"]) == (True, DEFAULT_CITY_LIMIT, 0)
    assert listed(answer) == expected[:DEFAULT_CITY_LIMIT]  # the seed's order: by custid


async def test_order_by_minus_revenue_lists_the_top_customers(server, generated):
    size, answer = await city_answer(server, generated.city, PERIODS[0], order_by="-revenue", limit=MAX_CITY_LIMIT)
    top = sorted(expected_lines(generated, PERIODS[0]), key=lambda line: (-line[2], line[0]))[:MAX_CITY_LIMIT]
    assert size <= ANSWER_LIMIT
    assert (answer["shown"], listed(answer)) == (MAX_CITY_LIMIT, top)


async def test_the_pages_of_a_cut_list_put_together_give_every_customer_once(server, generated):
    expected = expected_lines(generated, PERIODS[1])
    pages = []
    for offset in range(0, len(expected), MAX_CITY_LIMIT):
        size, answer = await city_answer(server, generated.city, PERIODS[1], limit=MAX_CITY_LIMIT, offset=offset)
        assert size <= ANSWER_LIMIT
        assert (answer["truncated"], answer["shown"], answer["offset"]) == (True, len(answer["customers"]), offset)
        pages.append(listed(answer))
    assert [line for page in pages for line in page] == expected
    assert 0 < len(pages[-1]) <= MAX_CITY_LIMIT
