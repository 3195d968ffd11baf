from decimal import Decimal

import pytest

from salesmcp.errors import InvalidInput
from salesmcp.services.revenue import city_revenue, customer_revenue


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
