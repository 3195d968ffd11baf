"""Customer management over REST on each database: JSON bodies, 201/400/404/409."""

import pytest
from sqlalchemy import create_engine

from salesmcp.store.sql_store import SqlStore
from salesmcp.web.app import create_rest_app


@pytest.fixture
def client(settings, sql_store):
    return create_rest_app(settings, sql_store, tools=[]).test_client()


def error_of(response, status):
    assert response.status_code == status, response.get_json()
    return response.get_json()["error"]


def test_list_pages_in_custid_order_with_total_and_truncated_flag(client):
    page = client.get("/customers?limit=4&offset=4").get_json()
    assert [c["custid"] for c in page["customers"]] == ["015", "016", "017", "018"]
    assert (page["total"], page["truncated"]) == (10, True)
    assert client.get("/customers?offset=8").get_json()["truncated"] is False


def test_list_filters_by_status_and_city(client):
    client.post("/customers/012/disable")
    assert [c["custid"] for c in client.get("/customers?status=disabled").get_json()["customers"]] == ["012"]
    assert client.get("/customers?city=EINDHOVEN&status=active").get_json()["total"] == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=501", "limit"), ("limit=0", "limit"), ("limit=ten", "limit"), ("offset=-1", "offset"),
     ("status=gone", "status"), ("colour=red", "colour")],
)  # fmt: skip
def test_bad_list_parameters_are_a_400_naming_the_parameter(client, query, field):
    assert error_of(client.get(f"/customers?{query}"), 400)["field"] == field


def test_add_returns_201_with_location_and_the_new_customer(client):
    response = client.post("/customers", json={"name": "Kees", "email": "kees@example.com"})
    assert response.status_code == 201
    customer = response.get_json()
    assert response.headers["Location"].endswith(f"/customers/{customer['custid']}")
    assert client.get(response.headers["Location"]).get_json()["email"] == "kees@example.com"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"email": "x@example.com"}, 400, "name"),
        ({"name": "X", "email": "no-at-sign"}, 400, "email"),
        ({"name": "X", "nickname": "x"}, 400, "nickname"),
        ({"name": "X", "email": "ANNIE@example.com"}, 409, "email"),
        ({"name": "X", "custid": "011"}, 409, "custid"),
    ],
)
def test_bad_adds_are_refused_and_write_nothing(client, body, status, field):
    assert error_of(client.post("/customers", json=body), status)["field"] == field
    assert client.get("/customers").get_json()["total"] == 10


def test_a_body_that_is_not_json_is_a_400(client):
    response = client.post("/customers", data="name=Kees", content_type="text/plain")
    assert response.status_code in (400, 415)
    assert "error" in response.get_json()


def test_patch_changes_only_the_given_fields(client):
    before = client.get("/customers/013").get_json()
    after = client.patch("/customers/013", json={"phone": "+31 6 1234 5678"}).get_json()
    assert after["phone"] == "+31 6 1234 5678"
    assert {k: v for k, v in after.items() if k not in ("phone", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("phone", "updated_at")
    }


def test_patch_with_an_unknown_field_is_a_400_and_changes_nothing(client):
    before = client.get("/customers/013").get_json()
    assert error_of(client.patch("/customers/013", json={"phone": "+31 6 1", "vip": True}), 400)["field"] == "vip"
    assert client.get("/customers/013").get_json() == before


def test_patch_to_an_email_in_use_is_a_409_and_changes_nothing(client):
    before = client.get("/customers/013").get_json()
    assert error_of(client.patch("/customers/013", json={"email": "bert@example.com"}), 409)["field"] == "email"
    assert client.get("/customers/013").get_json() == before


def test_unknown_customers_are_a_404_with_a_json_body(client):
    for response in (
        client.get("/customers/nobody"),
        client.patch("/customers/nobody", json={"city": "X"}),
        client.post("/customers/nobody/disable"),
        client.post("/customers/nobody/activate"),
    ):
        assert error_of(response, 404)["message"] == "no customer with custid 'nobody'"


def test_disable_twice_is_not_an_error(client):
    first = client.post("/customers/014/disable").get_json()
    second = client.post("/customers/014/disable").get_json()
    assert (first["changed"], second["changed"]) == (True, False)
    assert second["message"] == "customer 014 was already disabled"
    assert client.post("/customers/014/activate").get_json()["customer"]["status"] == "active"


def test_health_is_503_with_the_reason_when_the_database_is_unreachable(settings):
    unreachable = SqlStore(create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"))
    response = create_rest_app(settings, unreachable, tools=[]).test_client().get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and "database" in body["reason"]
