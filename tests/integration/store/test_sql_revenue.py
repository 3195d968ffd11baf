"""Seed 000's read questions over SQL, on SQLite, MariaDB and PostgreSQL."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import insert, update

from salesmcp.models import CityRevenuePage, Revenue
from salesmcp.services.revenue import city_revenue, customer_revenue
from salesmcp.store.base import ORDER_KEYS, CustomerOrder
from salesmcp.store.schema import ORDER_STATUSES, customers, orders
from salesmcp.store.sql_store import SqlStore

JAN = (dt.date(2026, 1, 1), dt.date(2026, 1, 31))


def test_seed_examples_come_from_the_database(sql_store):
    assert customer_revenue(sql_store, "012", "20260101", "20260131")["revenue"] == 14
    city = city_revenue(sql_store, "eindhoven", "20260101", "20260131")
    assert (city["city"], city["total_revenue"], city["customer_count"]) == ("Eindhoven", 54, 3)
    assert [(c["custid"], c["revenue"], c["sales_count"]) for c in city["customers"]] == [
        ("011", 19, 2),
        ("012", 14, 2),
        ("016", 21, 1),
    ]


def test_the_demo_database_has_ten_customers_and_the_twelve_seed_sales(sql_store):
    assert len(sql_store.sales_between(dt.date(2026, 1, 1), dt.date(2026, 12, 31))) == 12
    assert sql_store.customer("020").city == "Breda"
    assert sql_store.customer("021") is None


def test_sales_between_is_inclusive_sorted_and_filtered(sql_store):
    sales = sql_store.sales_between(dt.date(2026, 1, 19), dt.date(2026, 1, 30), ["011", "016"])
    assert [(s.ordid, s.custid, s.orddate) for s in sales] == [
        (504, "016", dt.date(2026, 1, 19)),
        (505, "011", dt.date(2026, 1, 23)),
        (507, "011", dt.date(2026, 1, 30)),
    ]


def test_city_lookup_ignores_case_and_spaces(sql_store):
    assert [c.custid for c in sql_store.customers_in_city("  TILBURG ")] == ["014", "015"]


def test_cancelled_orders_do_not_count_as_revenue(sql_store):
    with sql_store.transaction() as connection:
        connection.execute(update(orders).where(orders.c.id == 505).values(status="CANCELLED"))
    assert sql_store.revenue_by_customer(*JAN, ["011"]) == {"011": Revenue(Decimal(7), 1)}


def test_money_is_exact(sql_store):
    with sql_store.transaction() as connection:
        connection.execute(
            insert(orders),
            [
                {"id": 900 + i, "customer_id": 15, "order_date": dt.date(2026, 1, 2), "status": "PAID",
                 "subtotal": Decimal(v), "total": Decimal(v)}
                for i, v in enumerate(["0.10", "0.20", "1234567.89"])
            ],
        )  # fmt: skip
    result = customer_revenue(sql_store, "015", "20260102", "20260102")
    assert result["revenue"] == Decimal("1234568.19")
    assert result["sales_count"] == 3


def test_every_order_status_but_cancelled_counts_as_revenue(sql_store):
    counted = {}
    for status in ORDER_STATUSES:
        with sql_store.transaction() as connection:
            connection.execute(update(orders).where(orders.c.id == 505).values(status=status))
        counted[status] = 505 in {sale.ordid for sale in sql_store.sales_between(*JAN)}
    assert counted == {"PLACED": True, "PAID": True, "SHIPPED": True, "DELIVERED": True, "CANCELLED": False}


# -- a city's list ordered and cut by the database ----------------------------------------------------

BIG_CITY = "Zwolle"


def _add_city(sql_store: SqlStore, size: int = 40) -> dict[str, Revenue]:
    """``size`` customers in BIG_CITY (ids 1000+, custids R000..), orders in and around January 2026 with
    ties, cents that floats cannot sum exactly, cancelled orders and customers without any; what each
    customer's January revenue is, computed here from the rows inserted."""
    people = [
        {"id": 1000 + n, "custid": f"R{n:03d}", "name": f"Klant {n}", "city": "zwolle" if n % 5 == 0 else BIG_CITY}
        for n in range(size)
    ]  # some spelled in lower case: the city matches ignoring case
    rows, expected = [], {}
    for n in range(size):
        amounts = [["0.10", "0.20"], ["0.30"], ["19.99", "0.01"], [], ["7"]][n % 5]
        for k, amount in enumerate(amounts):
            rows.append({"id": 20_000 + 10 * n + k, "customer_id": 1000 + n, "order_date": dt.date(2026, 1, 1 + k),
                         "status": "PAID", "subtotal": Decimal(amount), "total": Decimal(amount)})  # fmt: skip
        rows.append({"id": 20_000 + 10 * n + 8, "customer_id": 1000 + n, "order_date": dt.date(2026, 1, 20),
                     "status": "CANCELLED", "subtotal": Decimal(500), "total": Decimal(500)})  # fmt: skip
        rows.append({"id": 20_000 + 10 * n + 9, "customer_id": 1000 + n, "order_date": dt.date(2026, 2, 1),
                     "status": "PAID", "subtotal": Decimal(300), "total": Decimal(300)})  # fmt: skip
        expected[f"R{n:03d}"] = Revenue(sum((Decimal(a) for a in amounts), Decimal(0)), len(amounts))
    with sql_store.transaction() as connection:
        connection.execute(insert(customers), people)
        connection.execute(insert(orders), rows)
    return expected


def _in_order(expected: dict[str, Revenue], order: CustomerOrder) -> list[tuple[str, Revenue]]:
    sign = -1 if order.descending else 1
    if order.key == "custid":
        return sorted(expected.items(), reverse=order.descending)
    metric = (lambda r: r.amount) if order.key == "revenue" else (lambda r: r.count)
    return sorted(expected.items(), key=lambda item: (sign * metric(item[1]), item[0]))


def test_city_totals_are_exact_for_the_whole_city_whatever_the_page(sql_store):
    expected = _add_city(sql_store)
    page = sql_store.city_revenue(" ZWOLLE ", *JAN, limit=3, offset=5)
    assert page.city == "zwolle"  # as the customer with the lowest custid (R000) spells it
    assert page.customer_count == len(expected)
    assert page.total == Revenue(sum((r.amount for r in expected.values()), Decimal(0)),
                                 sum(r.count for r in expected.values()))  # fmt: skip


@pytest.mark.parametrize(
    "order", [CustomerOrder(key, descending) for key in ORDER_KEYS for descending in (False, True)]
)
def test_the_database_orders_and_cuts_the_list_as_asked_ties_by_custid(sql_store, order):
    expected = _in_order(_add_city(sql_store), order)
    pages = [sql_store.city_revenue(BIG_CITY, *JAN, order, limit=7, offset=offset) for offset in range(0, 42, 7)]
    listed = [(customer.custid, revenue) for page in pages for customer, revenue in page.lines]
    assert listed == expected
    assert all(customer.city.lower() == "zwolle" for page in pages for customer, _ in page.lines)


def test_a_city_without_customers_has_no_name_no_customers_and_zero_totals(sql_store):
    assert sql_store.city_revenue("Atlantis", *JAN, limit=5) == CityRevenuePage(None, 0, Revenue(), [])
