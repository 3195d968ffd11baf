"""The parser guard alone: exactly one read-only query passes, and what it refuses is named."""

import pytest

from salesmcp.services.sql.guard import MAX_SQL_LENGTH, RefusedSql, check_query

DATABASES = ("sqlite", "postgresql", "mysql")

QUERIES = [
    "SELECT 1",
    "select 1;",
    "SELECT 1; ;",
    "-- a comment first\nSELECT 1 /* and one inside */ ;",
    "SELECT 'a; DROP TABLE x' AS s",
    "SELECT 'DELETE FROM orders' AS s, '/*!50000 x */' AS t",
    "WITH t AS (SELECT 1 AS n) SELECT n FROM t",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT sum(n) FROM r",
    "SELECT status, count(*), row_number() OVER (ORDER BY count(*) DESC) FROM orders GROUP BY status",
    "SELECT 1 UNION ALL SELECT 2 UNION SELECT 3 EXCEPT SELECT 4",
    "(SELECT 1)",
    "SELECT CASE WHEN total > 10 THEN 'big' ELSE 'small' END FROM orders WHERE id IN (SELECT order_id FROM payments)",
    "SELECT name FROM customers WHERE name LIKE 'A%' ORDER BY name LIMIT 5 OFFSET 1",
    "SELECT lpad(name, 20, '.'), repeat('*', 3) FROM customers",
    "SELECT * FROM information_schema.columns WHERE table_name = 'orders'",
]


@pytest.mark.parametrize("database", DATABASES)
@pytest.mark.parametrize("sql", QUERIES)
def test_a_read_only_query_passes_as_written(database: str, sql: str) -> None:
    assert check_query(sql, database).sql == sql


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_values_list_is_a_query(database: str) -> None:
    assert check_query("VALUES (1, 'a'), (2, 'b')", database)


@pytest.mark.parametrize(
    ("database", "sql", "named"),
    [
        ("postgresql", "DELETE FROM orders", "this is DELETE"),
        ("sqlite", "  /* hidden */ drop table orders", "this is DROP TABLE"),
        ("mysql", "CREATE TABLE x (a int)", "this is CREATE TABLE"),
        ("postgresql", "SELECT 1; DELETE FROM orders", "2 statements (SELECT, DELETE)"),
        ("mysql", "SELECT 1;DROP TABLE x", "2 statements"),
        ("postgresql", "WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d", "may not hold DELETE"),
        ("postgresql", "WITH u AS (UPDATE orders SET total = 0 RETURNING id) SELECT 1", "may not hold UPDATE"),
        ("postgresql", "SELECT * INTO orders_copy FROM orders", "SELECT … INTO"),
        ("mysql", "SELECT 1 INTO @x", "SELECT … INTO"),
        ("postgresql", "SELECT * FROM orders FOR UPDATE", "FOR UPDATE"),
        ("mysql", "SELECT * FROM orders LOCK IN SHARE MODE", "FOR UPDATE"),
        ("mysql", "/*!50000 DROP TABLE orders */ SELECT 1", "executable comments"),
        ("mysql", "SELECT 1 /*M!100000 , SLEEP(10) */", "executable comments"),
        ("mysql", "SELECT @a := 1", "variable assignment"),
        ("postgresql", "SELECT pg_sleep(10)", "pg_sleep()"),
        ("postgresql", "SELECT pg_catalog.pg_sleep(10)", "pg_sleep()"),
        ('postgresql', 'SELECT "pg_read_file"(\'/etc/passwd\')', "pg_read_file()"),
        ("postgresql", "SELECT * FROM pg_ls_dir('/')", "pg_ls_dir()"),
        ("postgresql", "SELECT lo_import('/etc/passwd')", "lo_import()"),
        ("postgresql", "SELECT set_config('default_transaction_read_only', 'off', false)", "set_config()"),
        ("postgresql", "SELECT nextval('orders_id_seq')", "nextval()"),
        ("postgresql", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity", "pg_terminate_backend()"),
        ("postgresql", "SELECT query_to_xml('DELETE FROM orders', true, true, '')", "query_to_xml()"),
        ("mysql", "SELECT SLEEP(10)", "sleep()"),
        ("mysql", "SELECT GET_LOCK('x', 10)", "get_lock()"),
        ("mysql", "SELECT BENCHMARK(100000000, MD5('a'))", "benchmark()"),
        ("sqlite", "SELECT load_extension('/tmp/evil')", "load_extension()"),
        ("sqlite", "SELECT readfile('/etc/passwd')", "readfile()"),
        ("postgresql", "SELECT repeat('x', 1000000000)", "repeat() would build"),
        ("postgresql", "SELECT repeat(repeat('x', 10000000), 40)", "400,000,000 characters"),
        ("postgresql", "SELECT repeat('x', 10000 * 100000)", "1,000,000,000 characters"),
        ("postgresql", "SELECT repeat('x', (SELECT 5))", "must be a constant"),
        ("mysql", "SELECT SPACE(200000)", "space() would build"),
        ("sqlite", "SELECT instr(hex(zeroblob(1000000)), 'b')", "zeroblob() would build"),
        ("sqlite", "SELECT printf('%.*c', 100000000, 'x')", "printf(): a width"),
        ("postgresql", "SELECT format('%1000000000s', 'x')", "format(): a width"),
        ("postgresql", "SELECT * FROM ts_stat($$SELECT to_tsvector(pg_read_file('/etc/passwd'))$$)", "ts_stat()"),
        ("postgresql", "SELECT ts_rewrite('a'::tsquery, $$SELECT 'a'::tsquery, 'b'::tsquery$$)", "ts_rewrite()"),
        ("postgresql", "SELECT * FROM pg_hba_file_rules", "pg_hba_file_rules is refused"),
        ("postgresql", "SELECT * FROM pg_catalog.pg_authid", "pg_catalog.pg_authid is refused"),
        ("mysql", "SELECT * FROM mysql.user", "mysql.user is refused"),
        ("mysql", "SELECT /*+ SET_VAR(max_statement_time=0) */ 1", "optimizer hint"),
        ("mysql", "SELECT LAST_INSERT_ID(5)", "last_insert_id()"),
        ("sqlite", "ATTACH DATABASE '/tmp/x.db' AS x", "this is ATTACH"),
        ("sqlite", "PRAGMA query_only = 0", "this is PRAGMA"),
        ("sqlite", "VACUUM INTO '/tmp/copy.db'", "this is VACUUM"),
        ("postgresql", "BEGIN READ WRITE", "this is BEGIN"),
        ("postgresql", "COMMIT", "this is COMMIT"),
        ("postgresql", "SET default_transaction_read_only = off", "this is SET"),
        ("postgresql", "COPY orders TO PROGRAM 'id'", "this is COPY"),
        ("postgresql", "DO $$ BEGIN DELETE FROM orders; END $$", "this is DO"),
        ("postgresql", "PREPARE p AS DELETE FROM orders", "this is PREPARE"),
        ("postgresql", "LOCK TABLE orders", "this is LOCK"),
        ("mysql", "KILL 1", "this is KILL"),
        ("postgresql", "EXPLAIN ANALYZE DELETE FROM orders", "this is EXPLAIN"),
        ("mysql", "SELECT * FROM orders INTO OUTFILE '/tmp/x'", "could not be read"),
        ("postgresql", "", "is empty"),
        ("postgresql", "-- only a comment", "holds no statement"),
        ("postgresql", "SELECT 'unterminated", "could not be read"),
        ("postgresql", "(" * 3000 + "1" + ")" * 3000, "could not be read"),
        ("postgresql", "SELECT 1 /* \x00 */", "NUL"),
        ("postgresql", "SELECT 1 -- " + "x" * MAX_SQL_LENGTH, "characters long"),
    ],
)  # fmt: skip
def test_what_is_not_one_read_only_query_is_refused_naming_what_was_found(database: str, sql: str, named: str) -> None:
    with pytest.raises(RefusedSql) as refused:
        check_query(sql, database)
    assert refused.value.field == "sql" and refused.value.status == 400 and refused.value.code == "refused_sql"
    assert named in refused.value.message


def test_a_dash_dash_without_a_space_is_read_as_mysql_reads_it_not_as_a_comment() -> None:
    # MySQL reads `1 --1` as 1 - -1: a parser that took it for a comment would miss the call after it.
    with pytest.raises(RefusedSql, match="load_file"):
        check_query("SELECT 1 --1, LOAD_FILE('/etc/passwd')\n", "mysql")


def test_a_backslash_ends_no_postgresql_string_so_a_call_after_it_is_seen() -> None:
    with pytest.raises(RefusedSql, match="pg_read_file"):
        check_query("SELECT 'a\\', pg_read_file('/etc/passwd') --'", "postgresql")


def test_an_unknown_database_is_refused() -> None:
    with pytest.raises(RefusedSql, match="does not serve oracle"):
        check_query("SELECT 1", "oracle")
