"""Seed 002's reads over REST on each database: pages, one order, and a 400/404 JSON body for bad input."""

import json
from decimal import Decimal

import pytest

from salesmcp.services.customers import MAX_PAGE
from salesmcp.web.app import create_rest_app
from tests.integration.catalogue_data import BARE_ORDER, DEMO_ORDER_IDS, ORDERS_2023, WHOLE_ORDER, add_catalogue

PAGE_KEYS = ["total", "limit", "offset", "truncated"]


@pytest.fixture
def client(settings, sql_store):
    add_catalogue(sql_store)
    return create_rest_app(settings, sql_store, tools=[]).test_client()


def ok(response):
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def error_of(response, status):
    assert response.status_code == status, response.get_json()
    return response.get_json()["error"]


def test_products_answer_a_page_with_exact_money(client):
    response = client.get("/products?limit=50&offset=0")
    page = ok(response)
    assert list(page) == ["products", *PAGE_KEYS]
    assert [p["sku"] for p in page["products"]] == ["KIT-001", "KIT-002", "LIV-001"]
    assert page["products"][0] == {
        "id": 1, "sku": "KIT-001", "name": "Kettle", "category": "Kitchen", "price": 19.99, "stock": 5,
        "active": True, "created_at": "2025-12-01T08:00:00Z",
    }  # fmt: skip
    exact = json.loads(response.data, parse_float=Decimal)
    assert [p["price"] for p in exact["products"]] == [Decimal("19.99"), Decimal("4.5"), 35]


def test_products_filter_by_category_and_active(client):
    assert [p["id"] for p in ok(client.get("/products?category=KITCHEN&active=true"))["products"]] == [1, 2]
    assert [p["id"] for p in ok(client.get("/products?active=false"))["products"]] == [3]


def test_the_seeds_orders_request_answers_the_orders_of_2023(client):
    page = ok(client.get("/orders?limit=50&offset=0&from=2023-01-01&to=2023-12-31"))
    assert list(page) == ["orders", *PAGE_KEYS]
    assert [o["id"] for o in page["orders"]] == ORDERS_2023
    assert [page[key] for key in PAGE_KEYS] == [3, 50, 0, False]
    assert page["orders"][0] == {
        "id": WHOLE_ORDER, "custid": "011", "order_date": "2023-06-15", "status": "DELIVERED",
        "subtotal": 43.98, "tax": 9.24, "shipping_fee": 4.95, "total": 58.17,
    }  # fmt: skip


def test_orders_take_yyyymmdd_dates_status_and_customer(client):
    assert [o["id"] for o in ok(client.get("/orders?from=20230101&to=20231231&status=placed"))["orders"]] == [
        BARE_ORDER
    ]
    assert [o["id"] for o in ok(client.get("/orders?customer=012"))["orders"]] == [501, 503, 508, BARE_ORDER]


def test_orders_default_to_a_page_of_50_and_say_when_cut(client):
    page = ok(client.get("/orders"))
    assert [page[key] for key in PAGE_KEYS] == [15, 50, 0, False]
    page = ok(client.get("/orders?limit=5&offset=10"))
    assert ([o["id"] for o in page["orders"]], page["truncated"]) == ([*DEMO_ORDER_IDS[10:], *ORDERS_2023], False)
    assert ok(client.get("/orders?limit=5&offset=5"))["truncated"] is True


def test_one_order_comes_with_items_payment_and_shipment(client):
    order = ok(client.get(f"/orders/{WHOLE_ORDER}"))
    assert (order["custid"], order["total"], order["status"]) == ("011", 58.17, "DELIVERED")
    assert order["items"] == [
        {"id": 1, "product_id": 1, "sku": "KIT-001", "name": "Kettle", "quantity": 2, "unit_price": 19.99,
         "line_total": 39.98},
        {"id": 2, "product_id": 2, "sku": "KIT-002", "name": "Mug", "quantity": 1, "unit_price": 4,
         "line_total": 4},
    ]  # fmt: skip
    assert order["payment"] == {
        "id": 1, "method": "card", "amount": 58.17, "currency": "EUR", "paid_at": "2023-06-15T10:30:00Z",
        "txn_ref": "TXN-601",
    }  # fmt: skip
    assert order["shipment"] == {
        "id": 1, "carrier": "PostNL", "tracking_no": "3SABC601", "shipped_at": "2023-06-16T09:00:00Z",
        "delivered_at": "2023-06-18T14:05:00Z", "status": "DELIVERED",
    }  # fmt: skip
    assert order["returns"] == [RETURN]


RETURN = {
    "id": 1, "order_id": WHOLE_ORDER, "order_item_id": 1, "product_id": 1, "quantity": 1, "refund": 24.18,
    "reason": "damaged", "returned_at": "2023-06-25T10:00:00Z", "refunded_at": "2023-06-27T09:00:00Z",
}  # fmt: skip


def test_returns_answer_a_page_filtered_by_the_day_they_came_back_and_the_reason(client):
    page = ok(client.get("/returns"))
    assert list(page) == ["returns", *PAGE_KEYS]
    assert (page["returns"], [page[key] for key in PAGE_KEYS]) == ([RETURN], [1, 50, 0, False])
    assert ok(client.get("/returns?from=2023-06-25&to=20230625&reason=DAMAGED"))["returns"] == [RETURN]
    assert ok(client.get("/returns?to=2023-06-24"))["returns"] == []
    assert ok(client.get("/returns?from=2023-06-26"))["returns"] == []
    assert ok(client.get("/returns?reason=wrong_item"))["total"] == 0
    assert ok(client.get("/returns?reason=%20"))["total"] == 1  # a blank reason is no filter


def test_an_order_without_payment_or_shipment_has_them_as_null(client):
    order = ok(client.get(f"/orders/{BARE_ORDER}"))
    assert (order["items"], order["payment"], order["shipment"], order["returns"]) == ([], None, None, [])


@pytest.mark.parametrize("route", ["/products", "/orders", "/customers", "/returns"])
@pytest.mark.parametrize(
    ("query", "field"),
    [("offset=-1", "offset"), ("limit=0", "limit"), (f"limit={MAX_PAGE + 1}", "limit"), ("limit=abc", "limit"),
     ("offset=ten", "offset"), ("offset=99999999999999999999999", "offset"), ("colour=red", "colour")],
)  # fmt: skip
def test_every_list_refuses_bad_paging_with_a_400_naming_the_parameter(client, route, query, field):
    assert error_of(client.get(f"{route}?{query}"), 400)["field"] == field


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2023-02-30", "from"),
        ("to=20231301", "to"),
        ("from=01-01-2023", "from"),
        ("from=2023-12-31&to=2023-01-01", "from"),
        ("status=LOST", "status"),
        ("from_=2023-01-01", "from_"),
    ],
)
def test_bad_order_filters_are_a_400_naming_the_parameter(client, query, field):
    error = error_of(client.get(f"/orders?{query}"), 400)
    assert (error["code"], error["field"]) == ("invalid_input", field)
    assert error["message"].startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("query", "field"),
    [("from=2023-02-30", "from"), ("to=2023-6-1", "to"), ("from=2023-07-01&to=2023-06-01", "from"),
     ("reason=broken", "reason")],
)  # fmt: skip
def test_bad_return_filters_are_a_400_naming_the_parameter(client, query, field):
    error = error_of(client.get(f"/returns?{query}"), 400)
    assert (error["code"], error["field"]) == ("invalid_input", field)
    assert error["message"].startswith(f"{field}: ")


def test_an_impossible_date_is_reported_as_such(client):
    error = error_of(client.get("/orders?from=2023-02-30&to=2023-03-31"), 400)
    assert "'2023-02-30' is not a real calendar date" in error["message"]


def test_a_bad_active_flag_is_a_400(client):
    assert error_of(client.get("/products?active=maybe"), 400)["field"] == "active"


def test_an_unknown_order_is_a_404_with_a_json_body(client):
    assert error_of(client.get("/orders/999999"), 404) == {
        "code": "not_found", "message": "no order with id 999999", "field": "id"
    }  # fmt: skip


@pytest.mark.parametrize("order_id", ["abc", "1.5", "0", "-7", "99999999999999999999999"])
def test_an_order_id_that_cannot_be_an_id_is_a_400_naming_id(client, order_id):
    assert error_of(client.get(f"/orders/{order_id}"), 400)["field"] == "id"


def test_the_openapi_document_describes_the_new_routes(client):
    paths = ok(client.get("/openapi/openapi.json"))["paths"]
    assert {"/products", "/orders", "/orders/{id}", "/returns"} <= set(paths)
    assert {p["name"] for p in paths["/returns"]["get"]["parameters"]} == {"limit", "offset", "from", "to", "reason"}
    parameters = {p["name"] for p in paths["/orders"]["get"]["parameters"]}
    assert parameters == {"limit", "offset", "from", "to", "status", "customer"}
