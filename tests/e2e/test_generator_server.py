"""The generator end to end: `salesmcp serve` as a real process on each database, driven over REST and MCP.

Jobs run as processes of their own (`salesmcp generate --run-id N`), so these tests also prove that
the server hands the job over and any request can follow it from the database.
"""

import datetime as dt
import time
from decimal import Decimal

import anyio
import httpx
import pytest
from mcp import Client
from sqlalchemy import func, select

from salesmcp.store.database import create_db_engine
from salesmcp.store.schema import customers, orders
from tests.conftest import DATABASES, emptied_database, start_server

TIMEOUT = 60
ROWS = 3000


@pytest.fixture(scope="module", params=DATABASES)
def database(request):
    """An empty, migrated database for this module."""
    return emptied_database(request, request.param, demo_data=False)


@pytest.fixture(scope="module")
def server(database):
    running = start_server("serve", "--database-url", database)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def engine(database):
    engine = create_db_engine(database)
    yield engine
    engine.dispose()


def wait_for_run(server, location: str, timeout: float = TIMEOUT) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = httpx.get(f"{server.url}{location}", timeout=TIMEOUT).json()
        if run["state"] in ("done", "failed", "interrupted") or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


def counts(server) -> dict:
    return httpx.get(f"{server.url}/summary", timeout=TIMEOUT).json()["counts"]


def test_bad_generation_parameters_are_400s_naming_the_parameter_and_write_nothing(server):
    before = counts(server)
    cases = {
        "rows=0": "rows", "rows=-5": "rows", "rows=abc": "rows", "rows=999999999999": "rows",
        "start_date=2025-02-30": "start_date", "start_date=20250101&end_date=20241231": "start_date",
        "end_date=tomorrow": "end_date", "locale=xx_XX": "locale", "locale=nl_NL:-1": "locale",
        "mode=sometimes": "mode", "cancel_rate=2": "cancel_rate", "colour=blue": "colour",
    }  # fmt: skip
    for query, field in cases.items():
        response = httpx.post(f"{server.url}/generate?{query}", timeout=TIMEOUT)
        assert response.status_code == 400, query
        error = response.json()["error"]
        assert error["field"] == field and error["message"].startswith(f"{field}: "), (query, error)
    response = httpx.post(f"{server.url}/generate", content=b"[1, 2]", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["field"] == "body"
    # A bad value in the query string is not hidden by a good one in the body (schemathesis found it).
    response = httpx.post(f"{server.url}/generate?customers_per_order=2", json={"customers_per_order": 0.1})
    assert response.status_code == 400 and response.json()["error"]["field"] == "customers_per_order"
    assert counts(server) == before


def test_seed_002_generate_starts_a_job_that_any_request_can_follow(server, engine):
    # Seed 002's own command: curl -X POST "http://localhost:8000/generate?rows=5000&seed=42"
    response = httpx.post(f"{server.url}/generate?rows={ROWS}&seed=42", timeout=TIMEOUT)
    assert response.status_code == 202
    body = response.json()
    assert body["message"] == "generation_started" and body["rows"] == ROWS
    assert response.headers["Location"] == body["status_url"] == f"/generate/{body['run_id']}"

    second = httpx.post(f"{server.url}/generate?rows=10&seed=7", timeout=TIMEOUT)
    assert second.status_code == 409, "a second generation may not start while one runs"
    assert f"generation run {body['run_id']}" in second.json()["error"]["message"]

    run = wait_for_run(server, body["status_url"])
    assert run["state"] == "done", run
    assert run["progress"] == ROWS and run["counts"]["orders"] == ROWS
    assert run["counts"]["customers"] == ROWS // 10
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(orders)).scalar_one() == ROWS

    again = httpx.post(f"{server.url}/generate?rows={ROWS}&seed=42", timeout=TIMEOUT)
    assert again.status_code == 200 and again.json()["message"] == "already_generated"
    assert counts(server)["orders"] == ROWS, "an identical request writes nothing twice"


def test_the_revenue_tools_agree_with_sql_over_generated_data(server, engine):
    with engine.connect() as connection:
        city, expected, number = connection.execute(
            select(customers.c.city, func.sum(orders.c.total), func.count())
            .join(orders, orders.c.customer_id == customers.c.id)
            .where(orders.c.status != "CANCELLED")
            .where(orders.c.order_date.between(dt.date(2026, 1, 1), dt.date(2026, 3, 31)))
            .group_by(customers.c.city)
            .order_by(func.count().desc())
            .limit(1)
        ).one()  # fmt: skip

    async def ask():
        async with Client(f"{server.url}/mcp") as client:
            return await client.call_tool(
                "get_city_revenue_by_period", {"city": city, "start_date": "20260101", "end_date": "2026-03-31"}
            )

    result = anyio.run(ask)
    assert not result.is_error
    answer = result.structured_content
    assert Decimal(str(answer["total_revenue"])) == Decimal(expected).quantize(Decimal("0.01"))
    assert sum(customer["sales_count"] for customer in answer["customers"]) == number


def test_mcp_generate_data_reports_progress_and_reset_db_needs_confirm(server):
    async def scenario():
        async with Client(f"{server.url}/mcp") as client:
            refused = await client.call_tool("reset_db", {})
            assert refused.is_error and "confirm" in refused.content[0].text
            assert (await client.call_tool("summary_snapshot", {})).structured_content["counts"]["orders"] == ROWS

            reset = await client.call_tool("reset_db", {"confirm": True})
            assert not reset.is_error
            assert reset.structured_content["message"] == "reset_complete"
            assert set(reset.structured_content["counts"].values()) == {0}

            seen = []

            async def progress(done, total, message):
                seen.append((done, total))

            made = await client.call_tool(
                "generate_data",
                {"rows": 12000, "seed": 5, "start_date": "2026-01-01", "end_date": "2026-06-30"},
                progress_callback=progress,
            )
            assert not made.is_error, made.content
            assert made.structured_content["message"] == "generation_done"
            assert made.structured_content["run"]["counts"]["orders"] == 12000
            assert seen and seen[-1] == (12000, 12000)
            assert all(total == 12000 for _, total in seen)
            assert [done for done, _ in seen] == sorted(done for done, _ in seen)

            summary = (await client.call_tool("summary_snapshot", {})).structured_content
            assert summary["counts"]["orders"] == 12000
            assert summary["last_window"] == {"start_date": "2026-01-01", "end_date": "2026-06-30"}
            assert summary["last_run"]["state"] == "done"

            bad = await client.call_tool("generate_data", {"rows": 10, "start_date": "2026-13-01"})
            assert bad.is_error and "start_date" in bad.content[0].text
            status = await client.call_tool("generation_status", {"run_id": 999})
            assert status.is_error and "999" in status.content[0].text

    anyio.run(scenario)


def test_rest_reset_empties_every_table_and_restarts_the_ids(server, engine):
    response = httpx.post(f"{server.url}/reset", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["message"] == "reset_complete"
    assert set(response.json()["counts"].values()) == {0}
    started = httpx.post(f"{server.url}/generate?rows=50&seed=1", timeout=TIMEOUT).json()
    assert started["run_id"] == 1
    assert wait_for_run(server, started["status_url"])["state"] == "done"
    with engine.connect() as connection:
        assert connection.execute(select(func.min(orders.c.id))).scalar_one() == 1
        assert connection.execute(select(func.min(customers.c.id))).scalar_one() == 1
    assert httpx.get(f"{server.url}/generate/12345", timeout=TIMEOUT).status_code == 404


def test_generate_data_over_stdio_sends_progress_to_the_client(tmp_path):
    """`salesmcp mcp` (what Claude Desktop runs) generates through its job and streams progress on stdout."""
    import sys

    from mcp import StdioServerParameters

    url = f"sqlite:///{(tmp_path / 'stdio.db').as_posix()}"
    params = StdioServerParameters(command=sys.executable, args=["-m", "salesmcp", "mcp", "--database-url", url],
                                   cwd=str(tmp_path))  # fmt: skip

    async def scenario():
        seen = []

        async def progress(done, total, message):
            seen.append((done, total, message))

        with anyio.fail_after(TIMEOUT):
            async with Client(params) as client:
                made = await client.call_tool("generate_data", {"rows": 2000, "seed": 9}, progress_callback=progress)
        return made, seen

    made, seen = anyio.run(scenario)
    assert not made.is_error, made.content
    assert made.structured_content["run"]["counts"]["orders"] == 2000
    assert seen[-1][:2] == (2000, 2000) and "done" in seen[-1][2]
