"""Data with flaws on request (issue 16): the run record says how many defects of each kind it made, the data
holds exactly those, only the flawed rows differ from the clean run of the same seed, the rules of the data still
hold, and the flawed data is the same on every database."""

import csv

import pytest
from sqlalchemy import text

from salesmcp.config import DATA_DIR
from salesmcp.services import generator
from tests.integration.services.generator.tables import generate, scratch_store, sqlite_url, table_digests

REQUEST = {"rows": 20_000, "seed": 42}
SHARE = 0.1
TEXT = {"customers": "id, name, first_name, last_name, email, phone, city", "products": "id, name"}  # what flaws touch


def rows(store, sql: str) -> list[tuple]:
    with store.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict:
    with scratch_store(sqlite_url(tmp_path_factory.mktemp("clean") / "clean.db")) as store:
        run = generate(store, **REQUEST)
        return {"run": run, "digests": table_digests(store),
                "customers": rows(store, f"SELECT {TEXT['customers']} FROM customers ORDER BY id"),
                "products": rows(store, f"SELECT {TEXT['products']} FROM products ORDER BY id")}  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def flawed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    url = (sqlite_url(tmp_path_factory.mktemp("flawed") / "flawed.db") if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))  # fmt: skip
    with scratch_store(url) as store:
        run = generate(store, **REQUEST, flaws=SHARE)
        yield store, run


def places() -> set[tuple[str, str]]:
    countries = {"NL": "Netherlands", "DE": "Germany"}
    with (DATA_DIR / "places.csv").open(encoding="utf-8", newline="") as source:
        return {(countries[row["country_code"]], row["city"]) for row in csv.DictReader(source)
                if row["country_code"] in countries}  # fmt: skip


def test_a_clean_run_records_no_flaws(clean):
    assert clean["run"].flaws is None


def test_the_run_record_counts_each_kind_and_the_data_holds_them(flawed):
    store, run = flawed
    made = run.flaws
    assert made is not None and set(made) == {"whitespace", "casing", "missing_phone", "near_duplicate",
                                              "misspelt_city", "product_whitespace", "product_casing"}  # fmt: skip
    customers = run.counts["customers"]
    assert 0.07 * customers < sum(made[kind] for kind in list(made)[:5]) < 0.13 * customers
    assert rows(store, "SELECT count(*) FROM customers WHERE phone IS NULL")[0][0] == made["missing_phone"]
    assert rows(store, "SELECT count(*) FROM customers WHERE email LIKE '%+%'")[0][0] == made["near_duplicate"]
    names = [name for (name,) in rows(store, "SELECT name FROM customers")]
    spaced = sum(name != name.strip() or "  " in name for name in names)
    cased = sum(name in (name.upper(), name.lower()) for name in names)
    # A near-duplicate copies its neighbour, flaws and all: up to that many more.
    assert made["whitespace"] <= spaced <= made["whitespace"] + made["near_duplicate"]
    assert made["casing"] <= cased <= made["casing"] + made["near_duplicate"]
    real = places()
    unknown = sum((country, city) not in real for country, city in rows(store, "SELECT country, city FROM customers"))
    assert made["misspelt_city"] <= unknown <= made["misspelt_city"] + made["near_duplicate"]
    products = [name for (name,) in rows(store, "SELECT name FROM products")]
    assert sum(name != name.strip() or "  " in name for name in products) == made["product_whitespace"]
    assert sum(name in (name.upper(), name.lower()) for name in products) == made["product_casing"]


def test_only_the_flawed_rows_differ_from_the_clean_run_and_the_orders_are_the_same(clean, flawed):
    store, run = flawed
    flawed_digests = table_digests(store)
    for table in ("orders", "order_items", "payments", "shipments"):
        assert flawed_digests[table] == clean["digests"][table], table
    customer_flaws = sum(run.flaws[kind] for kind in list(run.flaws)[:5])
    product_flaws = run.flaws["product_whitespace"] + run.flaws["product_casing"]
    for table, number in (("customers", customer_flaws), ("products", product_flaws)):
        changed = [1 for a, b in zip(clean[table], rows(store, f"SELECT {TEXT[table]} FROM {table} ORDER BY id"),
                                     strict=True) if a != b]  # fmt: skip
        assert len(changed) == number, table


def test_flaws_break_no_rule_of_the_data(flawed):
    store, _ = flawed
    assert rows(store, "SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id "
                       "WHERE c.id IS NULL")[0][0] == 0  # fmt: skip
    assert (
        rows(store, "SELECT count(*) FROM (SELECT email FROM customers GROUP BY email HAVING count(*) > 1) d")[0][0]
        == 0
    )
    assert rows(store, "SELECT count(*) FROM orders o WHERE abs(o.subtotal - (SELECT sum(line_total) FROM order_items "
                       "i WHERE i.order_id = o.id)) > 0.005")[0][0] == 0  # fmt: skip
    countries = {country for (country,) in rows(store, "SELECT DISTINCT country FROM customers")}
    assert countries == {"Netherlands", "Germany"}


def test_the_flawed_data_is_the_same_on_every_database(flawed, tmp_path_factory: pytest.TempPathFactory):
    store, run = flawed
    with scratch_store(sqlite_url(tmp_path_factory.mktemp("reference") / "reference.db")) as reference:
        generate(reference, **REQUEST, flaws=SHARE)
        assert table_digests(reference) == table_digests(store)
        assert generator.get_run(reference, 1).flaws == run.flaws
