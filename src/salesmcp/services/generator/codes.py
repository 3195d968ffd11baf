"""Text by whole-column operations: numbers as decimal digits and text as UTF-8 bytes, in matrices of one row
per value, NUL where a value has nothing (its padding). A loader joins such matrices into lines and drops the
NULs in one pass; nothing is made value by value in Python.

NUL never occurs in generated text; a column that holds one is left to the value-by-value paths by the caller.
"""

from __future__ import annotations

import numpy as np

ZERO = ord("0")


def decimal_matrix(numbers: np.ndarray, width: int = 1) -> np.ndarray:
    """Non-negative integers as ASCII digits, zero-padded to ``width`` (``str.zfill``), right-aligned in as many
    places as the widest needs; the places before a wider column's shorter numbers are NUL."""
    numbers = np.asarray(numbers, dtype=np.int64)
    widest = max(width, len(str(int(numbers.max()))) if len(numbers) else width)
    digits = np.empty((len(numbers), widest), dtype=np.uint8)
    rest = numbers
    for place in range(widest - 1, -1, -1):
        rest, digit = np.divmod(rest, 10)
        digits[:, place] = digit
    digits += ZERO
    for place in range(widest - width):  # beyond the padding: NUL up to the number's first digit
        digits[:, place][numbers < 10 ** (widest - place - 1)] = 0
    return digits


def utf8(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Code points (no surrogates) as their UTF-8 bytes, in order, and each point's number of bytes."""
    encoded, size = _utf8_bytes(points.astype(np.uint32))
    return encoded[np.arange(4) < size[:, None]], size


def utf8_matrix(values: np.ndarray) -> np.ndarray | None:
    """A numpy text column as UTF-8: a row of bytes per value, NUL after (and, for non-ASCII text, within) it;
    None when the column holds a NUL or a lone surrogate (which has no UTF-8)."""
    n, width = len(values), values.dtype.itemsize // 4
    codes = np.ascontiguousarray(values).view(np.uint32).reshape(n, width)
    if np.count_nonzero(codes) != int(np.strings.str_len(values).sum()):
        return None  # a NUL inside a value
    if (codes < 0x80).all():
        return codes.astype(np.uint8)
    if ((codes >= 0xD800) & (codes < 0xE000)).any():
        return None
    encoded, size = _utf8_bytes(codes.reshape(-1))
    encoded[np.arange(4) >= size[:, None]] = 0  # a short character's unused bytes
    return encoded.reshape(n, width * 4)


def _utf8_bytes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Four bytes per code point (the first ``size`` of them its UTF-8) and each ``size``."""
    size = 1 + (points >= 0x80) + (points >= 0x800) + (points >= 0x10000)
    lead = np.select([size == 1, size == 2, size == 3], [points, 0xC0 | points >> 6, 0xE0 | points >> 12],
                     0xF0 | points >> 18)  # fmt: skip
    encoded = np.zeros((len(points), 4), dtype=np.uint8)
    encoded[:, 0] = lead
    for byte in (1, 2, 3):  # continuation bytes, 6 bits each, most significant first
        shift = np.maximum(6 * (size - 1 - byte), 0).astype(np.uint32)
        encoded[:, byte] = 0x80 | (points >> shift) & 0x3F
    return encoded, size
