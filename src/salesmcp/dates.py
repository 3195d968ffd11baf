"""Date parameters: every surface accepts ``yyyymmdd`` (seed 000) and ISO ``YYYY-MM-DD`` (seed 002)."""

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
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if _ISO.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, f"{DATE_RULE}; {text!r} is not a real calendar date") from None
    raise InvalidInput(field, f"{DATE_RULE}; got {text!r}")


def parse_period(
    start: object, end: object, start_field: str = "start_date", end_field: str = "end_date"
) -> tuple[dt.date, dt.date]:
    """Parse an inclusive period; a start after the end is an error naming the start field."""
    first, last = parse_date(start, start_field), parse_date(end, end_field)
    if first > last:
        raise InvalidInput(start_field, f"must not be after {end_field} ({first:%Y%m%d} > {last:%Y%m%d})")
    return first, last


def _validate_date_param(value: object, info: ValidationInfo) -> dt.date:
    return parse_date(value, info.field_name or "date")


DateParam = Annotated[
    dt.date,
    BeforeValidator(_validate_date_param),
    WithJsonSchema({"type": "string", "pattern": DATE_PATTERN, "description": DATE_RULE}),
]
"""A date field of a request model: parse errors raise InvalidInput naming the field."""
