import pytest

from salesmcp.api.seed000 import create_sales_app


@pytest.fixture
def client(settings):
    return create_sales_app(settings).test_client()


def ordids(response):
    assert response.status_code == 200, response.get_json()
    return [sale["ordid"] for sale in response.get_json()]


def test_sales_in_a_range_keep_the_csv_strings_and_number_amounts(client):
    response = client.get("/sales?start_date=20260103&end_date=20260103")
    assert response.get_data(as_text=True).strip() == (
        '[{"ordid":501,"custid":"012","orddate":"20260103","ordamount":9}]'
    )


def test_both_ends_are_inclusive_and_sales_are_sorted_by_date_then_ordid(client):
    assert ordids(client.get("/sales?start_date=20260119&end_date=20260209")) == [
        503, 504, 505, 506, 507, 508, 509, 510,
    ]  # fmt: skip


def test_iso_dates_are_accepted(client):
    assert ordids(client.get("/sales?start_date=2026-02-01&end_date=2026-02-28")) == [508, 509, 510, 511, 512]


def test_no_sales_in_range_is_an_empty_array(client):
    assert ordids(client.get("/sales?start_date=20250101&end_date=20251231")) == []


def test_custid_filter_may_repeat_or_use_commas(client):
    repeated = client.get("/sales?start_date=20260101&end_date=20260228&custid=011&custid=016")
    commas = client.get("/sales?start_date=20260101&end_date=20260228&custid=011,016")
    assert ordids(repeated) == ordids(commas) == [504, 505, 507, 511]


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("end_date=20260131", "start_date", "start_date: is required"),
        ("start_date=20260101", "end_date", "end_date: is required"),
        ("start_date=2026011&end_date=20260131", "start_date", "yyyymmdd or YYYY-MM-DD"),
        ("start_date=20260101&end_date=31-01-2026", "end_date", "yyyymmdd or YYYY-MM-DD"),
        ("start_date=20260230&end_date=20260301", "start_date", "not a real calendar date"),
        ("start_date=20260201&end_date=20260131", "start_date", "must not be after end_date"),
    ],
)
def test_bad_dates_are_a_400_naming_the_parameter(client, query, field, words):
    response = client.get(f"/sales?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("invalid_input", field)
    assert words in error["message"]


def test_revenue_summary_sums_per_customer_with_sales(client):
    response = client.get("/sales/revenue?start_date=20260101&end_date=20260131&custid=011,012,015")
    assert response.get_json() == [
        {"custid": "011", "revenue": 19, "sales_count": 2},
        {"custid": "012", "revenue": 14, "sales_count": 2},
    ]


def test_revenue_summary_requires_customers(client):
    response = client.get("/sales/revenue?start_date=20260101&end_date=20260131")
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "custid"


def test_too_many_customers_in_one_request_is_a_400(client):
    many = ",".join(str(i) for i in range(5001))
    response = client.get(f"/sales/revenue?start_date=20260101&end_date=20260131&custid={many}")
    assert response.status_code == 400
    assert "at most 5000" in response.get_json()["error"]["message"]


def test_the_openapi_document_describes_the_sales_route(client):
    spec = client.get("/openapi/openapi.json").get_json()
    names = {p["name"] for p in spec["paths"]["/sales"]["get"]["parameters"]}
    assert {"start_date", "end_date", "custid"} <= names


def test_a_large_range_is_streamed_as_one_valid_json_array(tmp_path, settings):
    path = tmp_path / "sales.csv"
    lines = [f"{i},c{i % 7},202601{1 + i % 28:02d},{i % 100}.25" for i in range(1, 25_001)]
    path.write_text("ordid,custid,orddate,ordamount\n" + "\n".join(lines) + "\n", encoding="utf-8")
    client = create_sales_app(settings.model_copy(update={"sales_csv": path})).test_client()
    sales = client.get("/sales?start_date=20260101&end_date=20260131").get_json()
    assert len(sales) == 25_000
    assert sum(sale["ordamount"] for sale in sales) == sum(i % 100 + 0.25 for i in range(1, 25_001))
    assert sales[0] == {"ordid": 28, "custid": "c0", "orddate": "20260101", "ordamount": 28.25}
