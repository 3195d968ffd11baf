"""What a generation may be asked for: every bad value is refused, naming its field."""

from __future__ import annotations

import datetime as dt

import pytest

from salesmcp.errors import InvalidInput
from salesmcp.services.generator import build_request

MAX_ROWS = 1_000


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"rows": 0}, "rows"),
        ({"rows": -1}, "rows"),
        ({"rows": "abc"}, "rows"),
        ({"rows": 1.5}, "rows"),
        ({"rows": MAX_ROWS + 1}, "rows"),
        ({"start_date": "2025-02-30"}, "start_date"),
        ({"end_date": "20250230"}, "end_date"),
        ({"start_date": "2025-03-01", "end_date": "2025-02-28"}, "start_date"),
        ({"start_date": "1990-01-01", "end_date": "2025-01-01"}, "end_date"),  # a window over 30 years
        ({"locale": "xx_XX"}, "locale"),
        ({"locale": "nl_NL,de_DE:3,xx_XX"}, "locale"),
        ({"locale": "nl_NL,nl_NL"}, "locale"),
        ({"locale": ""}, "locale"),
        ({"payment_methods": "card:-1"}, "payment_methods"),
        ({"payment_methods": "card:abc"}, "payment_methods"),
        ({"carriers": "DHL:0"}, "carriers"),
        ({"carriers": "DHL:inf"}, "carriers"),
        ({"seed": -1}, "seed"),
        ({"mode": "sometimes"}, "mode"),
        ({"cancel_rate": 0.6, "unpaid_rate": 0.5}, "unpaid_rate"),
        ({"currency": "euro"}, "currency"),
        ({"colour": "red"}, "colour"),
        ({"rows": True}, "rows"),  # not read as 1
        ({"tax_rate": False}, "tax_rate"),
        ({"seed": True}, "seed"),
        ({"seasonality": 0}, "seasonality"),  # not read as false
        ({"flaws": 0.6}, "flaws"),
        ({"flaws": -0.1}, "flaws"),
        ({"flaws": "some"}, "flaws"),
        ({"return_rate": 0.6}, "return_rate"),
        ({"return_rate": -0.01}, "return_rate"),
        ({"return_rate": "often"}, "return_rate"),
        ({"holiday_factor": 0}, "holiday_factor"),
        ({"black_friday": -1}, "black_friday"),
        ({"cyber_monday": "big"}, "cyber_monday"),
        ({"growth": -1}, "growth"),
        ({"growth": 11}, "growth"),
    ],
)
def test_a_bad_parameter_is_invalid_input_naming_the_field(values, field):
    with pytest.raises(InvalidInput) as caught:
        build_request(values, 42, MAX_ROWS)
    assert caught.value.field == field
    assert caught.value.message.startswith(f"{field}: ")


def test_an_unknown_field_lists_the_known_ones():
    with pytest.raises(InvalidInput, match=r"colour: .*allowed: rows, seed, start_date"):
        build_request({"colour": "red"}, 42, MAX_ROWS)


def test_defaults_and_text_values_make_a_request():
    request = build_request({"rows": "500", "start_date": "20250101", "end_date": "2025-01-31", "locale": None},
                            42, MAX_ROWS)  # fmt: skip
    assert (request.rows, request.seed, request.mode) == (500, 42, "once")  # seed from DATA_SEED
    assert (request.start_date, request.end_date) == (dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert request.locales == (("nl_NL", 3.0), ("de_DE", 1.0))
    assert build_request({"rows": MAX_ROWS}, 42, MAX_ROWS).rows == MAX_ROWS


def test_the_fingerprint_is_the_data_not_how_it_is_written():
    base = build_request({"rows": 100, "seed": 1}, 42, MAX_ROWS)
    same_data = build_request({"rows": 100, "seed": 1, "mode": "replace", "batch_size": 7}, 42, MAX_ROWS)
    assert base.fingerprint() == same_data.fingerprint()
    assert base.fingerprint() == build_request({"rows": 100}, 1, MAX_ROWS).fingerprint()  # the seed resolved
    for other in ({"rows": 101, "seed": 1}, {"rows": 100, "seed": 2}, {"rows": 100, "seed": 1, "tax_rate": 0.09}):
        assert build_request(other, 42, MAX_ROWS).fingerprint() != base.fingerprint(), other
