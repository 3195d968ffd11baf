"""The columnar copy (DuckDB) of each database: it follows every committed write into the very next answer —
a generation run, a customer moved to another city, a reset and a new run — on SQLite, MariaDB and PostgreSQL,
and when it cannot be used the database answers instead. Every number is checked against the raw rows."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import make_url

from salesmcp.services.analytics import query_metrics
from salesmcp.services.generator import reset
from salesmcp.store import replica as replica_module
from salesmcp.store.replica import Replica, attach_statements, replica_path
from salesmcp.store.schema import customers, order_items, orders, returns
from salesmcp.store.sql_store import SqlStore
from tests.conftest import emptied_database
from tests.integration.services.generator.tables import generate, scratch_store


@pytest.fixture(params=["sqlite", "mariadb", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[SqlStore]:
    url = emptied_database(request, request.param, demo_data=False)
    with scratch_store(url) as store:
        yield store


@pytest.fixture
def copied(database: SqlStore, tmp_path: Path) -> Iterator[SqlStore]:
    replica = Replica(database.engine, tmp_path / "copies")
    yield SqlStore(database.engine, replica)
    replica.close()


def counted(store: SqlStore, city: str | None = None) -> tuple[int, Decimal]:
    """Counted orders and their revenue, from the raw rows (plain Python over a plain SELECT)."""
    query = select(orders.c.status, orders.c.total, customers.c.city).join(customers)
    with store.reading() as connection:
        rows = [row for row in connection.execute(query) if row.status != "CANCELLED"]
    rows = [row for row in rows if city is None or row.city == city]
    return len(rows), sum((Decimal(str(row.total)).quantize(Decimal("0.01")) for row in rows), Decimal(0))


def asked(store: SqlStore, **filters: object) -> tuple[int, Decimal, str]:
    answer = query_metrics(store, metrics=["orders", "revenue"], filters=filters or None)
    totals = answer["totals"]
    return totals["orders"], Decimal(str(totals["revenue"])).quantize(Decimal("0.01")), answer["as_of"]["engine"]


def test_the_copy_follows_runs_a_moved_customer_and_a_reset_into_the_next_answer(copied: SqlStore) -> None:
    generate(copied, rows=400, seed=5, start_date="2025-01-01", end_date="2025-12-31")
    assert asked(copied) == (*counted(copied), "duckdb")

    generate(copied, rows=300, seed=6, mode="append", start_date="2026-01-01", end_date="2026-03-31")
    assert asked(copied) == (*counted(copied), "duckdb")

    with copied.transaction() as connection:
        mover = connection.execute(select(func.min(orders.c.customer_id))).scalar_one()
        connection.execute(update(customers).where(customers.c.id == mover).values(city="Nowhere Town"))
    assert asked(copied, city="nowhere town") == (*counted(copied, "Nowhere Town"), "duckdb")
    assert counted(copied, "Nowhere Town")[0] > 0

    reset(copied)
    assert asked(copied) == (0, Decimal("0.00"), "duckdb")
    generate(copied, rows=400, seed=7, start_date="2025-01-01", end_date="2025-12-31")  # the same ids, other data
    assert asked(copied) == (*counted(copied), "duckdb")


def test_a_return_added_to_an_order_the_copy_holds_counts_in_the_next_answer(copied: SqlStore) -> None:
    """Returns come with their orders in a run, but a line can also come back later: its order and line in the
    copy carry it from the next answer on."""
    generate(copied, rows=400, seed=5, start_date="2025-01-01", end_date="2025-12-31", return_rate=0)
    first = query_metrics(copied, metrics=["refunds", "returned_units"])["totals"]
    assert first == {"refunds": 0, "returned_units": 0}
    with copied.transaction() as connection:
        line = connection.execute(
            select(order_items).join(orders).where(orders.c.status == "DELIVERED").order_by(order_items.c.id).limit(1)
        ).one()
        delivered = connection.execute(select(orders.c.order_date).where(orders.c.id == line.order_id)).scalar_one()
        connection.execute(insert(returns).values(
            id=1, order_id=line.order_id, order_item_id=line.id, product_id=line.product_id, quantity=1,
            refund=Decimal("12.34"), reason="damaged", returned_at=delivered, refunded_at=delivered,
        ))  # fmt: skip
    answer = query_metrics(copied, metrics=["refunds", "returned_units"])
    assert answer["as_of"]["engine"] == "duckdb"
    assert answer["totals"] == {"refunds": 12.34, "returned_units": 1}
    orders_answer = query_metrics(copied, metrics=["revenue", "net_revenue"])["totals"]
    _, revenue = counted(copied)
    assert Decimal(str(orders_answer["net_revenue"])) == revenue - Decimal("12.34")


def test_every_committed_write_moves_the_change_signal(copied: SqlStore) -> None:
    assert copied.replica is not None
    generate(copied, rows=50, seed=5)
    before = copied.replica.signal()
    assert before is not None
    with copied.transaction() as connection:
        connection.execute(update(customers).where(customers.c.id == 1).values(city="Elsewhere"))
    assert copied.replica.signal() != before


def test_a_copy_rebuilt_from_scratch_matches_the_raw_rows(copied: SqlStore) -> None:
    generate(copied, rows=300, seed=8)
    assert copied.replica is not None
    copied.replica.refresh()
    assert asked(copied) == (*counted(copied), "duckdb")
    assert copied.replica.synced_at is not None


def test_without_the_scanner_extensions_the_database_answers(
    database: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate(database, rows=100, seed=5)
    monkeypatch.setattr(replica_module, "extension_directory", lambda: None)
    replica = Replica(database.engine, tmp_path / "copies")
    store = SqlStore(database.engine, replica)
    try:
        assert asked(store) == (*counted(store), database.engine.dialect.name)
        assert replica.broken is not None and "duckdb-ext" in replica.broken
    finally:
        replica.close()


def test_a_file_another_process_holds_gives_this_process_a_copy_of_its_own(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'shop.db').as_posix()}"
    with scratch_store(url) as store:
        generate(store, rows=100, seed=5)
        held = replica_path(tmp_path / "copies", store.engine.url)
        held.parent.mkdir(parents=True)
        holder = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(f"""
                import duckdb, sys, time
                connection = duckdb.connect({held.as_posix()!r})
                print("held", flush=True)
                sys.stdin.readline()
            """)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            replica = Replica(store.engine, tmp_path / "copies")
            copied = SqlStore(store.engine, replica)
            assert asked(copied) == (*counted(copied), "duckdb")
            assert replica.path != held and replica.path.parent == held.parent
            replica.close()
        finally:
            holder.communicate("\n", timeout=30)


def test_the_attach_statements_quote_what_the_url_holds() -> None:
    url = make_url("postgresql+psycopg://ana:it's me@db.example:5433/shop")
    assert attach_statements(url)[0] == (
        "CREATE OR REPLACE TEMPORARY SECRET src_secret (TYPE postgres, HOST 'db.example', PORT 5433, USER 'ana', "
        "PASSWORD 'it''s me', DATABASE 'shop')"
    )
    socket = make_url("postgresql+psycopg://ana@/shop?host=/cloudsql/p:r:i")
    assert "HOST '/cloudsql/p:r:i'" in attach_statements(socket)[0]
    mysql = make_url("mysql+pymysql://root@127.0.0.1:3306/test")
    assert attach_statements(mysql) == [
        "CREATE OR REPLACE TEMPORARY SECRET src_secret (TYPE mysql, HOST '127.0.0.1', PORT 3306, USER 'root', "
        "PASSWORD '', DATABASE 'test')",
        "ATTACH '' AS src (TYPE mysql, SECRET src_secret, READ_ONLY)",
    ]


def test_copying_a_sqlite_file_leaves_the_servers_writes_visible_to_other_processes(tmp_path: Path) -> None:
    """DuckDB's SQLite library, once in this process, released our locks and removed the WAL from under our
    connections: a write after it was seen by this process only, and a generation worker lost its run."""
    database = tmp_path / "shop.db"
    with scratch_store(f"sqlite:///{database.as_posix()}") as store:
        generate(store, rows=100, seed=5)
        replica = Replica(store.engine, tmp_path / "copies")
        copied = SqlStore(store.engine, replica)
        try:
            for city in ("Utrecht", "Leiden"):
                asked(copied)  # the copy reads the file (built, then brought up to date)
                with copied.transaction() as connection:
                    connection.execute(update(customers).where(customers.c.id == 1).values(city=city))
                seen = subprocess.run(
                    [sys.executable, "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
                     "'SELECT city FROM customers WHERE id = 1').fetchone()[0])", str(database)],
                    capture_output=True, text=True, timeout=60, check=True,
                )  # fmt: skip
                assert seen.stdout.strip() == city
        finally:
            replica.close()


def test_a_copy_laid_out_by_another_version_is_made_again(copied: SqlStore) -> None:
    assert copied.replica is not None and copied.replica.engine is None  # opened at the first question
    generate(copied, rows=200, seed=5)
    asked(copied)
    with copied.replica.engine.connect() as connection:  # type: ignore[union-attr]
        connection.exec_driver_sql("UPDATE replica_state SET value = '1' WHERE key = 'layout'")
        connection.exec_driver_sql("ALTER TABLE orders DROP COLUMN method")
        connection.commit()
    again = Replica(copied.engine, copied.replica.folder)
    try:
        assert asked(SqlStore(copied.engine, again)) == (*counted(copied), "duckdb")
    finally:
        again.close()


def test_a_large_database_is_answered_by_itself_while_its_copy_is_made_in_the_background(
    database: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate(database, rows=300, seed=5)
    monkeypatch.setattr(replica_module, "INLINE_BUILD_ORDERS", 0)  # every database counts as large
    replica = Replica(database.engine, tmp_path / "copies")
    store = SqlStore(database.engine, replica)
    try:
        assert asked(store) == (*counted(store), database.engine.dialect.name)
        assert replica._building is not None
        replica._building.join(timeout=120)
        assert asked(store) == (*counted(store), "duckdb")
    finally:
        replica.close()
