"""``KEY=VALUE`` arguments (``claude-config --env``, ``generate --set``): one rule for all of them."""

from __future__ import annotations


def split_pair(text: str, form: str = "KEY=VALUE") -> tuple[str, str]:
    """``"X=a=b"`` → ``("X", "a=b")``: split at the first ``=``; the key is stripped and may not be empty,
    the value is kept as written. ValueError (saying the text is not ``form``) otherwise."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"{text!r} is not {form}")
    return key.strip(), value
