"""Seed 000's read questions over SQL, on SQLite, MariaDB and PostgreSQL."""

import datetime as dt
from decimal import Decimal

from sqlalchemy import insert, update

from salesmcp.models import Revenue
from salesmcp.services.revenue import city_revenue, customer_revenue
from salesmcp.store.schema import ORDER_STATUSES, orders

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
