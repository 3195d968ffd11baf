"""The metrics layer over REST (and `salesmcp query`) on the demo database: the answers equal the seed's
sales.csv summed here, charts are PNG images (or Vega-Lite), and bad questions are 400s naming the field."""

from __future__ import annotations

import csv
import json
import struct
from decimal import Decimal

import pytest
from click.testing import CliRunner

from salesmcp.cli import main
from salesmcp.config import DATA_DIR
from salesmcp.web.app import create_rest_app


@pytest.fixture
def client(settings, sql_store):
    return create_rest_app(settings, sql_store, tools=[]).test_client()


def _january_by_customer() -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for sale in csv.DictReader((DATA_DIR / "sales.csv").open(encoding="utf-8")):
        if sale["orddate"].startswith("202601"):
            totals[sale["custid"]] = totals.get(sale["custid"], Decimal(0)) + Decimal(sale["ordamount"])
    return totals


def test_query_answers_the_seed_sales_summed_independently(client):
    response = client.post("/analytics/query", json={"metrics": ["revenue", "orders"], "group_by": ["customer"],
                                                     "start_date": "20260101", "end_date": "20260131"})  # fmt: skip
    assert response.status_code == 200
    got = {row["customer"]: Decimal(str(row["revenue"])) for row in response.json["rows"]}
    assert got == _january_by_customer()
    eindhoven = client.post("/analytics/query", json={"metrics": ["revenue"], "filters": {"city": "eindhoven"},
                                                      "start_date": "20260101", "end_date": "20260131"})  # fmt: skip
    assert eindhoven.json["totals"]["revenue"] == 54  # seed 000's Example 2, from the data


def test_the_catalogue_and_the_values_of_a_dimension(client):
    catalogue = client.get("/analytics/metrics").json
    assert {metric["name"] for metric in catalogue["metrics"]} >= {"revenue", "net_sales", "cancellation_rate"}
    values = client.get("/analytics/dimensions/city/values?search=HOV").json
    assert [entry["value"] for entry in values["values"]] == ["Eindhoven"]


def test_a_chart_is_a_png_of_at_least_800_by_400_or_its_vega_lite_spec(client):
    body = {"metrics": ["revenue"], "group_by": ["month"], "start_date": "20260101", "end_date": "20261231"}
    png = client.post("/analytics/chart", json=body)
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png.data[16:24])
    assert width >= 800 and height >= 400
    spec = client.post("/analytics/chart?format=vega", json=body).json
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/") and spec["data"]["values"]


def test_explain_says_which_customers_moved_revenue(client):
    answer = client.post("/analytics/explain", json={"metric": "revenue", "start_date": "20260101",
                                                     "end_date": "20260131", "by": "customer"}).json  # fmt: skip
    assert answer["current"] == float(sum(_january_by_customer().values()))
    parts = sum(Decimal(str(c["change"])) for c in answer["contributors"]) + Decimal(str(answer["rest"]["change"]))
    assert parts == Decimal(str(answer["change"]))


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/analytics/query", {"metrics": ["profit"]}, "metrics.0"),
        ("/analytics/query", {"metrics": ["revenue"], "group_by": ["category"]}, "group_by"),
        ("/analytics/query", {"metrics": ["revenue"], "start_date": "20260301", "end_date": "20260201"}, "start_date"),
        ("/analytics/query", {"metrics": ["revenue"], "show_sql": 1}, "show_sql"),
        ("/analytics/chart", {"metrics": ["revenue"], "chart": "pie"}, "chart"),
        (
            "/analytics/explain",
            {"metric": "average_order_value", "start_date": "20260101", "end_date": "20260131", "by": "city"},
            "metric",
        ),  # fmt: skip
    ],
)
def test_bad_questions_are_400s_naming_the_field(client, path, body, field):
    response = client.post(path, json=body)
    assert response.status_code == 400 and response.json["error"]["field"] == field


def test_salesmcp_query_prints_the_same_json_and_draws_a_chart(settings, sql_store, tmp_path):
    url = str(sql_store.engine.url.render_as_string(hide_password=False))
    chart = tmp_path / "revenue.png"
    result = CliRunner().invoke(main, ["query", "--metric", "revenue", "--by", "customer", "--from", "20260101",
                                       "--to", "20260131", "--format", "json", "--chart", str(chart),
                                       "--database-url", url])  # fmt: skip
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert {row["customer"]: Decimal(str(row["revenue"])) for row in answer["rows"]} == _january_by_customer()
    assert chart.read_bytes().startswith(b"\x89PNG")
    refused = CliRunner().invoke(main, ["query", "--metric", "revenue", "--by", "category", "--database-url", url])
    assert refused.exit_code == 1 and "net_sales" in refused.output


def test_an_earlier_window_before_the_year_one_is_a_400_not_a_crash(client):
    body = {"metric": "new_customers", "by": "weekday", "start_date": "10000103", "end_date": "63181125"}
    response = client.post("/analytics/explain", json=body)
    assert response.status_code == 400 and response.json["error"]["field"] == "compare"
