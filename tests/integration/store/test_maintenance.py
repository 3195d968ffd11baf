"""The order tables' DDL before and after a large load: idempotent, and tried again when the database ends it
to break a deadlock (a reader such as the columnar copy's sync holding the same tables in another order)."""

import pytest
from sqlalchemy import Connection, inspect, text

from salesmcp.errors import Unavailable
from salesmcp.store.database import open_engine
from salesmcp.store.maintenance import DDL_ATTEMPTS, create_order_indexes, ddl, drop_order_indexes
from salesmcp.store.sql_store import SqlStore
from tests.conftest import emptied_database

# PostgreSQL's own deadlock error, raised on purpose: what the database sends the transaction it chose to end.
DEADLOCK = "DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected'; END $$"


@pytest.fixture
def store(request: pytest.FixtureRequest):
    store = SqlStore(open_engine(emptied_database(request, "postgresql", demo_data=True)))
    yield store
    create_order_indexes(store)
    store.close()


def index_names(store: SqlStore) -> set[str]:
    with store.engine.connect() as connection:
        return {index["name"] for index in inspect(connection).get_indexes("orders")}


def test_ddl_that_lost_a_deadlock_is_tried_again_and_done(store: SqlStore) -> None:
    calls = []

    def drop_index_after_a_deadlock(connection: Connection) -> None:
        calls.append(1)
        if len(calls) == 1:
            connection.execute(text(DEADLOCK))
        connection.execute(text("DROP INDEX IF EXISTS ix_orders_order_date_id"))

    assert "ix_orders_order_date_id" in index_names(store)
    ddl(store, drop_index_after_a_deadlock)
    assert len(calls) == 2 and "ix_orders_order_date_id" not in index_names(store)


def test_ddl_gives_up_after_its_attempts_and_other_errors_at_once(store: SqlStore) -> None:
    calls = []

    def always(connection: Connection) -> None:
        calls.append(1)
        connection.execute(text(DEADLOCK))

    with pytest.raises(Unavailable, match="deadlock detected"):  # a 503: try again later
        ddl(store, always)
    assert len(calls) == DDL_ATTEMPTS
    calls.clear()
    with pytest.raises(Exception, match="no_such_table"):
        ddl(store, lambda connection: calls.append(connection.execute(text("DROP TABLE no_such_table"))))
    assert len(calls) == 0


def test_dropping_and_building_the_order_indexes_twice_is_harmless(store: SqlStore) -> None:
    before = index_names(store)
    drop_order_indexes(store)
    drop_order_indexes(store)
    assert index_names(store) < before
    create_order_indexes(store)
    create_order_indexes(store)
    assert index_names(store) == before


def _order_tables_keys(store: SqlStore) -> dict[str, object]:
    """Every index (name, columns, unique) and foreign key (name, column, target) of the order tables."""
    keys: dict[str, object] = {}
    with store.engine.connect() as connection:
        inspector = inspect(connection)
        for name in ("orders", "order_items", "payments", "shipments", "returns"):
            keys[name] = (
                sorted((ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
                       for ix in inspector.get_indexes(name)),
                sorted((fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"])
                       for fk in inspector.get_foreign_keys(name)),
            )  # fmt: skip
    return keys


@pytest.mark.parametrize("server", ["mariadb", "postgresql"])
def test_the_order_tables_get_back_exactly_their_indexes_and_foreign_keys(request, server) -> None:
    store = SqlStore(open_engine(emptied_database(request, server, demo_data=False)))
    try:
        before = _order_tables_keys(store)
        assert all(indexes and foreign_keys for indexes, foreign_keys in before.values())  # type: ignore[misc]
        drop_order_indexes(store)
        dropped = _order_tables_keys(store)
        assert all(not foreign_keys for _, foreign_keys in dropped.values())  # type: ignore[misc]
        create_order_indexes(store)
        assert _order_tables_keys(store) == before
    finally:
        create_order_indexes(store)
        store.close()


def _unvalidated(store: SqlStore) -> list[str]:
    with store.engine.connect() as connection:
        return list(connection.execute(text(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' AND NOT convalidated AND conrelid = ANY("
            "ARRAY['orders', 'order_items', 'payments', 'shipments', 'returns']::regclass[])"
        )).scalars())  # fmt: skip


def test_postgresqls_foreign_keys_come_back_validated_even_one_a_stopped_run_left_unchecked(store: SqlStore) -> None:
    drop_order_indexes(store)
    with store.engine.begin() as connection:  # as a run stopped between adding and validating leaves it
        connection.execute(text("ALTER TABLE payments ADD CONSTRAINT fk_payments_order_id_orders "
                                "FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID"))  # fmt: skip
    assert _unvalidated(store) == ["fk_payments_order_id_orders"]
    create_order_indexes(store)
    assert _unvalidated(store) == []


def test_a_row_whose_parent_is_missing_stops_the_foreign_keys_from_being_validated(store: SqlStore) -> None:
    drop_order_indexes(store)
    with store.engine.begin() as connection:
        connection.execute(text("INSERT INTO payments (id, order_id, method, amount, currency, paid_at, txn_ref) "
                                "VALUES (999999, 888888, 'iDEAL', 1.00, 'EUR', '2025-01-01', 'T-orphan')"))  # fmt: skip
    try:
        with pytest.raises(Exception, match="fk_payments_order_id_orders|violates foreign key"):
            create_order_indexes(store)
    finally:
        with store.engine.begin() as connection:
            connection.execute(text("DELETE FROM payments WHERE id = 999999"))
