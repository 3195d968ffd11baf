"""The SQL tool's second and third guards on their own, with no parser in front: the database runs each
statement read-only, within its time, one at a time, and nothing of a call survives on the connection; a login
made as docs/sql.md says can only read."""

import re
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from salesmcp.errors import InvalidInput, SalesmcpError
from salesmcp.store.database import open_engine
from salesmcp.store.read_only import QueryTimeout, ReadOnlyDatabase, _open_sqlite
from salesmcp.store.sql_store import SqlStore
from tests.conftest import ROOT, emptied_database

TIMEOUT = 1.0
MARGIN = 3.0  # seconds a stopped statement may take beyond its timeout on a busy machine
TABLES = ("customers", "products", "orders", "order_items", "payments", "shipments")


@pytest.fixture
def runner(sql_store: SqlStore) -> Iterator[ReadOnlyDatabase]:
    database = ReadOnlyDatabase(sql_store.engine.url.render_as_string(hide_password=False), TIMEOUT)
    yield database
    database.close()


def digest(store: SqlStore) -> tuple:
    """Every table's name, columns and rows: what no read may change."""
    with store.engine.connect() as connection:
        names = tuple(sorted(inspect(connection).get_table_names()))
        rows = tuple(
            tuple(map(tuple, connection.execute(text(f"SELECT * FROM {name} ORDER BY 1")).all())) for name in TABLES
        )
        columns = tuple(tuple(c["name"] for c in inspect(connection).get_columns(name)) for name in TABLES)
    return names, columns, rows


WRITES = {
    "every": [
        "DELETE FROM order_items",
        "UPDATE customers SET name = 'owned'",
        "INSERT INTO customers (custid, name, status, created_at, updated_at) "
        "VALUES ('999', 'x', 'active', '2026-01-01', '2026-01-01')",
        "CREATE TABLE intruder (a int)",
        "DROP TABLE shipments",
        "ALTER TABLE customers ADD COLUMN intruder int",
    ],
    "postgresql": [
        "WITH d AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM d",
        "SELECT * INTO intruder FROM customers",
        "CREATE TEMPORARY TABLE intruder AS SELECT 1",
        "SELECT * FROM customers FOR UPDATE",
        "SELECT nextval('customers_id_seq')",
        "TRUNCATE order_items",
    ],
    "mysql": [
        "CREATE TEMPORARY TABLE intruder (a int)",
        "TRUNCATE order_items",
        "REPLACE INTO customers (id, custid, name, status, created_at, updated_at) "
        "VALUES (11, '011', 'x', 'active', '2026-01-01', '2026-01-01')",
    ],
    "sqlite": [
        "ATTACH DATABASE ':memory:' AS intruder",
        "PRAGMA query_only = 0",
        "SELECT load_extension('/nonexistent')",
        "VACUUM",
        "REPLACE INTO customers (id, custid, name, status, created_at, updated_at) "
        "VALUES (11, '011', 'x', 'active', '2026-01-01', '2026-01-01')",
    ],
}


def test_the_database_refuses_every_write_the_parser_never_saw(sql_store: SqlStore, runner: ReadOnlyDatabase) -> None:
    before = digest(sql_store)
    for statement in [*WRITES["every"], *WRITES[runner.dialect]]:
        with pytest.raises(SalesmcpError) as refused:
            runner.run(statement, 10)
        assert refused.value.status == 400, (statement, refused.value.message)
    assert digest(sql_store) == before
    assert runner.run("SELECT count(*) FROM orders", 10).rows == [(12,)]  # and the connection still serves


def test_stacked_statements_are_refused_by_the_driver(sql_store: SqlStore, runner: ReadOnlyDatabase) -> None:
    before = digest(sql_store)
    for statement in ("SELECT 1; DELETE FROM order_items", "SELECT 1;DELETE FROM order_items;"):
        with pytest.raises(InvalidInput):
            runner.run(statement, 10)
    assert digest(sql_store) == before


LONG = {
    "sqlite": "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
    "postgresql": "SELECT count(*) FROM generate_series(1, 10000000000)",
    "mysql": "SELECT count(*) FROM information_schema.columns a, information_schema.columns b, "
    "information_schema.columns c, information_schema.columns d",
}


def test_a_long_query_is_stopped_by_the_database_at_its_timeout(runner: ReadOnlyDatabase) -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimeout) as stopped:
        runner.run(LONG[runner.dialect], 10)
    assert time.monotonic() - started < TIMEOUT + MARGIN
    assert stopped.value.status == 400 and "SQL_TIMEOUT (1 s)" in stopped.value.message
    assert runner.run("SELECT 1", 10).rows == [(1,)]


# 12 demo orders joined with themselves seven times: 36 million rows, of which the first come at once.
ENDLESS = "SELECT a.id FROM orders a, orders b, orders c, orders d, orders e, orders f, orders g"


def test_rows_are_read_no_further_than_one_past_the_limit(runner: ReadOnlyDatabase) -> None:
    for endless in (ENDLESS, f"{ENDLESS} LIMIT 100000000"):  # (an explicit LIMIT above ours too)
        # An answer at all is the proof: computing every row takes far longer than the runner's timeout, which
        # would have stopped the query with QueryTimeout. (Not its seconds: a busy machine makes those noisy.)
        fetched = runner.run(endless, 10)
        assert len(fetched.rows) == 10 and fetched.more
    assert len(runner.run("SELECT 1 UNION ALL SELECT 2", 2).rows) == 2
    assert not runner.run("SELECT 1 UNION ALL SELECT 2", 2).more


SESSION_STATE = {  # (what a call leaves behind, how the next call would see it)
    "postgresql": [
        ("SELECT set_config('salesmcp.probe', 'left', false)", "SELECT current_setting('salesmcp.probe', true)"),
        ("SELECT pg_advisory_lock(4242)", "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242"),
    ],
    "mysql": [
        ("SELECT @probe := 'left'", "SELECT @probe"),
        ("SELECT GET_LOCK('salesmcp_probe', 0)", "SELECT IS_USED_LOCK('salesmcp_probe') IS NOT NULL"),
    ],
}
LEFT_BEHIND = ("left", 1, "0")


def test_nothing_a_call_sets_survives_into_the_next_call(runner: ReadOnlyDatabase) -> None:
    # SQLite's connection can set nothing (its authorizer allows reads only): a refused call leaves it serving.
    steps = SESSION_STATE.get(runner.dialect, [("PRAGMA query_only = 0", "SELECT 'serving'")])
    for leave, look in steps:
        try:
            runner.run(leave, 10)
        except InvalidInput:
            assert runner.dialect == "sqlite"
        assert runner.run(look, 10).rows[0][0] not in LEFT_BEHIND, leave


@pytest.fixture
def sqlite_store(request: pytest.FixtureRequest) -> Iterator[SqlStore]:
    store = SqlStore(open_engine(emptied_database(request, "sqlite", demo_data=True)))
    yield store
    store.close()


def test_the_sqlite_connection_is_read_only_even_without_its_authorizer(sqlite_store: SqlStore) -> None:
    connection = _open_sqlite(ReadOnlyDatabase(str(sqlite_store.engine.url), TIMEOUT).sqlite_path())
    try:
        for statement in ("DELETE FROM orders", "PRAGMA query_only = 0; DELETE FROM orders"):
            with pytest.raises(Exception, match="readonly|read-only|attempt to write"):
                connection.executescript(statement)
    finally:
        connection.close()


# -- the third guard: a login that can only read ---------------------------------------------------------


def doc_statements(heading: str) -> list[str]:
    """The ```sql block under ``### <heading>`` in docs/sql.md, one statement per line."""
    page = (ROOT / "docs" / "sql.md").read_text(encoding="utf-8")
    section = page.split(f"### {heading}\n", 1)[1]
    block = re.search(r"```sql\n(.*?)```", section, re.DOTALL)
    assert block is not None, heading
    return [line.strip() for line in block[1].splitlines() if line.strip()]


@pytest.fixture(params=["mariadb", "postgresql"])
def server_store(request: pytest.FixtureRequest) -> Iterator[SqlStore]:
    """MariaDB, then PostgreSQL (SQLite has no logins), with the demo data."""
    store = SqlStore(open_engine(emptied_database(request, request.param, demo_data=True)))
    yield store
    store.close()


@pytest.fixture
def reader_url(server_store: SqlStore) -> Iterator[str]:
    """A login made exactly as docs/sql.md says, on this test's database (another name and password)."""
    url = server_store.engine.url
    dialect = url.get_backend_name()
    name, password = f"reader_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    heading = "PostgreSQL" if dialect == "postgresql" else "MySQL and MariaDB"
    statements = [
        statement.replace("salesmcp_reader", name).replace("change-me", password)
        .replace("DATABASE test ", f"DATABASE {url.database} ").replace("ON test.*", f"ON {url.database}.*")
        for statement in doc_statements(heading)
    ]  # fmt: skip
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    try:
        yield make_url(url).set(username=name, password=password).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            if dialect == "postgresql":
                connection.execute(text(f"DROP OWNED BY {name}"))
                connection.execute(text(f"DROP ROLE {name}"))
            else:
                connection.execute(text(f"DROP USER '{name}'@'%'"))
        admin.dispose()


def test_the_login_the_docs_create_reads_through_the_tool_and_can_do_nothing_else(
    server_store: SqlStore, reader_url: str
) -> None:
    sql_store = server_store
    before = digest(sql_store)
    runner = ReadOnlyDatabase(reader_url, TIMEOUT)
    try:
        assert runner.run("SELECT count(*) FROM orders", 10).rows == [(12,)]
    finally:
        runner.close()
    # Straight through the driver, with neither the parser nor a read-only transaction in the way.
    bare = create_engine(reader_url, isolation_level="AUTOCOMMIT")
    denied = ["DELETE FROM order_items", "CREATE TABLE intruder (a int)", "UPDATE customers SET name = 'x'"]
    try:
        with bare.connect() as connection, sql_store.engine.connect() as other_session:
            if sql_store.engine.dialect.name == "postgresql":
                pid = other_session.execute(text("SELECT pg_backend_pid()")).scalar()
                denied += ["SELECT pg_read_file('/etc/passwd')", f"SELECT pg_terminate_backend({pid})"]
            for statement in denied:
                with pytest.raises(Exception, match="(?i)denied|read-only|permission|must be"):
                    connection.execute(text(statement))
            if sql_store.engine.dialect.name == "mysql":
                assert connection.execute(text("SELECT LOAD_FILE('/etc/passwd')")).scalar() is None
    finally:
        bare.dispose()
    assert digest(sql_store) == before
