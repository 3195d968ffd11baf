"""The calendar of a generation (issue 16): public holidays of the customers' countries (fewer orders), Black
Friday and Cyber Monday (many more), and a yearly growth trend; each a parameter with a documented default, all
deterministic (the holidays come from the ``holidays`` library's tables, a pinned version).

A day's weight multiplies the weekday and month weights of ``Plan.day_cdf``. Orders are drawn by day for all
customers at once, so a holiday counts by its countries' share of the locales (nl_NL:3,de_DE:1: a Dutch-only
holiday weighs three quarters).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from salesmcp.services.generator.pools import locale_pool

if TYPE_CHECKING:
    from salesmcp.services.generator.params import GenerationRequest

DAYS_PER_YEAR = 365.2425


@lru_cache(maxsize=64)
def public_holidays(country_code: str | None, first_year: int, last_year: int) -> frozenset[dt.date]:
    """The public holidays of a country over these years (none for a country the library does not know)."""
    if not country_code:
        return frozenset()
    import holidays

    try:
        return frozenset(holidays.country_holidays(country_code, years=range(first_year, last_year + 1)))
    except NotImplementedError:
        return frozenset()


def black_friday(year: int) -> dt.date:
    """The day after the fourth Thursday of November (US Thanksgiving), as shops everywhere now keep it."""
    first = dt.date(year, 11, 1)
    thursday = first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)
    return thursday + dt.timedelta(days=1)


def calendar_factors(request: GenerationRequest, dates: np.ndarray, seed: int) -> np.ndarray:
    """Per day (``datetime64[D]`` values), the factor holidays, Black Friday, Cyber Monday and growth give it."""
    days = dates.astype(int)
    factors = np.ones(len(days))
    if len(days) == 0:
        return factors
    first, last = dates[0].astype(dt.date), dates[-1].astype(dt.date)
    if request.holiday_factor != 1:
        locales = request.locales
        total = sum(weight for _, weight in locales)
        for locale, weight in locales:
            code = locale_pool(locale, seed % 2**32).country_code
            holidays_of = public_holidays(code, first.year, last.year)
            ordinals = np.array(sorted(np.datetime64(day, "D").astype(int) for day in holidays_of), dtype=np.int64)
            on_holiday = np.isin(days, ordinals)
            factors = factors * np.where(on_holiday, 1 + (request.holiday_factor - 1) * weight / total, 1.0)
    for year in range(first.year, last.year + 1):
        friday = black_friday(year)
        for day, factor in ((friday, request.black_friday), (friday + dt.timedelta(days=3), request.cyber_monday)):
            factors = factors * np.where(days == np.datetime64(day, "D").astype(int), factor, 1.0)
    if request.growth:
        years = (days - days[0]) / DAYS_PER_YEAR
        factors = factors * (1 + request.growth) ** years
    return factors
