"""Numbers and text as byte matrices: each row, its NULs dropped, is the value's own text."""

from __future__ import annotations

import numpy as np

from salesmcp.services.generator.codes import decimal_matrix, utf8, utf8_matrix


def _rows(matrix: np.ndarray) -> list[bytes]:
    return [bytes(row[row != 0]) for row in matrix]


def test_decimal_rows_are_the_numbers_zero_padded_as_zfill_pads_them():
    rng = np.random.default_rng(2)
    for width in (1, 2, 3, 10):
        numbers = np.concatenate(([0, 9, 10, 99, 100, 10**width, 10**width - 1], rng.integers(0, 10**12, 500)))
        assert _rows(decimal_matrix(numbers, width)) == [str(int(n)).zfill(width).encode() for n in numbers]


def test_utf8_rows_are_each_values_utf8_whatever_its_characters():
    values = np.array(["", "plain", "Müller", "Łódź", "東京都", "😀 ok", "\ufffe"])
    assert _rows(utf8_matrix(values)) == [value.encode() for value in values.tolist()]
    data, sizes = utf8(np.array([ord(c) for c in "aé€😀"]))
    assert data.tobytes() == "aé€😀".encode() and sizes.tolist() == [1, 2, 3, 4]


def test_a_column_with_a_nul_or_a_lone_surrogate_has_no_matrix():
    assert utf8_matrix(np.array(["a\x00b"])) is None
    assert utf8_matrix(np.array(["ok", "\ud800"])) is None
