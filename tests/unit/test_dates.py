import datetime as dt

import pytest

from salesmcp.dates import parse_date, parse_period
from salesmcp.errors import InvalidInput


@pytest.mark.parametrize("text", ["20260131", "2026-01-31", " 20260131 ", 20260131])
def test_parse_date_accepts_compact_and_iso_forms(text):
    assert parse_date(text, "start_date") == dt.date(2026, 1, 31)


@pytest.mark.parametrize("text", ["2026013", "2026/01/31", "31-01-2026", "tomorrow", "20261301", "20260230", ""])
def test_parse_date_rejects_malformed_dates_naming_the_field(text):
    with pytest.raises(InvalidInput) as caught:
        parse_date(text, "end_date")
    assert caught.value.field == "end_date"
    assert "yyyymmdd" in caught.value.message


def test_parse_date_says_a_missing_date_is_required():
    with pytest.raises(InvalidInput, match="start_date: is required"):
        parse_date(None, "start_date")


def test_parse_period_allows_a_single_day():
    assert parse_period("20260103", "2026-01-03") == (dt.date(2026, 1, 3), dt.date(2026, 1, 3))


def test_parse_period_rejects_a_start_after_the_end():
    with pytest.raises(InvalidInput, match="must not be after end_date") as caught:
        parse_period("20260201", "20260131")
    assert caught.value.field == "start_date"
