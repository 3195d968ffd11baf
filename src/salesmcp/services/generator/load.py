"""Writing chunks through each database's bulk path, inside the caller's transaction.

SQLite: ``executemany`` of plain tuples. PostgreSQL: ``COPY … FROM STDIN`` in text format.
MySQL/MariaDB: ``LOAD DATA LOCAL INFILE`` of the same text (the engine allows ``local_infile``),
or multi-row ``INSERT`` when the server refuses local files.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np
from sqlalchemy import Connection

from salesmcp.services.generator.make import Chunk

log = logging.getLogger(__name__)
NULL = r"\N"
_CENTS = np.array([f"{c:02d}" for c in range(100)])


def _dates(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(days.astype("datetime64[D]"))


def _timestamps(seconds: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD HH:MM:SS`` (numpy writes a T between the date and the time: made a space here)."""
    text = np.datetime_as_string(np.maximum(seconds, 0).astype("datetime64[s]"))
    if len(text):
        text.view(np.uint32).reshape(len(text), -1)[:, 10] = ord(" ")
    return text


def _money_text(cents: np.ndarray) -> np.ndarray:
    return np.strings.add(np.strings.add((cents // 100).astype(np.str_), "."), _CENTS[cents % 100])


def python_columns(chunk: Chunk) -> list[list]:
    """Columns as lists of Python values a DBAPI driver takes (money as float: SQLite stores REAL)."""
    out = []
    for kind, column in zip(chunk.kinds, chunk.columns, strict=True):
        if kind in ("int", "str"):
            out.append(column.tolist())
        elif kind == "bool":
            out.append(column.astype(np.int8).tolist())
        elif kind == "money":
            out.append((column / 100).tolist())
        elif kind == "date":
            out.append(_dates(column).tolist())
        else:  # ts
            values = _timestamps(column).astype(object)
            values[column < 0] = None
            out.append(values.tolist())
    return out


def _escaped(column: np.ndarray) -> np.ndarray:
    for special, escape in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        if (np.strings.find(column, special) >= 0).any():
            column = np.strings.replace(column, special, escape)
    return column


def text_rows(chunk: Chunk) -> str:
    """The chunk as tab-separated lines (``\\N`` for NULL): COPY's and LOAD DATA's text format."""
    line: np.ndarray | None = None
    for kind, column in zip(chunk.kinds, chunk.columns, strict=True):
        if kind in ("int", "bool"):
            text = column.astype(np.int64).astype(np.str_)
        elif kind == "money":
            text = _money_text(column)
        elif kind == "date":
            text = _dates(column)
        elif kind == "ts":
            text = np.where(column < 0, NULL, _timestamps(column))
        else:
            text = _escaped(column.astype(np.str_))
        line = text if line is None else np.strings.add(np.strings.add(line, "\t"), text)
    assert line is not None
    return "\n".join(line.tolist()) + "\n" if len(line) else ""


@contextmanager
def bulk_session(connection: Connection) -> Iterator[None]:
    """Settings for one batch transaction of generated rows.

    PostgreSQL: the commit does not wait for the disk (a crash can lose the last batches, never
    half of one: progress is in the same transaction). MySQL/MariaDB: no per-row foreign-key
    checks, each taking a lock on the parent row; the rows refer only to rows the run wrote
    before, and the run checks for orphans when it finishes.
    """
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
    elif dialect == "mysql":
        connection.exec_driver_sql("SET SESSION foreign_key_checks = 0")
    try:
        yield
    finally:
        if dialect == "mysql":
            connection.exec_driver_sql("SET SESSION foreign_key_checks = 1")


class Writer:
    """Bulk-writes chunks on one SQLAlchemy connection (inside its transaction)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dbapi = connection.connection.driver_connection
        self.dialect = connection.dialect.name

    def write(self, chunks: Iterable[Chunk]) -> int:
        written = 0
        for chunk in chunks:
            if len(chunk):
                getattr(self, f"_write_{self.dialect}", self._write_generic)(chunk)
                written += len(chunk)
        return written

    def _insert_sql(self, chunk: Chunk, marker: str) -> str:
        return f"INSERT INTO {chunk.table} ({', '.join(chunk.names)}) VALUES ({', '.join([marker] * len(chunk.names))})"

    def _write_sqlite(self, chunk: Chunk) -> None:
        cursor = self.dbapi.cursor()
        try:
            cursor.executemany(self._insert_sql(chunk, "?"), zip(*python_columns(chunk), strict=True))
        finally:
            cursor.close()

    def _write_postgresql(self, chunk: Chunk) -> None:
        with (
            self.dbapi.cursor() as cursor,
            cursor.copy(f"COPY {chunk.table} ({', '.join(chunk.names)}) FROM STDIN") as copy,
        ):
            copy.write(text_rows(chunk))

    def _write_mysql(self, chunk: Chunk) -> None:
        if getattr(self.dbapi, "_salesmcp_no_local_infile", False):
            return self._write_generic(chunk)
        handle, path = tempfile.mkstemp(prefix=f"salesmcp-{chunk.table}-", suffix=".tsv")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
                file.write(text_rows(chunk))
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
                self._write_generic(chunk)
            finally:
                cursor.close()
        finally:
            os.unlink(path)

    def _write_generic(self, chunk: Chunk) -> None:
        cursor = self.dbapi.cursor()
        try:
            cursor.executemany(self._insert_sql(chunk, "%s"), list(zip(*python_columns(chunk), strict=True)))
        finally:
            cursor.close()
