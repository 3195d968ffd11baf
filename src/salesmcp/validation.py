"""pydantic's validation errors in our words: the first problem, naming its field and rule."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError
from pydantic.json_schema import JsonDict

from salesmcp.errors import InvalidInput

# The text rule of every request field: no control characters (NUL, newline, escape, …), no lone
# surrogates, no bidirectional overrides/isolates (the "Trojan source" characters), and a length.
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
# The documented pattern leaves out the surrogates (generators cannot draw them); _clean_text refuses them.
_ALLOWED = r"[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
TEXT_PATTERN = rf"^{_ALLOWED}*$"
# A required text is stripped of surrounding spaces first, so it needs one character that is not a space.
NONBLANK_TEXT_PATTERN = rf"^{_ALLOWED}*[^\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]{_ALLOWED}*$"
TEXT_RULE = "must not contain control characters, lone surrogates or bidirectional overrides"
MAX_TEXT = 200
MAX_REQUEST_BYTES = 1024 * 1024  # a larger request body is refused with 413 before it is read
MAX_JSON_DEPTH = 32  # arrays/objects nested deeper than this are refused with 400
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str | bytes) -> int:
    """How deeply arrays and objects nest in a JSON text (strings skipped), without parsing it."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    depth = deepest = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


_REFUSED = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff{_BIDI_CONTROLS}]")


def any_case(words: Iterable[str]) -> str:
    """These words in any case, as a pattern (JSON Schema patterns have no case-insensitive flag)."""
    return "|".join("".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in w) for w in words)


def _clean_text(value: str) -> str:
    if _REFUSED.search(value) or any(unicodedata.category(ch) == "Cs" for ch in value):
        raise ValueError(TEXT_RULE)
    return value


def text(max_length: int = MAX_TEXT, min_length: int = 0, **field: Any) -> Any:
    """A text field of a request model: printable (see TEXT_RULE) and at most ``max_length`` long."""
    pattern = NONBLANK_TEXT_PATTERN if min_length else TEXT_PATTERN
    extra: JsonDict = {"pattern": pattern}
    limits = Field(min_length=min_length or None, max_length=max_length, json_schema_extra=extra, **field)
    return Annotated[str, BeforeValidator(_at_most(max_length)), limits, AfterValidator(_clean_text)]


def _at_most(max_length: int) -> Any:
    """The length rule on the value as sent: surrounding spaces (stripped later) count, as the schema says."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and len(value) > max_length:
            raise ValueError(f"must be at most {max_length} characters long")
        return value

    return check


Text = text()
"""The default text field: printable, at most MAX_TEXT characters."""

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
    elif error["type"] == "value_error":
        rule = error["msg"].removeprefix("Value error, ")
    elif error["type"] == "string_pattern_mismatch" and field == "phone":
        rule = "must be a phone number: digits, spaces and + ( ) . / -"
    return InvalidInput(field, rule)
