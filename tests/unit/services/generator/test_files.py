"""Columns to Arrow: text built as whole-column UTF-8 equals what pyarrow makes value by value."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from salesmcp.services.generator.files import _string_array

ALPHABET = [*"abcXYZ 019-.@\t", "é", "ß", "Ł", "中", "€", "😀", "\u00a0", "\ufffe"]  # 1 to 4 UTF-8 bytes


def test_text_columns_become_the_arrow_strings_pyarrow_makes_nulls_included():
    rng = np.random.default_rng(11)
    for trial in range(300):
        n = int(rng.integers(0, 40))
        values = ["".join(rng.choice(ALPHABET, int(rng.integers(0, 9)))) for _ in range(n)]
        column = np.array(values, dtype=np.str_) if n else np.array([], dtype="<U3")
        null = rng.random(n) < 0.25 if trial % 2 else None
        made = _string_array(pa, pa.string(), column, null)
        made.validate(full=True)
        assert made.equals(pa.array(column, type=pa.string(), mask=null)), values


def test_ascii_only_text_and_all_null_columns_are_exact_too():
    column = np.array(["PAID", "", "DELIVERED", "T0000001"])
    assert _string_array(pa, pa.string(), column).to_pylist() == ["PAID", "", "DELIVERED", "T0000001"]
    none = _string_array(pa, pa.string(), column, np.ones(4, dtype=bool))
    assert none.to_pylist() == [None] * 4 and none.null_count == 4


def test_a_lone_surrogate_is_refused_as_pyarrow_refuses_it():
    with pytest.raises(UnicodeError):
        _string_array(pa, pa.string(), np.array(["ok", "a\ud800"]))


def test_a_nul_inside_a_value_is_kept_as_pyarrow_keeps_it():
    column = np.array(["a\x00b", "c"])
    assert _string_array(pa, pa.string(), column).equals(pa.array(column, type=pa.string()))
