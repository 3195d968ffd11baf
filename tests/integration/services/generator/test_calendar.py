"""The generator's calendar (issue 16), counted on the data: fewer orders on the customers' public holidays,
spikes on Black Friday and Cyber Monday, and a yearly growth trend; with the factors at 1, none of it."""

import datetime as dt
import statistics
from collections import Counter

import pytest
from sqlalchemy import func, select

from salesmcp.services.generator.calendar import black_friday
from salesmcp.store.schema import orders
from tests.integration.services.generator.tables import generate, scratch_store, sqlite_url

ROWS = 100_000  # two years of one Dutch shop: about 140 orders a day
WINDOW = {"start_date": "2025-01-01", "end_date": "2026-12-31", "locale": "nl_NL", "seed": 5}
PLAIN = {"holiday_factor": 1, "black_friday": 1, "cyber_monday": 1, "growth": 0}


def orders_per_day(tmp_path_factory: pytest.TempPathFactory, name: str, **values) -> Counter:
    with scratch_store(sqlite_url(tmp_path_factory.mktemp(name) / f"{name}.db")) as store:
        generate(store, rows=ROWS, batch_size=20_000, **WINDOW, **values)
        with store.engine.connect() as connection:
            rows = connection.execute(select(orders.c.order_date, func.count()).group_by(orders.c.order_date)).all()
    return Counter({dt.date.fromisoformat(str(day)): count for day, count in rows})


@pytest.fixture(scope="module")
def shaped(tmp_path_factory: pytest.TempPathFactory) -> Counter:
    return orders_per_day(tmp_path_factory, "calendar", growth=0.5)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Counter:
    return orders_per_day(tmp_path_factory, "plain", **PLAIN)


def against_its_weekdays(days: Counter, day: dt.date) -> float:
    """Orders on ``day`` against the median of the same weekday in the four weeks around it."""
    others = [days[day + dt.timedelta(weeks=k)] for k in (-2, -1, 1, 2)]
    return days[day] / statistics.median(others)


@pytest.mark.parametrize("year", [2025, 2026])
def test_black_friday_and_cyber_monday_have_many_more_orders(shaped, plain, year):
    friday = black_friday(year)
    assert friday.weekday() == 4 and friday.month == 11 and 23 <= friday.day <= 29
    assert against_its_weekdays(shaped, friday) > 2.2
    assert against_its_weekdays(shaped, friday + dt.timedelta(days=3)) > 1.6
    assert 0.7 < against_its_weekdays(plain, friday) < 1.4


@pytest.mark.parametrize(
    "holiday", [dt.date(2025, 4, 26), dt.date(2025, 12, 25), dt.date(2026, 4, 27), dt.date(2026, 5, 14)]
)  # King's Day, Christmas, King's Day, Ascension Day: Dutch public holidays
def test_public_holidays_of_the_customers_country_have_fewer_orders(shaped, plain, holiday):
    assert against_its_weekdays(shaped, holiday) < 0.7
    assert against_its_weekdays(plain, holiday) > 0.7


def test_growth_makes_the_second_year_larger_by_the_rate(shaped, plain):
    def year_total(days: Counter, year: int) -> int:
        return sum(count for day, count in days.items() if day.year == year)

    assert 1.35 < year_total(shaped, 2026) / year_total(shaped, 2025) < 1.65  # growth 0.5: about 1.5
    assert 0.93 < year_total(plain, 2026) / year_total(plain, 2025) < 1.07
    assert sum(shaped.values()) == sum(plain.values()) == ROWS
