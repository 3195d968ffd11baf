import datetime as dt

import pytest

from salesmcp.dates import check_period, from_compact, parse_date, parse_optional_date, parse_period
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


def test_a_start_after_the_end_names_both_fields_and_shows_the_two_dates():
    with pytest.raises(InvalidInput) as caught:
        check_period(dt.date(2023, 12, 31), dt.date(2023, 1, 1), "from", "to")
    assert (caught.value.field, caught.value.rule) == ("from", "must not be after to (2023-12-31 > 2023-01-01)")


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (dt.date(2026, 1, 3), dt.date(2026, 1, 3)),
        (None, dt.date(2026, 1, 3)),
        (dt.date(2026, 1, 3), None),
        (None, None),
    ],
)
def test_a_single_day_or_an_open_bound_is_a_period(first, last):
    check_period(first, last)


@pytest.mark.parametrize("text", [None, "", "   "])
def test_an_optional_date_left_out_or_blank_is_no_date(text):
    assert parse_optional_date(text, "from") is None


def test_an_optional_date_given_follows_the_one_date_rule():
    assert parse_optional_date("20230105", "from") == parse_optional_date("2023-01-05", "from") == dt.date(2023, 1, 5)
    with pytest.raises(InvalidInput) as caught:
        parse_optional_date("2023-1-5", "from")
    assert caught.value.field == "from" and "yyyymmdd" in caught.value.rule


def test_a_data_files_date_is_exactly_eight_digits():
    assert from_compact("20260131") == dt.date(2026, 1, 31)
    for text in ("2026-01-31", "2026013", " 20260131", "20260230"):
        with pytest.raises(ValueError):
            from_compact(text)
