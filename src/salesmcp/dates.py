"""Date parameters: every surface accepts ``yyyymmdd`` (seed 000) and ISO ``YYYY-MM-DD`` (seed 002).

The one parser of a date parameter (``parse_date``) and the one rule of a period (``check_period``:
the start may not be after the end) live here; every surface, service and request model uses them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BeforeValidator, ValidationInfo, WithJsonSchema

from salesmcp.errors import InvalidInput

DATE_RULE = "must be a date as yyyymmdd or YYYY-MM-DD (e.g. 20260131 or 2026-01-31)"
# The two forms as one pattern for the OpenAPI document (the calendar check is in parse_date).
_MONTH_DAY = r"(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"
DATE_PATTERN = rf"^\s*([1-9][0-9]{{3}}{_MONTH_DAY}|[1-9][0-9]{{3}}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]))\s*$"
OPTIONAL_DATE_PATTERN = rf"^\s*$|{DATE_PATTERN}"  # an open bound: blank means none (parse_optional_date)
_COMPACT = re.compile(r"\d{8}")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value: object, field: str) -> dt.date:
    """Parse one date parameter, naming ``field`` in the error when it is missing or malformed."""
    if isinstance(value, dt.date):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput(field, f"is required and {DATE_RULE}")
    text = str(value).strip()
    try:
        if _COMPACT.fullmatch(text):
            return from_compact(text)
        if _ISO.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, f"{DATE_RULE}; {text!r} is not a real calendar date") from None
    raise InvalidInput(field, f"{DATE_RULE}; got {text!r}")


def from_compact(text: str) -> dt.date:
    """Seed 000's ``yyyymmdd`` (``"20260131"``), exactly eight digits: a data file's or an API answer's
    date. ValueError when it is not one (the inverse of models.compact_date)."""
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"{text!r} is not a yyyymmdd date")
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))


def parse_optional_date(value: object, field: str) -> dt.date | None:
    """A date parameter that may be left out: None or blank is no date; anything else as ``parse_date``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_date(value, field)


def check_period(
    first: dt.date | None, last: dt.date | None, start_field: str = "start_date", end_field: str = "end_date"
) -> None:
    """The rule of every period: the start may not be after the end (an error naming the start field).

    A single day (start equal to end) is a period; an open bound (None) never conflicts.
    """
    if first is not None and last is not None and first > last:
        raise InvalidInput(start_field, f"must not be after {end_field} ({first.isoformat()} > {last.isoformat()})")


def parse_period(
    start: object, end: object, start_field: str = "start_date", end_field: str = "end_date"
) -> tuple[dt.date, dt.date]:
    """Parse an inclusive period, both dates required, under ``check_period``'s rule."""
    first, last = parse_date(start, start_field), parse_date(end, end_field)
    check_period(first, last, start_field, end_field)
    return first, last


def _validate_date_param(value: object, info: ValidationInfo) -> dt.date:
    return parse_date(value, info.field_name or "date")


DateParam = Annotated[
    dt.date,
    BeforeValidator(_validate_date_param),
    WithJsonSchema({"type": "string", "pattern": DATE_PATTERN, "description": DATE_RULE}),
]
"""A date field of a request model: parse errors raise InvalidInput naming the field."""
