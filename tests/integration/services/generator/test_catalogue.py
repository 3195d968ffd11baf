"""A believable catalogue at any size (issue 16): a few hundred products even for a small dataset, each named
with its own category's words."""

import pytest
from sqlalchemy import select

from salesmcp.services.generator.params import MIN_PRODUCTS
from salesmcp.services.generator.pools import CATEGORIES
from salesmcp.store.schema import products
from tests.integration.services.generator.tables import generate, scratch_store, sqlite_url


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> list:
    with scratch_store(sqlite_url(tmp_path_factory.mktemp("catalogue") / "catalogue.db")) as store:
        generate(store, rows=5_000, seed=3)
        with store.engine.connect() as connection:
            return connection.execute(select(products.c.category, products.c.name)).all()


def test_a_small_dataset_still_has_a_catalogue_of_a_few_hundred_products(catalogue):
    assert len(catalogue) == MIN_PRODUCTS == 300  # 5,000 orders × 0.002 would be 10
    assert len({category for category, _ in catalogue}) == len(CATEGORIES)


def test_every_product_name_is_made_of_its_own_category_s_words(catalogue):
    words = {category.name: category for category in CATEGORIES}
    for category, name in catalogue:
        words_of = words[category]
        head, _, variant = name.rpartition(" - ")
        assert variant in words_of.variants, (category, name)
        assert any(head == f"{adjective} {noun}" for adjective in words_of.adjectives for noun in words_of.nouns), (
            category, name,
        )  # fmt: skip


def test_no_category_borrows_another_s_nouns():
    owners: dict[str, str] = {}
    for category in CATEGORIES:
        for noun in category.nouns:
            assert owners.setdefault(noun, category.name) == category.name, noun
