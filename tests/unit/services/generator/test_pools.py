"""The pools of generated values: one canonical country per locale."""

import pytest
from faker.config import AVAILABLE_LOCALES

from salesmcp.services.generator.pools import country_name, locale_pool

SEED = 42


@pytest.mark.parametrize(
    ("locale", "country"),
    [
        ("nl_NL", "Netherlands"),  # as the demo data says, not Faker's "Kingdom of the Netherlands"
        ("de_DE", "Germany"),
        ("de", "Germany"),  # no territory: the country of Faker's addresses for it
        ("nl_BE", "Belgium"),
        ("fr_BE", "Belgium"),  # Faker's own answer would be "United States"
        ("en_IE", "Ireland"),
        ("ga_IE", "Ireland"),
        ("zh_CN", "China"),
        pytest.param("fr_QC", "Canada", marks=pytest.mark.filterwarnings("ignore:fr_QC locale is deprecated")),
        ("en_US", "United States"),
    ],
)
def test_each_locales_customers_live_in_its_country_by_its_short_name(locale, country):
    assert locale_pool(locale, SEED).country == country


def test_every_faker_locale_with_a_territory_names_its_country():
    territories = {locale.partition("_")[2] for locale in AVAILABLE_LOCALES} - {"", "AA"}  # ar_AA: no country
    assert {code: country_name(code) for code in territories if not country_name(code)} == {}
