"""pydantic's validation errors in our words: the first problem, naming its field and rule."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from salesmcp.errors import InvalidInput

_RULES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
}


def invalid_input(exc: ValidationError, allowed: Any = None) -> InvalidInput:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "input"
    rule = _RULES.get(error["type"], error["msg"])
    if error["type"] == "extra_forbidden" and allowed:
        rule += f" (allowed: {', '.join(allowed)})"
    elif error["type"] == "string_pattern_mismatch" and field == "phone":
        rule = "must be a phone number: digits, spaces and + ( ) . / -"
    return InvalidInput(field, rule)
