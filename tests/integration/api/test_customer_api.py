import pytest

from salesmcp.api.seed000 import create_customer_app


@pytest.fixture
def client(settings):
    return create_customer_app(settings).test_client()


def test_get_customer_returns_the_seed_fields_in_order(client):
    response = client.get("/customer/011")
    assert response.status_code == 200
    assert response.get_data(as_text=True).strip() == '{"custid":"011","custname":"Annie","city":"Eindhoven"}'


def test_unknown_customer_is_an_empty_object_with_200(client):
    response = client.get("/customer/999")
    assert (response.status_code, response.get_json()) == (200, {})


def test_customers_of_a_city_sorted_by_custid(client):
    assert [c["custid"] for c in client.get("/customers/city/Eindhoven").get_json()] == ["011", "012", "016"]


def test_city_matches_case_insensitively_and_ignoring_spaces(client):
    assert len(client.get("/customers/city/%20tilBURG%20").get_json()) == 2


def test_unknown_city_is_an_empty_array_with_200(client):
    response = client.get("/customers/city/Utrecht")
    assert (response.status_code, response.get_json()) == (200, [])


def test_unknown_route_is_a_json_404(client):
    response = client.get("/customer")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_health_reports_the_loaded_customers(client):
    assert client.get("/health").get_json() == {"status": "ok", "service": "customers", "rows": 6}


def test_the_customer_api_reads_the_csv_named_in_settings(tmp_path, settings):
    path = tmp_path / "other.csv"
    path.write_text("custid,custname,city\n900,Zoe,Breda\n", encoding="utf-8")
    client = create_customer_app(settings.model_copy(update={"customers_csv": path})).test_client()
    assert client.get("/customer/900").get_json()["city"] == "Breda"
