"""Pools of realistic values, made once and drawn from with numpy.

Faker costs tens of microseconds a call; a million customers would take minutes. So each locale's
names, phone numbers and e-mail domains are made once (a few hundred Faker calls, seeded, so the pools are
the same on every run) and generation only draws indexes into them.

Cities are the country's real ones, weighted by how many people live there (``data/places.csv``, from
GeoNames: see ``data/PLACES.md``), so Amsterdam and Rotterdam lead the Netherlands as they do in life; only
a country GeoNames lists no city for falls back to Faker's city names.

Each locale's customers live in one country, named as the demo data names it (``Netherlands``,
not Faker's ``Kingdom of the Netherlands``), so that a group-by-country never splits a country.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from faker import Faker

POOL_SIZE = 400
# Where Faker's English country name is not the short one people (and the demo data) write.
SHORT_COUNTRY_NAMES = {"NL": "Netherlands", "CN": "China", "IE": "Ireland", "MS": "Montserrat"}
# Locale territories that are not country codes: fr_QC is Quebec's French, in Canada.
TERRITORY_COUNTRIES = {"QC": "CA"}


@dataclass(frozen=True)
class LocalePool:
    locale: str
    country: str
    country_code: str | None  # ISO 3166-1 alpha-2, where the locale has a country
    first_names: np.ndarray  # object arrays of str
    last_names: np.ndarray
    first_ascii: np.ndarray  # the same names as e-mail-safe ASCII
    last_ascii: np.ndarray
    cities: np.ndarray
    city_cdf: np.ndarray  # cumulative share of customers by city: by population, or Zipf where none is known
    phones: np.ndarray
    domains: np.ndarray


def email_part(text: str) -> str:
    """``"Sánchez-d'Ávila"`` → ``"sanchezdavila"``: ASCII letters and digits only, never empty."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = "".join(ch for ch in ascii_text.lower() if ch.isalnum())
    return cleaned or "x"


def _distinct(make: Callable[[], str], size: int) -> list[str]:
    """Up to ``size`` distinct values of ``make()``, in the order first made (deterministic)."""
    seen: dict[str, None] = {}
    for _ in range(size * 3):
        seen.setdefault(make(), None)
        if len(seen) >= size:
            break
    return list(seen)


@lru_cache(maxsize=32)
def locale_pool(locale: str, seed: int) -> LocalePool:
    """The pool of one Faker locale; the same ``(locale, seed)`` gives the same pool (for one Faker version)."""
    from faker import Faker

    fake = Faker(locale, use_weighting=True)
    fake.seed_instance(seed)
    firsts = _distinct(fake.first_name, POOL_SIZE)
    lasts = _distinct(fake.last_name, POOL_SIZE)
    phones = _distinct(fake.phone_number, POOL_SIZE)
    domains = _distinct(fake.free_email_domain, 8)
    country = locale_country(locale, fake)
    code = locale_country_code(locale, fake)
    places = country_places(code)
    if places:  # the country's real cities, as many customers in each as people live there
        cities = [name for name, _ in places]
        weights = np.array([population for _, population in places], dtype=float)
    else:  # a country GeoNames lists no city of 15,000 for: Faker's names, a few large and many small
        cities = _distinct(fake.city, POOL_SIZE // 2)
        weights = 1.0 / np.arange(1, len(cities) + 1) ** 0.8

    def array(values: list[str]) -> np.ndarray:
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out

    return LocalePool(
        locale=locale,
        country=country,
        country_code=code,
        first_names=array(firsts),
        last_names=array(lasts),
        first_ascii=array([email_part(name) for name in firsts]),
        last_ascii=array([email_part(name) for name in lasts]),
        cities=array(cities),
        city_cdf=np.cumsum(weights) / weights.sum(),
        phones=array(phones),
        domains=array(domains),
    )


def country_name(code: str) -> str | None:
    """The short English name of a country code (``NL`` → ``Netherlands``); None for an unknown code."""
    code = TERRITORY_COUNTRIES.get(code, code)
    return SHORT_COUNTRY_NAMES.get(code) or _faker_country_names().get(code)


def locale_country_code(locale: str, fake: Faker) -> str | None:
    """The country code of a locale's customers (nl_NL → NL, fr_QC → CA; ``de`` → Faker's DE), or None."""
    territory = locale.partition("_")[2]
    if territory and country_name(territory) is not None:
        return TERRITORY_COUNTRIES.get(territory, territory)
    try:
        return str(fake.current_country_code())
    except AttributeError:
        return None


@lru_cache(maxsize=1)
def _places() -> dict[str, tuple[tuple[str, int], ...]]:
    """data/places.csv: per country code, its largest cities with their population, largest first."""
    from salesmcp.config import DATA_DIR

    found: dict[str, list[tuple[str, int]]] = {}
    with (DATA_DIR / "places.csv").open(encoding="utf-8", newline="") as source:
        for row in csv.DictReader(source):
            found.setdefault(row["country_code"], []).append((row["city"], int(row["population"])))
    return {code: tuple(cities) for code, cities in found.items()}


def country_places(code: str | None) -> tuple[tuple[str, int], ...]:
    """A country's largest cities (up to 100, each of 15,000 people or more) and their population (GeoNames)."""
    return _places().get(code or "", ())


def locale_country(locale: str, fake: Faker) -> str:
    """The one country of a locale's customers: its territory's (nl_NL → Netherlands, fr_BE and nl_BE →
    Belgium); for a locale without one (``de``, ``en``, ar_AA) the country of Faker's addresses for it."""
    name = country_name(locale.partition("_")[2])
    if name is None:
        try:
            name = country_name(fake.current_country_code())
        except AttributeError:  # Faker knows no country for the locale either
            name = None
    return name or locale


@lru_cache(maxsize=1)
def _faker_country_names() -> dict[str, str]:
    from faker.providers.date_time import Provider

    return {country.alpha_2_code: country.name for country in Provider.countries}


@dataclass(frozen=True)
class Category:
    """A product category: its sku prefix, price (log-normal: median, sigma) and the words its products'
    names are made of, ``"<adjective> <noun> - <variant>"``: all of them fit the category ("Illustrated Atlas -
    Hardcover" in Books, "Hydrating Face Cream - 50 ml" in Beauty)."""

    name: str
    prefix: str
    median_price: float
    sigma: float
    returns: float  # how often its order lines come back, against the average line (clothes far more than food)
    nouns: tuple[str, ...]
    adjectives: tuple[str, ...]
    variants: tuple[str, ...]


CATEGORIES = (
    Category("Electronics", "ELE", 89.0, 0.9, 1.0,
             ("Headphones", "Speaker", "Charger", "Keyboard", "Mouse", "Monitor", "Webcam", "Power Bank", "Router",
              "Smartwatch"),
             ("Wireless", "Smart", "Compact", "Pro", "Ultra", "Portable", "Noise-Cancelling", "Fast", "HD",
              "Ergonomic"),
             ("Black", "White", "Silver", "Graphite", "Blue")),
    Category("Home & Kitchen", "HOM", 34.0, 0.7, 0.8,
             ("Kettle", "Blender", "Pan", "Knife Set", "Lamp", "Cushion", "Towel Set", "Coffee Maker", "Vase",
              "Storage Box"),
             ("Classic", "Nordic", "Ceramic", "Stainless", "Bamboo", "Vintage", "Compact", "Family", "Modern",
              "Rustic"),
             ("Oak", "White", "Grey", "Sand", "Black", "Olive")),
    Category("Clothing", "CLO", 39.0, 0.5, 2.5,
             ("T-Shirt", "Hoodie", "Jeans", "Jacket", "Sneakers", "Scarf", "Dress", "Socks", "Cap", "Sweater"),
             ("Classic", "Organic Cotton", "Slim Fit", "Oversized", "Merino", "Everyday", "Vintage", "Lightweight",
              "Recycled", "Urban"),
             ("Navy", "Black", "Grey", "Olive", "Rose", "White", "Sand")),
    Category("Books", "BOO", 17.0, 0.4, 0.3,
             ("Novel", "Cookbook", "Travel Guide", "Biography", "Comic", "Atlas", "Notebook", "Puzzle Book",
              "Poetry Collection", "Textbook"),
             ("The Complete", "Illustrated", "Pocket", "Essential", "Modern", "Beginner's", "Annotated", "Little",
              "Bestselling", "Classic"),
             ("Hardcover", "Paperback", "Large Print", "Second Edition")),
    Category("Sports", "SPO", 45.0, 0.7, 1.0,
             ("Yoga Mat", "Dumbbell", "Football", "Bike Light", "Water Bottle", "Tennis Racket", "Running Belt",
              "Helmet", "Backpack", "Jump Rope"),
             ("Pro", "Lightweight", "Adjustable", "Training", "Trail", "Reflective", "Foldable", "Non-Slip",
              "Competition", "Junior"),
             ("Black", "Red", "Blue", "Lime", "Orange")),
    Category("Beauty", "BEA", 19.0, 0.5, 0.4,
             ("Shampoo", "Face Cream", "Perfume", "Lip Balm", "Hair Oil", "Soap", "Serum", "Hand Cream",
              "Sunscreen", "Body Lotion"),
             ("Hydrating", "Organic", "Gentle", "Natural", "Repairing", "Daily", "Sensitive", "Vitamin C", "Argan",
              "Fresh"),
             ("30 ml", "50 ml", "100 ml", "200 ml", "Travel Size")),
    Category("Toys", "TOY", 24.0, 0.6, 0.7,
             ("Puzzle", "Board Game", "Teddy Bear", "Building Set", "Doll", "Kite", "Toy Car", "Card Game",
              "Marble Run", "Play Dough"),
             ("Classic", "Wooden", "Giant", "Mini", "Magnetic", "Glow-in-the-Dark", "Family", "Junior", "Deluxe",
              "Rainbow"),
             ("Ages 3+", "Ages 6+", "Ages 8+", "Ages 12+")),
    Category("Grocery", "GRO", 7.5, 0.5, 0.1,
             ("Coffee Beans", "Tea", "Olive Oil", "Chocolate", "Pasta", "Honey", "Granola", "Spice Mix", "Jam",
              "Cookies"),
             ("Organic", "Fair Trade", "Premium", "Artisan", "Italian", "Belgian", "Classic", "Farmhouse",
              "Everyday", "Gourmet"),
             ("250 g", "500 g", "1 kg", "Pack of 6")),
)  # fmt: skip
CATEGORY_WEIGHTS = np.array([18, 16, 16, 12, 11, 10, 9, 8], dtype=float)
