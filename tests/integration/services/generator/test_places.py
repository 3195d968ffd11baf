"""Customers live in their country's real cities, as many in each as people live there (issue 16): an analyst's
first look at the data shows Amsterdam, Rotterdam, The Hague and Utrecht on top (Berlin, Hamburg and Munich for
de_DE), not Faker's villages."""

import csv
from collections import Counter

import pytest
from sqlalchemy import func, select

from salesmcp.config import DATA_DIR
from salesmcp.services.generator.pools import country_places, locale_pool
from salesmcp.store.schema import customers
from tests.integration.services.generator.tables import generate, scratch_store, sqlite_url

ORDERS = 50_000  # about 5,000 customers: 3,750 Dutch, 1,250 German


@pytest.fixture(scope="module")
def cities(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Counter]:
    """Customers per city, per country, of one default generation (nl_NL:3,de_DE:1)."""
    with scratch_store(sqlite_url(tmp_path_factory.mktemp("places") / "places.db")) as store:
        generate(store, rows=ORDERS, seed=7, batch_size=10_000)
        with store.engine.connect() as connection:
            rows = connection.execute(
                select(customers.c.country, customers.c.city, func.count()).group_by(customers.c.country,
                                                                                     customers.c.city)
            ).all()  # fmt: skip
    found: dict[str, Counter] = {}
    for country, city, count in rows:
        found.setdefault(country, Counter())[city] = count
    return found


def places_file() -> dict[str, dict[str, int]]:
    """data/places.csv read here, apart from the code under test."""
    with (DATA_DIR / "places.csv").open(encoding="utf-8", newline="") as source:
        table: dict[str, dict[str, int]] = {}
        for row in csv.DictReader(source):
            table.setdefault(row["country_code"], {})[row["city"]] = int(row["population"])
    return table


def test_the_largest_cities_of_each_country_are_the_largest_of_the_data(cities):
    top_dutch = {city for city, _ in cities["Netherlands"].most_common(4)}
    assert top_dutch == {"Amsterdam", "Rotterdam", "The Hague", "Utrecht"}
    assert {city for city, _ in cities["Germany"].most_common(3)} == {"Berlin", "Hamburg", "Munich"}


def test_every_city_is_a_real_one_of_its_country(cities):
    table = places_file()
    assert set(cities["Netherlands"]) <= set(table["NL"])
    assert set(cities["Germany"]) <= set(table["DE"])


@pytest.mark.parametrize(("country", "code"), [("Netherlands", "NL"), ("Germany", "DE")])
def test_customers_per_city_follow_the_population(cities, country, code):
    population = places_file()[code]
    total_people = sum(population.values())
    total_customers = sum(cities[country].values())
    for city, people in sorted(population.items(), key=lambda item: -item[1])[:5]:
        expected = total_customers * people / total_people
        assert abs(cities[country][city] - expected) < 4 * expected**0.5 + 2, (city, cities[country][city], expected)


def test_the_places_table_holds_each_country_s_largest_cities_largest_first():
    dutch = country_places("NL")
    assert [name for name, _ in dutch[:4]] == ["Rotterdam", "Amsterdam", "The Hague", "Utrecht"]
    assert all(first[1] >= second[1] for first, second in zip(dutch, dutch[1:], strict=False))
    assert 50 <= len(dutch) <= 100 and all(people >= 15_000 for _, people in dutch)
    assert country_places(None) == () and country_places("XX") == ()


def test_a_locale_pool_draws_the_country_s_real_cities():
    pool = locale_pool("de_DE", 42)
    assert pool.country == "Germany" and pool.cities[0] == "Berlin"
    assert pool.city_cdf[-1] == pytest.approx(1.0) and (pool.city_cdf[1:] >= pool.city_cdf[:-1]).all()
