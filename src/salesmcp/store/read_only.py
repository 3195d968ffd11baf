"""The SQL tool's second guard: the database itself runs each statement read-only, within a time limit, one
statement per execution, and the connection goes back to its pool reset.

- PostgreSQL: ``BEGIN READ ONLY`` with ``SET LOCAL statement_timeout``; a server-side cursor (one statement,
  rows fetched as far as needed); ``ROLLBACK`` and ``DISCARD ALL`` before the connection is pooled again.
- MySQL/MariaDB: ``SET SESSION TRANSACTION READ ONLY`` (DDL commits implicitly: the session must refuse it
  too) and ``START TRANSACTION READ ONLY``, with ``max_statement_time`` (MariaDB) or
  ``MAX_EXECUTION_TIME`` (MySQL) and ``sql_select_limit``; PyMySQL runs one statement per call (no
  ``CLIENT.MULTI_STATEMENTS``); ``ROLLBACK`` and ``COM_RESET_CONNECTION`` before the connection is pooled again.
- SQLite: a read-only connection (``mode=ro``, ``PRAGMA query_only``) whose authorizer allows only reads, no
  attached databases, a cap on the size of a value, and a progress handler that stops a statement at its time.

A connection whose reset fails is closed, never pooled. With ``READ_DATABASE_URL`` all of it runs as a login that
can only read (the third guard).
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool, QueuePool

from salesmcp.errors import InvalidInput, SalesmcpError, Unavailable
from salesmcp.store.database import create_db_engine

log = logging.getLogger(__name__)

SQLITE_MAX_VALUE = 1_000_000  # bytes one SQLite value may have (SQLITE_LIMIT_LENGTH)
# Bytes of fetched values after which no more rows are read: an answer shows at most 32 KB of them, and rows of
# megabyte values (a 1,000-row limit) would otherwise cost the server's memory gigabytes.
MAX_FETCHED_BYTES = 8_000_000
FETCH_STEP = 50
SQLITE_CHECK_EVERY = 1_000  # virtual-machine steps between two looks at the clock
MYSQL_RESET_CONNECTION = 0x1F  # COM_RESET_CONNECTION (MySQL 5.7.3+, MariaDB 10.2.4+)
CLIENT_MARGIN = 5.0  # seconds the client waits beyond the server's own limit before dropping the connection
# SQLite actions a read needs (sqlite3.SQLITE_*): SELECT, READ, FUNCTION, RECURSIVE; everything else is denied.
SQLITE_READ_ACTIONS = frozenset({21, 20, 31, 33})
SQLITE_DENIED_FUNCTIONS = frozenset({"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"})


class QueryTimeout(SalesmcpError):
    """The database stopped a statement at SQL_TIMEOUT."""

    status = 400
    code = "query_timeout"

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"sql: the query ran longer than SQL_TIMEOUT ({seconds:g} s) and was stopped; narrow it (a WHERE on "
            "order_date, fewer joins) or aggregate in SQL",
            field="sql",
        )


@dataclass
class Fetched:
    """What a statement returned: its column names, up to ``limit`` rows, and whether more existed."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    more: bool
    seconds: float


class ReadOnlyDatabase:
    """Runs one checked query at a time on ``url`` read-only, within ``timeout`` seconds (engine made at first
    use: a server that never runs SQL opens no connection for it)."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        self.timeout = timeout
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = self._make_engine()
            return self._engine

    def _make_engine(self) -> Engine:
        if self.dialect == "sqlite":
            path = self.sqlite_path()
            return create_engine(
                "sqlite://", creator=lambda: _open_sqlite(path), poolclass=QueuePool, pool_size=5, max_overflow=10
            )
        url = self.url
        if self.dialect == "mysql" and "read_timeout" not in url.query:
            url = url.update_query_dict({"read_timeout": str(int(self.timeout + CLIENT_MARGIN))})
        return create_db_engine(url.render_as_string(hide_password=False))

    def sqlite_path(self) -> Path:
        database = self.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            raise Unavailable("the SQL tool reads a SQLite database file; this URL names none")
        return Path(database).expanduser().resolve()

    def describing_engine(self) -> Engine:
        """An engine to read the schema with (SQLite: a plain read-only one; the tool's own denies PRAGMAs)."""
        if self.dialect == "sqlite":
            uri = f"{self.sqlite_path().as_uri()}?mode=ro"
            return create_engine(
                "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False), poolclass=NullPool
            )
        return self.engine

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def run(self, sql: str, limit: int) -> Fetched:
        """Run ``sql`` (already checked by the guard) and fetch at most ``limit`` rows, plus one to know whether
        more existed."""
        runner = {"postgresql": _run_postgres, "mysql": _run_mysql, "sqlite": _run_sqlite}.get(self.dialect)
        if runner is None:
            raise InvalidInput("sql", f"the SQL tool does not serve {self.dialect} databases")
        started = time.perf_counter()
        with self._connection() as connection:
            try:
                stop = functools.partial(self._stop, connection)
                columns, rows, more = runner(connection, sql, limit, self.timeout, stop)
            except SalesmcpError:
                raise
            except Exception as exc:
                raise self._error(exc, time.perf_counter() - started) from None
        return Fetched(columns, rows, more, time.perf_counter() - started)

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """A pooled DB-API connection, reset when given back (closed instead when its reset fails)."""
        engine = self.engine
        try:
            fairy = engine.raw_connection()
        except Exception as exc:
            raise Unavailable(f"database unavailable: {_first_line(exc)}") from None
        try:
            yield fairy.driver_connection
        finally:
            try:
                _reset(self.dialect, fairy.driver_connection)
            except Exception as exc:  # a connection that cannot be reset is not pooled again
                log.warning("SQL tool: closing a connection whose reset failed: %s", _first_line(exc))
                fairy.invalidate()
            fairy.close()

    def _stop(self, connection: Any) -> None:
        """Stop the statement a MySQL connection runs, from another connection (KILL QUERY: one's own login
        may stop its own statements)."""
        with self.engine.connect() as other:
            other.exec_driver_sql(f"KILL QUERY {int(connection.thread_id())}")

    def _error(self, exc: Exception, seconds: float) -> SalesmcpError:
        """A driver's error as ours: a timeout, an unreachable database (503), or the database's refusal (400)."""
        message = _first_line(exc)
        if _is_timeout(self.dialect, exc, seconds, self.timeout):
            return QueryTimeout(self.timeout)
        if _is_unreachable(self.dialect, exc):
            return Unavailable(f"database unavailable: {message}")
        return InvalidInput("sql", f"the database refused it: {message}")


def _first_line(exc: BaseException) -> str:
    if len(exc.args) == 2 and isinstance(exc.args[0], int) and isinstance(exc.args[1], str):  # PyMySQL's (code, text)
        text = exc.args[1].strip().splitlines()
        return f"{text[0][:500] if text else type(exc).__name__} (error {exc.args[0]})"
    lines = str(exc).strip().splitlines()
    return lines[0][:500] if lines else type(exc).__name__


def _is_timeout(dialect: str, exc: Exception, seconds: float, timeout: float) -> bool:
    if dialect == "postgresql":
        return getattr(exc, "sqlstate", None) == "57014"  # query_canceled (statement_timeout)
    if dialect == "mysql":
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        # 1969 MariaDB max_statement_time, 3024 MySQL MAX_EXECUTION_TIME, 1317 interrupted; 2013 our read timeout
        return code in (1969, 3024, 1317) or (code == 2013 and seconds >= timeout)
    return isinstance(exc, sqlite3.OperationalError) and str(exc) == "interrupted"


def _is_unreachable(dialect: str, exc: Exception) -> bool:
    if dialect == "postgresql":
        import psycopg

        sqlstate = getattr(exc, "sqlstate", None)
        return isinstance(exc, psycopg.OperationalError) and (sqlstate is None or sqlstate.startswith("08"))
    if dialect == "mysql":
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        return code in (2002, 2003, 2006, 2013, 2055)
    return False


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | bytearray | memoryview) else 8


def _fetch(cursor: Any, limit: int) -> tuple[list[tuple[Any, ...]], bool]:
    """Up to ``limit`` rows and whether more exist: one row past the limit is read to know, and reading stops
    early (more = True: rows were left unread or unshown) once MAX_FETCHED_BYTES of values came."""
    rows: list[tuple[Any, ...]] = []
    fetched = 0
    while len(rows) <= limit:
        step = cursor.fetchmany(min(FETCH_STEP, limit + 1 - len(rows)))
        if not step:
            return rows, False
        rows.extend(step)
        fetched += sum(_size(value) for row in step for value in row)
        if fetched > MAX_FETCHED_BYTES:
            return rows[:limit], True
    return rows[:limit], True


# -- SQLite ---------------------------------------------------------------------------------------------


def _authorize(action: int, first: str | None, second: str | None, _db: str | None, _source: str | None) -> int:
    if action not in SQLITE_READ_ACTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (second or "").lower() in SQLITE_DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _open_sqlite(path: Path) -> sqlite3.Connection:
    """A connection that can only read: opened read-only, query_only, no ATTACH, values capped (each call
    adds an authorizer that allows reads only)."""
    connection = sqlite3.connect(
        f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False, timeout=5, isolation_level=None
    )
    connection.execute("PRAGMA query_only = ON")
    connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, SQLITE_MAX_VALUE)
    return connection


def _run_sqlite(
    connection: sqlite3.Connection, sql: str, limit: int, timeout: float, _stop: Callable[[], None]
) -> tuple[list[str], list[tuple[Any, ...]], bool]:
    deadline = time.monotonic() + timeout
    connection.set_progress_handler(lambda: int(time.monotonic() > deadline), SQLITE_CHECK_EVERY)
    connection.set_authorizer(_authorize)  # (SQLAlchemy's own PRAGMAs on this connection run without it)
    cursor = connection.cursor()
    try:
        cursor.execute(sql)
        rows, more = _fetch(cursor, limit)
        columns = [column[0] for column in cursor.description or ()]
    finally:
        cursor.close()
        connection.set_authorizer(None)
        connection.set_progress_handler(None, 0)
    return columns, rows, more


# -- PostgreSQL -----------------------------------------------------------------------------------------


def _run_postgres(
    connection: Any, sql: str, limit: int, timeout: float, _stop: Callable[[], None]
) -> tuple[list[str], list[tuple[Any, ...]], bool]:
    milliseconds = max(1, int(timeout * 1000))
    connection.read_only = True  # the next transaction begins READ ONLY
    with connection.cursor() as setup:
        setup.execute(f"SET LOCAL statement_timeout = {milliseconds}")
        setup.execute(f"SET LOCAL lock_timeout = {milliseconds}")
        setup.execute(f"SET LOCAL idle_in_transaction_session_timeout = {milliseconds + 1000}")
    # A server-side cursor: one statement only (a portal), and rows fetched no further than asked.
    with connection.cursor(name="salesmcp_sql") as cursor:
        cursor.execute(sql)
        rows, more = _fetch(cursor, limit)
        columns = [column.name for column in cursor.description or ()]
    return columns, rows, more


# -- MySQL / MariaDB ------------------------------------------------------------------------------------


def _run_mysql(
    connection: Any, sql: str, limit: int, timeout: float, stop: Callable[[], None]
) -> tuple[list[str], list[tuple[Any, ...]], bool]:
    import pymysql
    from pymysql.cursors import SSCursor

    with connection.cursor() as setup:
        if "mariadb" in connection.get_server_info().lower():
            setup.execute(f"SET SESSION max_statement_time = {timeout:g}")
        else:
            setup.execute(f"SET SESSION MAX_EXECUTION_TIME = {max(1, int(timeout * 1000))}")
        setup.execute(f"SET SESSION sql_select_limit = {limit + 1}")
        # The session too, not only the transaction: DDL commits implicitly and would run in a new, writable one.
        setup.execute("SET SESSION TRANSACTION READ ONLY")
        setup.execute("START TRANSACTION READ ONLY")
    cursor = connection.cursor(SSCursor)  # unbuffered: rows read from the server no further than asked
    cursor.execute(sql)
    rows, more = _fetch(cursor, limit)
    columns = [column[0] for column in cursor.description or ()]
    if more and cursor.fetchone() is not None:
        # Rows are still coming (an explicit LIMIT above ours): stop the statement on the server, so that
        # closing the cursor reads no further than the rows already sent.
        stop()
    try:
        cursor.close()
    except pymysql.err.OperationalError as exc:
        if exc.args[0] != 1317:  # "Query execution was interrupted": our own stop
            raise
    return columns, rows, more


def _reset(dialect: str, connection: Any) -> None:
    """Leave nothing of a call on its connection: the transaction rolled back, and on servers every session
    setting, lock, temporary table and prepared statement gone."""
    connection.rollback()
    if dialect == "postgresql":
        connection.read_only = False
        connection.autocommit = True
        try:
            connection.execute("DISCARD ALL")
        finally:
            connection.autocommit = False
    elif dialect == "mysql":
        connection._execute_command(MYSQL_RESET_CONNECTION, b"")  # PyMySQL has no public call for it
        connection._read_ok_packet()
        with connection.cursor() as cursor:
            cursor.execute(f"SET NAMES {connection.charset}")
