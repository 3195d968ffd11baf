"""The SQL tool as an attacker meets it: a hostile corpus sent to a real server on SQLite, MariaDB and PostgreSQL,
each statement over MCP (the SDK's client, Streamable HTTP) and over REST (POST /sql). Every statement is refused
or stopped within SQL_TIMEOUT and a margin; afterwards every table is as it was, no file was written or read back,
and the server still answers every other tool. And the other side: ordinary analyst SQL runs and gives what the
same SQL gives run directly.

To add a case, add one line to CORPUS: (databases, outcome, statement).
- databases: "*" for all three, or some of "lite", "my", "pg" joined by "+".
- outcome: "R" refused by the parser (code refused_sql), "D" refused or stopped by the database itself (a write in
  a read-only transaction, a timeout, a limit of the server's own), "RD" either.
"""

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import Client
from sqlalchemy import create_engine, inspect, text

from tests.conftest import DATABASES, Server, emptied_database, start_server

SQL_TIMEOUT = 0.5
MARGIN = 4.0  # seconds beyond SQL_TIMEOUT a call may take on a busy two-core machine
WRITTEN = Path("/tmp/salesmcp-corpus-written")  # the file every file-writing statement aims at
SECRET = "root:x:0:0"  # what /etc/passwd would give away
SHORT = {"sqlite": "lite", "mariadb": "my", "postgresql": "pg"}
NEW_CUSTOMER = (
    "(custid, name, status, created_at, updated_at) VALUES ('666', 'x', 'active', '2026-01-01', '2026-01-01')"
)
HUGE_JOIN = "FROM orders a, orders b, orders c, orders d, orders e, orders f, orders g, orders h"  # 12^8 rows

CORPUS = [
    # Plain writes and DDL, in every case and with comments in front.
    ("*", "RD", "DELETE FROM order_items"),
    ("*", "RD", "delete from order_items"),
    ("*", "RD", "DeLeTe FrOm order_items"),
    ("*", "RD", "UPDATE customers SET name = 'pwned'"),
    ("*", "RD", f"INSERT INTO customers {NEW_CUSTOMER}"),
    ("*", "RD", "DROP TABLE shipments"),
    ("*", "RD", "CREATE TABLE pwned (a int)"),
    ("*", "RD", "ALTER TABLE customers ADD COLUMN pwned int"),
    ("*", "RD", "TRUNCATE TABLE order_items"),
    ("*", "RD", "-- a comment first\nDROP TABLE shipments"),
    ("*", "RD", "/* a comment first */ DELETE FROM orders"),
    ("*", "RD", "/* two\nlines */ -- and another\n  UPDATE orders SET total = 0"),
    ("my", "RD", "# a MySQL comment\nDELETE FROM orders"),
    ("my+lite", "RD", f"REPLACE INTO customers {NEW_CUSTOMER}"),
    ("pg", "RD", "MERGE INTO customers c USING customers d ON c.id = d.id WHEN MATCHED THEN DELETE"),
    # Stacked statements, with and without spaces.
    ("*", "RD", "SELECT 1; DROP TABLE shipments"),
    ("*", "RD", "SELECT 1;DROP TABLE shipments"),
    ("*", "RD", "SELECT 1;DROP TABLE shipments;"),
    ("*", "RD", "SELECT 1 ; ; DELETE FROM orders"),
    ("*", "RD", "SELECT 'x';DELETE FROM orders--"),
    ("*", "RD", "SELECT 1;\nDELETE FROM orders"),
    # Transaction control before a write.
    ("*", "RD", "COMMIT; DELETE FROM orders"),
    ("*", "RD", "ROLLBACK; DROP TABLE shipments"),
    ("*", "RD", "BEGIN; DELETE FROM orders; COMMIT"),
    ("pg", "RD", "END; DELETE FROM orders"),
    ("pg", "RD", "SET TRANSACTION READ WRITE; DELETE FROM orders"),
    ("pg", "RD", "ABORT; DELETE FROM orders"),
    ("my", "RD", "SET SESSION TRANSACTION READ WRITE; DELETE FROM orders"),
    ("my", "RD", "START TRANSACTION READ WRITE"),
    ("lite", "RD", "BEGIN IMMEDIATE"),
    # Writes inside CTEs.
    ("pg", "RD", "WITH d AS (DELETE FROM order_items RETURNING *) SELECT count(*) FROM d"),
    ("pg", "RD", "WITH u AS (UPDATE customers SET name = 'pwned' RETURNING id) SELECT * FROM u"),
    ("pg", "RD", f"WITH i AS (INSERT INTO customers {NEW_CUSTOMER} RETURNING id) SELECT * FROM i"),
    ("*", "RD", "WITH x AS (SELECT 1) DELETE FROM orders"),
    ("*", "RD", "WITH x AS (SELECT 1) UPDATE orders SET total = 0"),
    # Session and global settings that would turn read-only off or degrade the server.
    ("pg", "RD", "SET default_transaction_read_only = off"),
    ("pg", "RD", "SELECT set_config('default_transaction_read_only', 'off', false)"),
    ("pg", "RD", "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE"),
    ("pg", "RD", "SET statement_timeout = 0"),
    ("pg", "RD", "RESET ALL"),
    ("pg", "RD", "ALTER SYSTEM SET max_connections = 1"),
    ("pg", "RD", "SELECT pg_reload_conf()"),
    ("pg", "RD", "ALTER ROLE CURRENT_USER SET default_transaction_read_only = off"),
    ("my", "RD", "SET GLOBAL read_only = 0"),
    ("my", "RD", "SET SESSION sql_mode = ''"),
    ("my", "RD", "SET @@global.max_connections = 1"),
    ("my", "RD", "SET GLOBAL max_statement_time = 0"),
    ("my", "RD", "SELECT @x := 1"),
    ("lite", "RD", "PRAGMA query_only = 0"),
    ("lite", "RD", "PRAGMA journal_mode = DELETE"),
    ("lite", "RD", "PRAGMA writable_schema = 1"),
    # Files and programs: reading /etc/passwd, writing a file, COPY … PROGRAM, OUTFILE, ATTACH, VACUUM INTO, extensions.
    ("pg", "RD", "SELECT pg_read_file('/etc/passwd')"),
    ("pg", "RD", "SELECT pg_read_binary_file('/etc/passwd')"),
    ("pg", "RD", "SELECT * FROM pg_catalog.pg_read_file('/etc/passwd')"),
    ("pg", "RD", "SELECT \"pg_read_file\"('/etc/passwd')"),
    ("pg", "RD", "SELECT PG_READ_FILE('/etc/passwd')"),
    ("pg", "RD", "SELECT * FROM pg_ls_dir('/')"),
    ("pg", "RD", "SELECT pg_stat_file('/etc/passwd')"),
    ("pg", "RD", "SELECT lo_import('/etc/passwd')"),
    ("pg", "RD", f"SELECT lo_export(1, '{WRITTEN}')"),
    ("pg", "RD", f"COPY customers TO '{WRITTEN}'"),
    ("pg", "RD", f"COPY (SELECT 1) TO PROGRAM 'touch {WRITTEN}'"),
    ("pg", "RD", "CREATE TEMP TABLE t (line text); COPY t FROM '/etc/passwd'; SELECT * FROM t"),
    ("pg", "RD", "SELECT dblink_exec('host=127.0.0.1', 'DROP TABLE shipments')"),
    ("pg", "RD", "CREATE EXTENSION dblink"),
    ("pg", "RD", "LOAD 'auto_explain'"),
    ("my", "RD", "SELECT LOAD_FILE('/etc/passwd')"),
    ("my", "RD", "SELECT load_file(0x2f6574632f706173737764)"),
    ("my", "RD", f"SELECT * FROM customers INTO OUTFILE '{WRITTEN}'"),
    ("my", "RD", f"SELECT 'x' INTO DUMPFILE '{WRITTEN}'"),
    ("my", "RD", f"SELECT * INTO OUTFILE '{WRITTEN}' FROM customers"),
    ("my", "RD", "LOAD DATA INFILE '/etc/passwd' INTO TABLE customers"),
    ("my", "RD", "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE customers"),
    ("my", "RD", "INSTALL PLUGIN pwned SONAME 'pwned.so'"),
    ("lite", "RD", f"ATTACH DATABASE '{WRITTEN}' AS pwned"),
    ("lite", "RD", f"VACUUM INTO '{WRITTEN}'"),
    ("lite", "RD", "SELECT load_extension('/tmp/evil.so')"),
    ("lite", "RD", "SELECT readfile('/etc/passwd')"),
    ("lite", "RD", f"SELECT writefile('{WRITTEN}', 'x')"),
    ("pg", "RD", "SELECT word FROM ts_stat($$SELECT to_tsvector('simple', pg_read_file('/etc/passwd'))$$)"),
    (
        "pg",
        "RD",
        "SELECT * FROM ts_stat($$SELECT to_tsvector(pg_terminate_backend(pid)::text) FROM pg_stat_activity$$)",
    ),
    ("pg", "RD", "SELECT ts_rewrite('a'::tsquery, $$SELECT 'a'::tsquery, to_tsquery(pg_read_file('/etc/passwd'))$$)"),
    ("pg", "RD", "SELECT * FROM pg_hba_file_rules"),
    ("pg", "RD", "SELECT * FROM pg_catalog.pg_file_settings"),
    ("pg", "RD", "SELECT rolname, rolpassword FROM pg_authid"),
    ("my", "RD", "SELECT user, authentication_string FROM mysql.user"),
    ("my", "RD", "SELECT * FROM mysql.global_priv"),
    # Procedural escapes: DO, PREPARE/EXECUTE, CALL, functions.
    ("pg", "RD", "DO $$ BEGIN DELETE FROM order_items; END $$"),
    ("pg", "RD", "PREPARE p AS DELETE FROM order_items"),
    ("pg", "RD", "EXECUTE p"),
    ("pg", "RD", "CALL pwned()"),
    ("pg", "RD", "CREATE FUNCTION pwned() RETURNS int AS 'DELETE FROM order_items; SELECT 1' LANGUAGE sql"),
    ("pg", "RD", "SELECT query_to_xml('DELETE FROM order_items RETURNING id', true, true, '')"),
    ("my", "RD", "PREPARE s FROM 'DELETE FROM order_items'"),
    ("my", "RD", "EXECUTE s"),
    ("my", "RD", "EXECUTE IMMEDIATE 'DELETE FROM order_items'"),
    ("my", "RD", "CALL pwned()"),
    ("my", "RD", "HANDLER customers OPEN"),
    ("my", "RD", "DO SLEEP(5)"),
    # MySQL's executable comments.
    ("my", "RD", "/*!50000 DROP TABLE shipments */ SELECT 1"),
    ("my", "RD", "SELECT 1 /*!, LOAD_FILE('/etc/passwd') */"),
    ("my", "RD", "SELECT 1 /*M!100000 , SLEEP(5) */"),
    ("my", "RD", "SELECT 1 --1, LOAD_FILE('/etc/passwd')\n"),
    ("my", "RD", "SELECT /*+ SET_VAR(max_statement_time=0) */ count(*) FROM orders"),
    ("my", "RD", "SELECT /*+ MAX_EXECUTION_TIME(100000000) */ count(*) FROM orders"),
    ("my", "RD", "SELECT LAST_INSERT_ID(999)"),
    # Locks.
    ("pg", "RD", "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE"),
    ("pg+my", "RD", "SELECT * FROM orders FOR UPDATE"),
    ("pg", "RD", "SELECT * FROM orders FOR SHARE"),
    ("pg", "RD", "SELECT * FROM orders FOR NO KEY UPDATE NOWAIT"),
    ("pg", "RD", "SELECT pg_advisory_lock(1)"),
    ("pg", "RD", "SELECT pg_try_advisory_lock(1)"),
    ("my", "RD", "LOCK TABLES orders WRITE"),
    ("my", "RD", "SELECT GET_LOCK('salesmcp', 10)"),
    ("my", "RD", "SELECT * FROM orders LOCK IN SHARE MODE"),
    ("my", "RD", "FLUSH TABLES WITH READ LOCK"),
    ("lite", "RD", "BEGIN EXCLUSIVE"),
    # Ending other sessions.
    ("pg", "RD", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"),
    ("pg", "RD", "SELECT pg_cancel_backend(pid) FROM pg_stat_activity"),
    ("my", "RD", "KILL 1"),
    ("my", "RD", "KILL QUERY 1"),
    # Sequences.
    ("pg", "RD", "SELECT nextval('orders_id_seq')"),
    ("pg", "RD", "SELECT setval('orders_id_seq', 1)"),
    ("pg", "RD", "ALTER SEQUENCE orders_id_seq RESTART"),
    ("my", "RD", "SELECT NEXT VALUE FOR orders_seq"),
    ("my", "RD", "SELECT NEXTVAL(orders_seq)"),
    # Long-running: sleeps, runaway recursion, huge cross joins, expensive built-ins.
    ("pg", "R", "SELECT pg_sleep(30)"),
    ("pg", "R", "SELECT pg_sleep_for('30 seconds')"),
    ("my", "R", "SELECT SLEEP(30)"),
    ("my", "R", "SELECT BENCHMARK(1000000000, MD5('x'))"),
    ("pg+lite", "D", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"),
    ("*", "D", f"SELECT count(*) {HUGE_JOIN}"),
    ("*", "D", f"SELECT max(a.total + h.total) {HUGE_JOIN} WHERE a.id + h.id > 0"),
    ("pg", "D", "SELECT count(*) FROM generate_series(1, 10000000000)"),
    ("pg", "D", "SELECT md5(string_agg(g::text, '')) FROM generate_series(1, 100000000) g"),
    ("pg", "R", "SELECT repeat('x', 1000000000)"),
    ("my", "R", "SELECT REPEAT('x', 1000000000)"),
    ("my", "R", "SELECT LPAD('x', 1000000000, 'y')"),
    ("lite", "R", "SELECT randomblob(1000000000)"),
    ("lite", "R", "SELECT zeroblob(500000000)"),
    (
        "lite",
        "R",
        "SELECT instr(replace(hex(zeroblob(1000000)), '0', 'a'), replace(hex(zeroblob(500000)), '0', 'a') || 'b')",
    ),
    ("my", "R", "SELECT LOCATE(CONCAT(REPEAT('a', 200000), 'b'), REPEAT('a', 400000))"),
    ("pg+my", "R", "SELECT repeat(repeat('x', 10000000), 40)"),
    ("pg+my", "R", "SELECT repeat('x', 10000 * 100000)"),
    ("pg+my", "R", "SELECT repeat('x', (SELECT 100000000))"),
    ("lite", "R", "SELECT printf('%.*c', 100000000, 'x')"),
    ("pg", "R", "SELECT format('%1000000000s', 'x')"),
]

# Ordinary SQL that must run, on the same server, answering what the same SQL answers run directly.
BENIGN = [
    ("*", "SELECT status, count(*) AS orders, sum(total) AS revenue FROM orders GROUP BY status ORDER BY status"),
    ("*", "WITH big AS (SELECT customer_id, sum(total) AS spent FROM orders GROUP BY customer_id) "
          "SELECT c.name, b.spent FROM big b JOIN customers c ON c.id = b.customer_id ORDER BY b.spent DESC, c.name"),
    ("*", "SELECT id, total, rank() OVER (ORDER BY total DESC, id) AS place, "
          "sum(total) OVER (ORDER BY id) AS running FROM orders ORDER BY id"),
    ("*", "SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE total > 10) ORDER BY name"),
    ("*", "SELECT city FROM customers WHERE custid < '014' UNION ALL SELECT city FROM customers WHERE custid > '018'"),
    ("*", "SELECT id, CASE WHEN total >= 10 THEN 'big' ELSE 'small' END AS size FROM orders ORDER BY id"),
    ("*", "-- the order count\nSELECT count(*) /* all of them */ AS n FROM orders;"),
    ("*", "SELECT 'DROP TABLE orders; --' AS text, 'a''b' AS quote, '/*!50000 x */' AS comment"),
    ("*", "SELECT name FROM customers WHERE name LIKE 'A%' OR name LIKE '%n%' ORDER BY name"),
    ("*", "SELECT o.id, c.custid FROM orders o LEFT JOIN customers c ON c.id = o.customer_id "
          "WHERE o.order_date BETWEEN '2026-01-01' AND '2026-01-31' ORDER BY o.id"),
    ("lite", "SELECT strftime('%Y-%m', order_date) AS month, count(*) FROM orders GROUP BY 1 ORDER BY 1"),
    ("lite", "SELECT id, date(order_date, '+1 day') AS next_day, strftime('%w', order_date) AS weekday FROM orders"),
    ("pg", "SELECT date_trunc('month', order_date)::date AS month, count(*) FROM orders GROUP BY 1 ORDER BY 1"),
    ("pg", "SELECT id, order_date + interval '1 day' AS next_day, extract(dow FROM order_date) AS weekday, "
           "to_char(order_date, 'YYYY-MM') AS month FROM orders ORDER BY id"),
    ("pg", "SELECT DISTINCT ON (customer_id) customer_id, id FROM orders ORDER BY customer_id, order_date DESC, id"),
    ("my", "SELECT DATE_FORMAT(order_date, '%Y-%m') AS month, count(*) FROM orders GROUP BY 1 ORDER BY 1"),
    ("my", "SELECT id, DATE_ADD(order_date, INTERVAL 1 DAY) AS next_day, DAYOFWEEK(order_date) AS weekday, "
           "YEAR(order_date) AS year FROM orders ORDER BY id"),
    ("my", "SELECT `status`, count(*) FROM `orders` GROUP BY `status`"),
    ("pg", "SELECT lpad((id + 20000000)::text, 10, '0') AS code, repeat('*', 3) || status AS marked FROM orders"),
    ("lite", "SELECT printf('%08.2f', total) AS padded, substr('*****', 1, 3) || status FROM orders"),
    ("my", "SELECT FORMAT(total, 2) AS shown, LPAD(id, 10, '0') AS code, REPEAT('*', 3) FROM orders"),
]  # fmt: skip


def applies(databases: str, name: str) -> bool:
    return databases == "*" or SHORT[name] in databases.split("+")


@dataclass
class Target:
    name: str
    url: str
    server: Server


def cases(lines: list[tuple[str, ...]]) -> list:
    """Each line once per database it applies to, named like ``mariadb-12``."""
    return [
        pytest.param(name, *line[1:], id=f"{name}-{number}")
        for name in DATABASES
        for number, line in enumerate(lines)
        if applies(line[0], name)
    ]


@pytest.fixture(scope="module")
def targets(request: pytest.FixtureRequest) -> Iterator[dict[str, Target]]:
    """``salesmcp serve`` on a free port on each database, holding the demo data, for the whole module."""
    running: dict[str, Target] = {}
    env = {"SQL_TIMEOUT": str(SQL_TIMEOUT), "ANALYTICS_ENGINE": "database", "RATE_LIMIT_READS": "100000/minute"}
    try:
        for name in DATABASES:
            url = emptied_database(request, name, demo_data=True)
            running[name] = Target(name, url, start_server("serve", "--database-url", url, env=env))
        yield running
    finally:
        for target in running.values():
            target.server.stop()


@pytest.fixture(scope="module")
def before(targets: dict[str, Target]) -> dict[str, str]:
    """Each database's digest before any statement of the corpus."""
    WRITTEN.unlink(missing_ok=True)
    return {name: digest(target.url) for name, target in targets.items()}


def digest(url: str) -> str:
    """Every table's name, columns and rows, and PostgreSQL's sequences: what no statement may change."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            state: dict[str, object] = {}
            for table in sorted(inspector.get_table_names()):
                columns = [column["name"] for column in inspector.get_columns(table)]
                rows = connection.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
                state[table] = [columns, [[str(value) for value in row] for row in rows]]
            if connection.dialect.name == "postgresql":
                sequences = connection.execute(text("SELECT sequencename, last_value FROM pg_sequences")).all()
                state["sequences"] = sorted(map(str, sequences))
    finally:
        engine.dispose()
    return json.dumps(state, sort_keys=True)


def rest(target: Target, sql: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.post(f"{target.server.url}/sql", json={"sql": sql, "limit": 20}, timeout=SQL_TIMEOUT + 30)
    return response, time.monotonic() - started


async def mcp(target: Target, tool: str, arguments: dict) -> tuple[object, float]:
    with anyio.fail_after(SQL_TIMEOUT + 30):
        async with Client(f"{target.server.url}/mcp") as client:
            started = time.monotonic()
            result = await client.call_tool(tool, arguments)
            return result, time.monotonic() - started


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "outcome", "statement"), cases(CORPUS))
async def test_a_hostile_statement_is_refused_or_stopped_over_rest_and_mcp(
    targets: dict[str, Target], before: dict[str, str], name: str, outcome: str, statement: str
) -> None:
    target = targets[name]
    response, seconds = rest(target, statement)
    assert response.status_code == 400, (statement, response.text)
    error = response.json()["error"]
    assert error["field"] == "sql" and SECRET not in response.text
    codes = {"R": {"refused_sql"}, "D": {"query_timeout", "invalid_input"}}[outcome] if outcome != "RD" else None
    assert codes is None or error["code"] in codes, (statement, error)
    assert seconds < SQL_TIMEOUT + MARGIN, (statement, seconds)

    result, seconds = await mcp(target, "run_sql", {"sql": statement, "limit": 20})
    assert result.is_error, statement  # type: ignore[attr-defined]
    said = result.content[0].text  # type: ignore[attr-defined]
    assert SECRET not in said and seconds < SQL_TIMEOUT + MARGIN, (statement, seconds)
    if error["code"] == "refused_sql":  # the same words, whichever door it came through
        assert said == error["message"], statement


def normal(value: object) -> object:
    """A value as the answers' JSON has it, computed here without the code under test."""
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[union-attr]
    return value


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "statement"), cases(BENIGN))
async def test_ordinary_sql_runs_and_answers_what_it_answers_run_directly(
    targets: dict[str, Target], name: str, statement: str
) -> None:
    target = targets[name]
    engine = create_engine(target.url)
    try:  # straight through the driver, no parameters ('A%' is no placeholder)
        connection = engine.raw_connection()
        cursor = connection.cursor()
        cursor.execute(statement)
        expected = [[normal(value) for value in row] for row in cursor.fetchall()]
        connection.close()
    finally:
        engine.dispose()
    response, _ = rest(target, statement)
    assert response.status_code == 200, (statement, response.text)
    answer = response.json()
    assert answer["rows"] == json.loads(json.dumps(expected)) and answer["truncated"] is False, statement
    result, _ = await mcp(target, "run_sql", {"sql": statement, "limit": 20})
    assert not result.is_error and result.structured_content["rows"] == answer["rows"], statement  # type: ignore[attr-defined]


@pytest.mark.anyio
@pytest.mark.parametrize("name", DATABASES)
async def test_after_the_corpus_nothing_changed_no_file_was_written_and_every_tool_answers(
    targets: dict[str, Target], before: dict[str, str], name: str
) -> None:
    target = targets[name]
    assert digest(target.url) == before[name]
    assert not WRITTEN.exists()
    assert httpx.get(f"{target.server.url}/health", timeout=10).status_code == 200
    engine = create_engine(target.url)
    try:
        with engine.connect() as connection:
            revenue = connection.execute(text("SELECT sum(total) FROM orders WHERE status <> 'CANCELLED'")).scalar()
    finally:
        engine.dispose()
    result, _ = await mcp(target, "get_customer", {"cust_id": "011"})
    assert not result.is_error and "Annie" in result.content[0].text  # type: ignore[attr-defined]
    result, _ = await mcp(target, "query_metrics", {"metrics": ["revenue"]})
    assert result.structured_content["totals"]["revenue"] == float(revenue)  # type: ignore[attr-defined]
    result, _ = await mcp(target, "describe_schema", {})
    assert not result.is_error and "<untrusted-data-" in result.content[0].text  # type: ignore[attr-defined]
    result, _ = await mcp(target, "run_sql", {"sql": "SELECT count(*) AS n FROM orders"})
    assert result.structured_content["rows"] == [[12]]  # type: ignore[attr-defined]
