from decimal import Decimal

import pytest

from salesmcp.errors import InvalidInput
from salesmcp.models import CityRevenue, compact_json, json_ready
from salesmcp.services.revenue import ANSWER_BYTES, MAX_CITY_LIMIT, city_revenue, customer_revenue
from salesmcp.store.csv_store import CsvStore


def test_customer_revenue_matches_seed_example_1(store):
    assert customer_revenue(store, "012", "20260101", "20260131") == {
        "custid": "012",
        "custname": "Bert",
        "city": "Eindhoven",
        "revenue": Decimal(14),
        "sales_count": 2,
    }


def test_customer_revenue_includes_sales_on_both_end_dates(store):
    # 012 bought on 20260103 and 20260119.
    assert customer_revenue(store, "012", "20260103", "20260119")["sales_count"] == 2
    assert customer_revenue(store, "012", "20260104", "20260118")["sales_count"] == 0


def test_customer_revenue_of_an_unknown_customer_is_empty(store):
    assert customer_revenue(store, "999", "20260101", "20260131") == {}


def test_customer_without_sales_in_the_period_has_zero_revenue(store):
    result = customer_revenue(store, "015", "20260101", "20260131")
    assert (result["revenue"], result["sales_count"]) == (0, 0)


def test_city_revenue_of_eindhoven_in_january_totals_54_not_the_seeds_47(store):
    result = city_revenue(store, "Eindhoven", "20260101", "20260131")
    assert result["total_revenue"] == 54
    assert result["customer_count"] == 3
    assert [(c["custid"], c["custname"], c["revenue"], c["sales_count"]) for c in result["customers"]] == [
        ("011", "Annie", 19, 2),
        ("012", "Bert", 14, 2),
        ("016", "Fien", 21, 1),
    ]


def test_city_revenue_includes_customers_without_sales(store):
    result = city_revenue(store, "Tilburg", "20260101", "20260131")
    assert [(c["custid"], c["revenue"], c["sales_count"]) for c in result["customers"]] == [
        ("014", 11, 1),
        ("015", 0, 0),
    ]
    assert result["total_revenue"] == 11


def test_city_matches_case_insensitively_and_reports_the_city_as_stored(store):
    assert city_revenue(store, "  tilburg ", "20260101", "20260228")["city"] == "Tilburg"


def test_unknown_city_gives_zero_totals_and_no_customers(store):
    assert city_revenue(store, "Utrecht", "20260101", "20260131") == {
        "city": "Utrecht",
        "total_revenue": 0,
        "customer_count": 0,
        "customers": [],
    }


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("012", "2026-1-1", "20260131"), "start_date"),
        (("012", "20260101", "202601"), "end_date"),
        (("012", "20260201", "20260101"), "start_date"),
        (("", "20260101", "20260131"), "cust_id"),
    ],
)
def test_customer_revenue_rejects_bad_input_naming_the_field(store, args, field):
    with pytest.raises(InvalidInput) as caught:
        customer_revenue(store, *args)
    assert caught.value.field == field


def test_city_revenue_requires_a_city(store):
    with pytest.raises(InvalidInput, match="city: is required"):
        city_revenue(store, "   ", "20260101", "20260131")


# -- a city's list, cut to stay readable for a model ---------------------------------------------------


def _listed(result):
    return [(c["custid"], c["revenue"], c["sales_count"]) for c in result["customers"]]


def test_a_small_city_answers_in_the_seeds_shape(store):
    assert list(city_revenue(store, "Eindhoven", "20260101", "20260131")) == [
        "city",
        "total_revenue",
        "customer_count",
        "customers",
    ]


def test_a_cut_list_says_so_and_the_totals_still_cover_the_whole_city(store):
    result = city_revenue(store, "Eindhoven", "20260101", "20260131", limit=2)
    assert result == {
        "city": "Eindhoven",
        "total_revenue": 54,
        "customer_count": 3,
        "truncated": True,
        "shown": 2,
        "offset": 0,
        "customers": [
            {"custid": "011", "custname": "Annie", "revenue": 19, "sales_count": 2},
            {"custid": "012", "custname": "Bert", "revenue": 14, "sales_count": 2},
        ],
    }


def test_offset_lists_the_customers_after_the_first_ones(store):
    result = city_revenue(store, "Eindhoven", "20260101", "20260131", limit=2, offset=2)
    assert (result["total_revenue"], result["customer_count"]) == (54, 3)
    assert (result["truncated"], result["shown"], result["offset"]) == (True, 1, 2)
    assert _listed(result) == [("016", 21, 1)]


def test_an_offset_past_the_end_lists_nobody_and_keeps_the_totals(store):
    result = city_revenue(store, "Eindhoven", "20260101", "20260131", offset=3)
    assert (result["total_revenue"], result["customer_count"], result["shown"], result["customers"]) == (54, 3, 0, [])


def test_order_by_minus_revenue_lists_the_highest_revenue_first(store):
    result = city_revenue(store, "Eindhoven", "20260101", "20260131", order_by="-revenue")
    assert _listed(result) == [("016", 21, 1), ("011", 19, 2), ("012", 14, 2)]
    assert "truncated" not in result  # the whole city, in another order


@pytest.mark.parametrize(
    ("order_by", "custids"),
    [
        ("custid", ["011", "012", "016"]),
        ("-custid", ["016", "012", "011"]),
        ("revenue", ["012", "011", "016"]),
        ("sales_count", ["016", "011", "012"]),  # 011 and 012 tie with 2 sales: by custid
        ("-sales_count", ["011", "012", "016"]),
    ],
)
def test_every_order_lists_ties_by_custid(store, order_by, custids):
    result = city_revenue(store, "Eindhoven", "20260101", "20260131", order_by=order_by)
    assert [c["custid"] for c in result["customers"]] == custids


def test_customers_without_sales_tie_at_zero_and_are_listed_by_custid(store):
    result = city_revenue(store, "Eindhoven", "20260301", "20260331", order_by="-revenue", limit=2)
    assert _listed(result) == [("011", 0, 0), ("012", 0, 0)]


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"limit": 0}, "limit: must be between 1 and 300; got 0"),
        ({"limit": 301}, "limit: must be between 1 and 300; got 301"),
        ({"limit": "10"}, "limit: must be a whole number"),
        ({"limit": True}, "limit: must be a whole number"),
        ({"order_by": "revenue desc"}, "order_by: must be one of custid, -custid, revenue, -revenue, sales_count"),
        ({"order_by": "Revenue"}, "order_by: must be one of"),
        ({"order_by": None}, "order_by: must be one of"),
        ({"offset": -1}, "offset: must be between 0 and"),
    ],
)
def test_a_bad_limit_order_or_offset_is_refused_naming_it(store, arguments, words):
    with pytest.raises(InvalidInput) as caught:
        city_revenue(store, "Eindhoven", "20260101", "20260131", **arguments)
    assert caught.value.field == next(iter(arguments))
    assert words in caught.value.message


def test_long_names_are_cut_so_that_the_answer_text_fits_and_no_more(tmp_path):
    name = "Ääbelgrössë-van den Ötterloo " * 7  # 210 characters, many of them two bytes in UTF-8
    rows = [f"C{n:04d},{name}{n},Großstadt" for n in range(MAX_CITY_LIMIT)]
    (tmp_path / "customers.csv").write_text("custid,custname,city\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "sales.csv").write_text(
        "ordid,custid,orddate,ordamount\n1,C0001,20260105,12.34\n2,C0299,20260106,0.66\n", encoding="utf-8"
    )
    big = CsvStore(tmp_path / "customers.csv", tmp_path / "sales.csv")

    result = city_revenue(big, "großstadt", "20260101", "20260131", limit=MAX_CITY_LIMIT)

    text = compact_json(json_ready(CityRevenue, result)).encode()
    assert len(text) <= ANSWER_BYTES
    assert (result["total_revenue"], result["customer_count"]) == (13, MAX_CITY_LIMIT)
    assert result["truncated"] is True
    assert result["shown"] == len(result["customers"]) < MAX_CITY_LIMIT
    assert [c["custid"] for c in result["customers"]] == [f"C{n:04d}" for n in range(result["shown"])]
    following = {"custid": f"C{result['shown']:04d}", "custname": f"{name}{result['shown']}", "revenue": Decimal(0),
                 "sales_count": 0}  # fmt: skip
    longer = {**result, "shown": result["shown"] + 1, "customers": [*result["customers"], following]}
    assert len(compact_json(json_ready(CityRevenue, longer)).encode()) > ANSWER_BYTES  # cut where it must, not before
