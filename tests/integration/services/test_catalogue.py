"""Catalogue reads (seed 002) over SQL: pages, filters and one whole order, on SQLite, MariaDB and PostgreSQL."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from salesmcp.errors import InvalidInput, NotFound
from salesmcp.services.customers import DEFAULT_PAGE, MAX_PAGE, list_customers
from salesmcp.services.products_orders import OrderDetail, OrderPage, ProductPage, get_order, list_orders, list_products
from tests.integration.catalogue_data import (
    BARE_ORDER,
    CANCELLED_ORDER,
    DEMO_ORDER_IDS,
    ORDERS_2023,
    WHOLE_ORDER,
    add_catalogue,
)

UTC = dt.UTC


@pytest.fixture
def store(sql_store):
    add_catalogue(sql_store)
    return sql_store


def order_ids(page):
    return [order.id for order in page.items]


# -- products --------------------------------------------------------------------------------------


def test_products_come_in_id_order_with_exact_prices_and_utc_timestamps(store):
    page = list_products(store)
    assert [p.sku for p in page.items] == ["KIT-001", "KIT-002", "LIV-001"]
    assert (page.total, page.limit, page.offset, page.truncated) == (3, DEFAULT_PAGE, 0, False)
    kettle = page.items[0]
    assert (kettle.name, kettle.category, kettle.price, kettle.stock, kettle.active) == (
        "Kettle", "Kitchen", Decimal("19.99"), 5, True
    )  # fmt: skip
    assert kettle.created_at == dt.datetime(2025, 12, 1, 8, 0, tzinfo=UTC)


def test_products_filter_by_category_ignoring_case_and_by_active(store):
    assert [p.sku for p in list_products(store, category="kitchen").items] == ["KIT-001", "KIT-002"]
    assert [p.sku for p in list_products(store, active=False).items] == ["LIV-001"]
    assert [p.sku for p in list_products(store, category="KITCHEN", active="true").items] == ["KIT-001", "KIT-002"]
    assert list_products(store, category="Garden").total == 0


def test_products_page_says_when_it_is_cut(store):
    first = list_products(store, limit=2)
    rest = list_products(store, limit=2, offset=2)
    assert ([p.id for p in first.items], first.truncated) == ([1, 2], True)
    assert ([p.id for p in rest.items], rest.total, rest.truncated) == ([3], 3, False)


def test_an_unknown_active_flag_is_invalid_input(store):
    with pytest.raises(InvalidInput) as caught:
        list_products(store, active="maybe")
    assert caught.value.field == "active"


# -- orders ------------------------------------------------------------------------------------------


def test_orders_come_in_id_order_with_their_customers_custid(store):
    page = list_orders(store, limit=MAX_PAGE)
    assert order_ids(page) == DEMO_ORDER_IDS + ORDERS_2023
    assert page.total == 15 and not page.truncated
    whole = page.items[-3]
    assert (whole.custid, whole.order_date, whole.status) == ("011", dt.date(2023, 6, 15), "DELIVERED")
    assert (whole.subtotal, whole.tax, whole.shipping_fee, whole.total) == (
        Decimal("43.98"), Decimal("9.24"), Decimal("4.95"), Decimal("58.17")
    )  # fmt: skip


def test_the_date_range_includes_both_ends(store):
    page = list_orders(store, "2023-01-01", "2023-12-31")
    assert (order_ids(page), page.total) == (ORDERS_2023, 3)
    assert order_ids(list_orders(store, "2023-01-02", "2023-12-30")) == [WHOLE_ORDER]


def test_dates_may_be_yyyymmdd_and_either_end_may_be_left_out(store):
    assert order_ids(list_orders(store, "20230101", "20231231")) == ORDERS_2023
    assert order_ids(list_orders(store, start="2026-02-10")) == [511, 512]
    assert order_ids(list_orders(store, end="20230615")) == [WHOLE_ORDER, CANCELLED_ORDER]
    assert order_ids(list_orders(store, start=dt.date(2023, 12, 31), end=dt.date(2023, 12, 31))) == [BARE_ORDER]


def test_orders_filter_by_status_ignoring_case_and_by_customer(store):
    assert order_ids(list_orders(store, status="cancelled")) == [CANCELLED_ORDER]
    assert order_ids(list_orders(store, customer="011", start="2023-01-01", end="2023-12-31")) == [
        WHOLE_ORDER, CANCELLED_ORDER
    ]  # fmt: skip
    assert order_ids(list_orders(store, customer="011")) == [505, 507, WHOLE_ORDER, CANCELLED_ORDER]


def test_an_unknown_customer_has_no_orders(store):
    page = list_orders(store, customer="nobody")
    assert (page.items, page.total, page.truncated) == ([], 0, False)


def test_orders_pages_follow_each_other_without_gaps(store):
    pages = [list_orders(store, limit=4, offset=offset) for offset in range(0, 16, 4)]
    assert [order_id for page in pages for order_id in order_ids(page)] == DEMO_ORDER_IDS + ORDERS_2023
    assert [page.truncated for page in pages] == [True, True, True, False]
    assert all(page.total == 15 for page in pages)


def test_filtered_orders_page_in_id_order_from_the_first_match(store):
    pages = [list_orders(store, customer="011", limit=1, offset=offset) for offset in range(4)]
    assert [order_ids(page) for page in pages] == [[505], [507], [WHOLE_ORDER], [CANCELLED_ORDER]]
    assert order_ids(list_orders(store, "2023-01-01", "2023-12-31", limit=2, offset=1)) == [BARE_ORDER, CANCELLED_ORDER]


def test_a_page_past_the_end_is_empty(store):
    page = list_orders(store, offset=1000)
    assert (page.items, page.total, page.offset, page.truncated) == ([], 15, 1000, False)


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2023-02-30", None, "from"),
        (None, "20231301", "to"),
        ("yesterday", None, "from"),
        ("2023-1-5", None, "from"),
        ("2023-12-31", "2023-01-01", "from"),
        ("20240101", "2023-12-31", "from"),
    ],
)
def test_bad_dates_are_invalid_input_naming_the_parameter(store, start, end, field):
    with pytest.raises(InvalidInput) as caught:
        list_orders(store, start, end)
    assert caught.value.field == field


def test_an_unknown_status_is_invalid_input(store):
    with pytest.raises(InvalidInput) as caught:
        list_orders(store, status="LOST")
    assert caught.value.field == "status" and "PLACED" in caught.value.message


# -- one order -----------------------------------------------------------------------------------------


def test_an_order_comes_with_its_items_payment_and_shipment(store):
    order = get_order(store, WHOLE_ORDER)
    assert (order.id, order.custid, order.total) == (WHOLE_ORDER, "011", Decimal("58.17"))
    assert [(i.product_id, i.sku, i.name, i.quantity, i.unit_price, i.line_total) for i in order.items] == [
        (1, "KIT-001", "Kettle", 2, Decimal("19.99"), Decimal("39.98")),
        (2, "KIT-002", "Mug", 1, Decimal("4.00"), Decimal("4.00")),
    ]
    assert order.payment is not None and order.shipment is not None
    assert (order.payment.method, order.payment.amount, order.payment.currency, order.payment.txn_ref) == (
        "card", Decimal("58.17"), "EUR", "TXN-601"
    )  # fmt: skip
    assert order.payment.paid_at == dt.datetime(2023, 6, 15, 10, 30, tzinfo=UTC)
    assert (order.shipment.carrier, order.shipment.tracking_no, order.shipment.status) == (
        "PostNL", "3SABC601", "DELIVERED"
    )  # fmt: skip
    assert order.shipment.delivered_at == dt.datetime(2023, 6, 18, 14, 5, tzinfo=UTC)


def test_an_order_without_payment_or_shipment_has_them_as_none(store):
    order = get_order(store, str(BARE_ORDER))
    assert (order.custid, order.status, order.items, order.payment, order.shipment) == (
        "012", "PLACED", [], None, None
    )  # fmt: skip


def test_an_unknown_order_is_not_found_naming_the_id(store):
    with pytest.raises(NotFound) as caught:
        get_order(store, 999_999)
    assert (caught.value.field, caught.value.message) == ("id", "no order with id 999999")


@pytest.mark.parametrize("order_id", ["abc", "1.5", None, True, 0, -1, 2**63])
def test_an_order_id_that_is_no_possible_id_is_invalid_input(store, order_id):
    with pytest.raises(InvalidInput) as caught:
        get_order(store, order_id)
    assert caught.value.field == "id"


# -- the page rule, one for every list -------------------------------------------------------------


LISTS = {"customers": list_customers, "products": list_products, "orders": list_orders}


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize(
    ("limit", "offset", "field"),
    [(0, 0, "limit"), (MAX_PAGE + 1, 0, "limit"), ("abc", 0, "limit"), (1.5, 0, "limit"), (10, -1, "offset"),
     (10, "x", "offset"), (10, 2**63, "offset")],
)  # fmt: skip
def test_every_list_has_the_same_page_rule(store, name, limit, offset, field):
    with pytest.raises(InvalidInput) as caught:
        LISTS[name](store, limit=limit, offset=offset)
    assert caught.value.field == field


@pytest.mark.parametrize("name", LISTS)
def test_every_list_takes_the_largest_page_and_a_huge_offset(store, name):
    page = LISTS[name](store, limit=str(MAX_PAGE), offset=2**63 - 1)
    assert (page.limit, page.offset, page.truncated) == (MAX_PAGE, 2**63 - 1, False)


# -- output shapes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [ProductPage, OrderPage, OrderDetail])
def test_output_schemas_are_plain_for_mcp_clients(model):
    schema = json.dumps(model.model_json_schema(mode="serialization"))
    assert "$ref" not in schema and "$defs" not in schema


def test_money_and_timestamps_leave_as_exact_numbers_and_iso_with_z(store):
    data = get_order(store, WHOLE_ORDER).model_dump(mode="json")
    assert (data["total"], data["items"][1]["unit_price"], data["shipping_fee"]) == (58.17, 4, 4.95)
    assert data["order_date"] == "2023-06-15"
    assert data["payment"]["paid_at"] == "2023-06-15T10:30:00Z"
