"""The bulk text of COPY and LOAD DATA: one line per row, read back to the values a driver would bind."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from salesmcp.services.generator import build_request
from salesmcp.services.generator.load import _text_rows_by_value, python_columns, text_rows
from salesmcp.services.generator.make import Chunk, Plan


def _plan() -> Plan:
    return Plan(build_request({"rows": 3000, "seed": 11, "flaws": 0.2}, 42, 10**7))


def _chunks() -> list[Chunk]:
    plan = _plan()
    return [plan.customer_chunk(0), plan.product_chunk(0), *plan.order_block(0).chunks()]


def _unescape(field: str) -> str | None:
    if field == r"\N":
        return None
    swaps = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}
    out, i = [], 0
    while i < len(field):
        pair = field[i : i + 2]
        if pair in swaps:
            out.append(swaps[pair])
            i += 2
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _as_text(value: object, kind: str) -> str | None:
    """The value a driver binds (python_columns), written as the text format writes it: a separate rule."""
    if value is None:
        return None
    if kind == "money":
        return f"{value:.2f}"
    return str(value)


@pytest.mark.parametrize("index", range(7))
def test_every_row_reads_back_as_the_values_a_driver_would_bind(index):
    chunk = _chunks()[index]
    text = text_rows(chunk).decode()
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) - 1 == len(chunk) > 0
    expected = list(zip(*python_columns(chunk), strict=True))
    for line, row in zip(lines[:-1], expected, strict=True):
        fields = [_unescape(field) for field in line.split("\t")]
        assert fields == [_as_text(value, kind) for value, kind in zip(row, chunk.kinds, strict=True)], chunk.table


def test_the_generated_text_holds_nulls_and_both_money_forms():
    every = "".join(text_rows(chunk).decode() for chunk in _chunks())
    assert "\t\\N" in every  # a customer's missing phone, an order not yet paid or shipped
    assert ".00\t" in every or ".00\n" in every


def test_special_characters_are_escaped_and_negative_money_keeps_its_sign():
    chunk = Chunk(
        "payments",
        [
            np.array([1, 2, 3]),
            np.array([7, 7, 8]),
            np.array(["card", "tab\there", "back\\slash\nline"]),
            np.array([-5, 0, 123456]),
            np.array(["EUR", "EUR", "USD"]),
            np.array([0, -1, 86_399]),
            np.array(["a", "b", "c"]),
        ],
    )
    lines = text_rows(chunk).decode().split("\n")
    epoch = dt.datetime(1970, 1, 1)
    assert lines[0] == f"1\t7\tcard\t-0.05\tEUR\t{epoch:%Y-%m-%d %H:%M:%S}\ta"
    assert lines[1] == "2\t7\ttab\\there\t0.00\tEUR\t\\N\tb"
    assert lines[2] == "3\t8\tback\\\\slash\\nline\t1234.56\tUSD\t1970-01-01 23:59:59\tc"


@pytest.mark.parametrize("flaws", [0.0, 0.3])
def test_text_built_from_byte_matrices_is_the_text_formatted_value_by_value(flaws):
    plan = Plan(build_request({"rows": 12_000, "seed": 5, "flaws": flaws, "locale": "de_DE:1,pl_PL:1,ja_JP:1"}, 42,
                              10**7))  # fmt: skip
    chunks = [plan.customer_chunk(0), plan.product_chunk(0), *plan.order_block(1).chunks()]
    for chunk in chunks:
        assert text_rows(chunk) == _text_rows_by_value(chunk).encode(), chunk.table


def test_text_with_a_nul_or_beyond_the_basic_plane_is_written_whole():
    chunk = Chunk("returns", [np.array([1, 2]), np.array([3, 4]), np.array([5, 6]), np.array([7, 8]),
                              np.array([1, 2]), np.array([100, 250]), np.array(["nul\x00inside", "emoji 😀 ü"]),
                              np.array([0, 60]), np.array([-1, 3600])])  # fmt: skip
    lines = text_rows(chunk).decode().split("\n")
    assert lines[0] == "1\t3\t5\t7\t1\t1.00\tnul\x00inside\t1970-01-01 00:00:00\t\\N"
    chunk.columns[6] = np.array(["plain", "emoji 😀 ü"])
    second = "2\t4\t6\t8\t2\t2.50\temoji 😀 ü\t1970-01-01 00:01:00\t1970-01-01 01:00:00"
    assert text_rows(chunk).decode().split("\n")[1] == second


def test_sqlites_multi_row_inserts_write_every_row_once_in_order_within_its_variable_limit():
    import sqlite3

    from salesmcp.services.generator.load import SQLITE_VARIABLES, sqlite_statements

    for chunk in _chunks():
        connection = sqlite3.connect(":memory:")
        connection.execute(f"CREATE TABLE {chunk.table} ({', '.join(chunk.names)})")
        statements = sqlite_statements(chunk)
        for sql, parameters in statements:
            assert sql.count("?") <= SQLITE_VARIABLES
            assert all(len(values) == sql.count("?") for values in parameters)
            if parameters:
                connection.executemany(sql, parameters)
        expected = list(zip(*python_columns(chunk), strict=True))
        assert len(statements[1][1]) < SQLITE_VARIABLES // len(chunk.names)  # only the last few rows one by one
        assert connection.execute(f"SELECT * FROM {chunk.table} ORDER BY rowid").fetchall() == expected, chunk.table
