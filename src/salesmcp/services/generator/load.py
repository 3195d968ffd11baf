"""Writing chunks through each database's bulk path, inside the caller's transaction.

SQLite: ``executemany`` of multi-row INSERTs. PostgreSQL: ``COPY … FROM STDIN`` in text format.
MySQL/MariaDB: ``LOAD DATA LOCAL INFILE`` of the same text (the engine allows ``local_infile``),
or multi-row ``INSERT`` when the server refuses local files.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, overload

import numpy as np
from sqlalchemy import Connection

from salesmcp.services.generator.codes import decimal_matrix, utf8_matrix
from salesmcp.services.generator.flaws import NULL_TEXT
from salesmcp.services.generator.make import Chunk

log = logging.getLogger(__name__)
NULL = r"\N"


def _day_pool(days: np.ndarray) -> tuple[np.ndarray, int]:
    """``YYYY-MM-DD`` for every day from the column's first to its last, and that first day."""
    first = int(days.min())
    span = np.arange(first, int(days.max()) + 1).astype("datetime64[D]")
    return np.datetime_as_string(span).astype(object), first


@lru_cache(maxsize=1)
def _times_of_day() -> np.ndarray:
    """`` HH:MM:SS`` for each second of a day (with the space that follows the date)."""
    return np.array([f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)], dtype=object)


def _dates(days: np.ndarray) -> list[str]:
    if not len(days):
        return []
    pool, first = _day_pool(days)
    return pool[days - first].tolist()


@overload
def _timestamps(seconds: np.ndarray, null: str) -> list[str]: ...
@overload
def _timestamps(seconds: np.ndarray, null: None) -> list[str | None]: ...


def _timestamps(seconds: np.ndarray, null: str | None) -> list[str] | list[str | None]:
    """``YYYY-MM-DD HH:MM:SS`` (``null`` for negative seconds), from pools of days and times of day."""
    if not len(seconds):
        return []
    known = seconds >= 0
    days, clock = np.divmod(np.where(known, seconds, seconds[known].min() if known.any() else 0), 86_400)
    pool, first = _day_pool(days)
    text = pool[days - first] + _times_of_day()[clock]
    if not known.all():
        text[~known] = null
    return text.tolist()


def _money_text(cents: np.ndarray) -> list[str]:
    return list(map("{:.2f}".format, (cents / 100).tolist()))


def python_columns(chunk: Chunk) -> list[list]:
    """Columns as lists of Python values a DBAPI driver takes (money as float: SQLite stores REAL)."""
    out = []
    for kind, column in zip(chunk.kinds, chunk.columns, strict=True):
        if kind in ("int", "str"):
            out.append(column.tolist())
        elif kind == "opt":
            out.append([None if value == NULL_TEXT else value for value in column.tolist()])
        elif kind == "bool":
            out.append(column.astype(np.int8).tolist())
        elif kind == "money":
            out.append((column / 100).tolist())
        elif kind == "date":
            out.append(_dates(column))
        else:  # ts
            out.append(_timestamps(column, None))
    return out


def _escaped(column: np.ndarray) -> np.ndarray:
    for special, escape in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        if (np.strings.find(column, special) >= 0).any():
            column = np.strings.replace(column, special, escape)
    return column


def text_rows(chunk: Chunk) -> bytes:
    """The chunk as tab-separated lines in UTF-8 (``\\N`` for NULL): COPY's and LOAD DATA's text format.

    Each column becomes a matrix of bytes, a row per value with NUL where the value has nothing (``codes``);
    the columns, tabs and newlines are joined side by side and the NULs dropped in one pass, so no Python
    string is made per value. A text column holding a NUL or a lone surrogate is written value by value.
    """
    if not len(chunk):
        return b""
    parts: list[np.ndarray] = []
    for kind, column in zip(chunk.kinds, chunk.columns, strict=True):
        field = _field(kind, column)
        if field is None:
            return _text_rows_by_value(chunk).encode("utf-8")
        parts += [field, _TAB]
    parts[-1] = _NEWLINE
    lines = np.concatenate([np.broadcast_to(part, (len(chunk), part.shape[1])) for part in parts], axis=1)
    return lines[lines != 0].tobytes()


_TAB, _NEWLINE, _NULL_BYTES = np.array([[9]], np.uint8), np.array([[10]], np.uint8), np.array([92, 78], np.uint8)


def _field(kind: str, column: np.ndarray) -> np.ndarray | None:
    """One column's values as a byte matrix (see ``text_rows``); None when it must go value by value."""
    if kind in ("int", "bool"):
        numbers = column.astype(np.int64)
        if len(numbers) and numbers.min() < 0:
            return utf8_matrix(numbers.astype(np.str_))
        return decimal_matrix(numbers)
    if kind == "money":
        if (column < 0).any():  # a negative amount (none is generated): -0.05, not -1.95
            return utf8_matrix(np.array(_money_text(column), dtype=np.str_))
        units, cents = np.divmod(column.astype(np.int64), 100)
        return np.concatenate([decimal_matrix(units), _column(b".", len(column)), decimal_matrix(cents, 2)], axis=1)
    if kind == "date":
        pool, first = _day_bytes(column)
        return pool[column - first]
    if kind == "ts":
        known = column >= 0
        days, clock = np.divmod(np.where(known, column, 0), 86_400)
        pool, first = _day_bytes(days)
        hours, rest = np.divmod(clock, 3600)
        minutes, seconds = np.divmod(rest, 60)
        space, colon = _column(b" ", len(column)), _column(b":", len(column))
        stamp = np.concatenate([pool[days - first], space, decimal_matrix(hours, 2), colon,
                                decimal_matrix(minutes, 2), colon, decimal_matrix(seconds, 2)], axis=1)  # fmt: skip
        return _with_nulls(stamp, ~known)
    text = utf8_matrix(_escaped(column.astype(np.str_)))
    if text is None or kind != "opt":
        return text
    return _with_nulls(text, column == NULL_TEXT)


def _column(text: bytes, rows: int) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(text, dtype=np.uint8), (rows, len(text)))


def _day_bytes(days: np.ndarray) -> tuple[np.ndarray, int]:
    """``YYYY-MM-DD`` as bytes for every day from the column's first to its last, and that first day."""
    pool, first = _day_pool(days)
    return np.array(pool.tolist(), dtype="S10").view(np.uint8).reshape(-1, 10), first


def _with_nulls(matrix: np.ndarray, null: np.ndarray) -> np.ndarray:
    """``\\N`` (and nothing after it) in the rows where ``null``."""
    if not null.any():
        return matrix
    if matrix.shape[1] < 2:
        matrix = np.concatenate([matrix, np.zeros((len(matrix), 2 - matrix.shape[1]), np.uint8)], axis=1)
    matrix = matrix.copy()
    matrix[null] = 0
    matrix[null, :2] = _NULL_BYTES
    return matrix


def _text_rows_by_value(chunk: Chunk) -> str:
    """``text_rows`` for a chunk whose text has a NUL or a lone surrogate: one ``%`` formatting per row."""
    formats: list[str] = []
    columns: list[list] = []
    for kind, column in zip(chunk.kinds, chunk.columns, strict=True):
        formats.append("%s")
        if kind in ("int", "bool"):
            columns.append(column.astype(np.int64).tolist())
        elif kind == "money":
            columns.append(_money_text(column))
        elif kind == "date":
            columns.append(_dates(column))
        elif kind == "ts":
            columns.append(_timestamps(column, NULL))
        else:
            escaped = _escaped(column.astype(np.str_)).tolist()
            columns.append([NULL if kind == "opt" and value == NULL_TEXT else value for value in escaped])
    line = "\t".join(formats)
    return "\n".join(map(line.__mod__, zip(*columns, strict=True))) + "\n"


@contextmanager
def bulk_session(connection: Connection) -> Iterator[None]:
    """Settings for one batch transaction of generated rows.

    PostgreSQL: the commit does not wait for the disk (a crash can lose the last batches, never
    half of one: progress is in the same transaction). MySQL/MariaDB: no per-row foreign-key
    checks (each takes a lock on the parent row) and unique checks deferred to the index merge;
    ids, e-mails and SKUs are unique by construction, the rows refer only to rows the run wrote
    before, and the run checks those references when it finishes.
    """
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
    elif dialect == "mysql":
        connection.exec_driver_sql("SET SESSION foreign_key_checks = 0, unique_checks = 0")
    try:
        yield
    finally:
        if dialect == "mysql":
            connection.exec_driver_sql("SET SESSION foreign_key_checks = 1, unique_checks = 1")


@dataclass
class Prepared:
    """A chunk in the form its database's bulk path takes: tab-separated text, or SQLite's statements."""

    chunk: Chunk
    text: bytes | None = None
    statements: list[tuple[str, list]] | None = None

    def row_tuples(self) -> list[tuple]:
        return list(zip(*python_columns(self.chunk), strict=True))


TEXT_DIALECTS = ("postgresql", "mysql")
# The fewest values one statement may bind in any SQLite (3.32 raised the default from 999 to 32766).
SQLITE_VARIABLES = 999


def prepare(dialect: str, chunk: Chunk) -> Prepared:
    """The CPU-bound half of a write, which can run while the database takes the previous batch."""
    if dialect in TEXT_DIALECTS:
        return Prepared(chunk, text=text_rows(chunk))
    return Prepared(chunk, statements=sqlite_statements(chunk))


def sqlite_statements(chunk: Chunk) -> list[tuple[str, list]]:
    """The chunk as ``executemany`` calls of multi-row INSERTs: each statement binds as many whole rows as
    SQLite allows (``SQLITE_VARIABLES``), the last few rows one at a time. SQLite then steps and resets a
    statement per group of rows, not per row: about twice as fast as a row per statement."""
    columns = python_columns(chunk)
    width = len(columns)
    per = max(1, SQLITE_VARIABLES // width)
    values = np.empty((len(chunk), width), dtype=object)
    for number, column in enumerate(columns):
        values[:, number] = column
    grouped = len(chunk) // per * per
    return [
        (_insert_sql(chunk, "?", per), values[:grouped].reshape(-1, per * width).tolist()),
        (_insert_sql(chunk, "?"), values[grouped:].tolist()),
    ]


def _insert_sql(chunk: Chunk, marker: str, rows: int = 1) -> str:
    row = f"({', '.join([marker] * len(chunk.names))})"
    return f"INSERT INTO {chunk.table} ({', '.join(chunk.names)}) VALUES {', '.join([row] * rows)}"


class Writer:
    """Bulk-writes chunks on one SQLAlchemy connection (inside its transaction)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        # The driver's own connection (sqlite3, psycopg or PyMySQL): each bulk path uses its driver's API.
        self.dbapi: Any = connection.connection.driver_connection
        self.dialect = connection.dialect.name

    def write(self, chunks: Iterable[Chunk]) -> int:
        return self.write_prepared(prepare(self.dialect, chunk) for chunk in chunks if len(chunk))

    def write_prepared(self, prepared: Iterable[Prepared]) -> int:
        written = 0
        for item in prepared:
            if len(item.chunk):
                getattr(self, f"_write_{self.dialect}", self._write_generic)(item)
                written += len(item.chunk)
        return written

    def _write_sqlite(self, item: Prepared) -> None:
        cursor = self.dbapi.cursor()
        try:
            for sql, parameters in item.statements if item.statements is not None else sqlite_statements(item.chunk):
                if parameters:
                    cursor.executemany(sql, parameters)
        finally:
            cursor.close()

    def _write_postgresql(self, item: Prepared) -> None:
        chunk = item.chunk
        with (
            self.dbapi.cursor() as cursor,
            cursor.copy(f"COPY {chunk.table} ({', '.join(chunk.names)}) FROM STDIN") as copy,
        ):
            copy.write(item.text if item.text is not None else text_rows(chunk))

    def _write_mysql(self, item: Prepared) -> None:
        if getattr(self.dbapi, "_salesmcp_no_local_infile", False):
            return self._write_generic(item)
        chunk = item.chunk
        handle, path = tempfile.mkstemp(prefix=f"salesmcp-{chunk.table}-", suffix=".tsv")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(item.text if item.text is not None else text_rows(chunk))
            sql = (
                f"LOAD DATA LOCAL INFILE %s INTO TABLE {chunk.table} CHARACTER SET utf8mb4 "
                f"FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({', '.join(chunk.names)})"
            )
            cursor = self.dbapi.cursor()
            try:
                cursor.execute(sql, (path,))
            except Exception as exc:  # the server or driver refuses local files: use multi-row INSERT
                if "local" not in str(exc).lower() and "1148" not in str(exc) and "3948" not in str(exc):
                    raise
                log.info("LOAD DATA LOCAL INFILE is not allowed (%s); using multi-row INSERT", exc)
                self.dbapi._salesmcp_no_local_infile = True
                self._write_generic(item)
            finally:
                cursor.close()
        finally:
            os.unlink(path)

    def _write_generic(self, item: Prepared) -> None:
        cursor = self.dbapi.cursor()
        try:
            cursor.executemany(_insert_sql(item.chunk, "%s"), item.row_tuples())
        finally:
            cursor.close()
