"""Database upkeep behind the data: emptying every table, the order tables' secondary indexes and foreign
keys (dropped before a large load, built after), planner statistics, and serial sequences."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import Connection, ForeignKeyConstraint, Index, Table, text
from sqlalchemy.exc import DBAPIError

from salesmcp.store.schema import TABLES_CHILD_FIRST, metadata

if TYPE_CHECKING:  # the store opens engines with store.database, which seeds through advance_sequences here
    from salesmcp.store.sql_store import SqlStore

DATA_TABLES = ("products", "customers", "orders", "order_items", "payments", "shipments", "returns")
ORDER_TABLE_NAMES = ("orders", "order_items", "payments", "shipments", "returns")


def empty_tables(store: SqlStore) -> None:
    """Delete every row of every table in foreign-key-safe order and restart the id sequences."""
    names = [table.name for table in TABLES_CHILD_FIRST]
    dialect = store.engine.dialect.name
    with store.transaction() as connection:
        if dialect == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        elif dialect == "mysql":
            connection.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
            try:
                for name in names:
                    connection.execute(text(f"TRUNCATE TABLE {name}"))  # also restarts AUTO_INCREMENT
            finally:
                connection.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
        else:
            for table in TABLES_CHILD_FIRST:
                connection.execute(table.delete())
            if connection.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first():
                connection.execute(text("DELETE FROM sqlite_sequence"))


def advance_sequences(connection: Connection, tables: tuple[str, ...] = DATA_TABLES) -> None:
    """PostgreSQL's serials do not follow explicitly inserted ids: move each past the table's largest id."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        connection.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                 f"GREATEST((SELECT max(id) FROM {table}), 1))")
        )  # fmt: skip


def _order_indexes() -> list[Index]:
    tables = {table.name: table for table in metadata.sorted_tables}
    return [index for name in ORDER_TABLE_NAMES for index in sorted(tables[name].indexes, key=lambda i: str(i.name))]


def _order_foreign_keys() -> list[ForeignKeyConstraint]:
    """The order tables' foreign keys. PostgreSQL checks each row's with a row lock on the parent (a
    product is locked by thousands of lines); InnoDB keeps an index for each. A large load drops them
    with the secondary indexes and adds them afterwards: PostgreSQL validates every row in one pass,
    MySQL/MariaDB adds them unchecked and the run checks its references itself (worker.finish)."""
    tables = {table.name: table for table in metadata.sorted_tables}
    return [
        fk
        for name in ORDER_TABLE_NAMES
        for fk in sorted(tables[name].foreign_key_constraints, key=lambda c: str(c.name))
    ]


def _existing_foreign_keys(connection: Connection) -> set[str]:
    from sqlalchemy import inspect

    inspector = inspect(connection)
    return {fk["name"] for name in ORDER_TABLE_NAMES for fk in inspector.get_foreign_keys(name) if fk["name"]}


DDL_ATTEMPTS = 5


def is_deadlock(exc: DBAPIError) -> bool:
    """A transaction the database chose to end so that another could go on (a deadlock, a lock not granted)."""
    orig = exc.orig
    code = orig.args[0] if orig is not None and orig.args and isinstance(orig.args[0], int) else None
    return getattr(orig, "sqlstate", None) in ("40P01", "40001", "55P03") or code in (1213, 1205)


def ddl(store: SqlStore, work: Callable[[Connection], None]) -> None:
    """Run idempotent DDL ``work`` in one transaction, again when it lost a deadlock: DDL locks tables in its own
    order, and a reader holding them in another (the metrics' columnar copy reading every table in one snapshot)
    makes the database end one of the two."""
    for attempt in range(1, DDL_ATTEMPTS + 1):
        try:
            with store.engine.begin() as connection:
                work(connection)
            return
        except DBAPIError as exc:
            if attempt == DDL_ATTEMPTS or not is_deadlock(exc):
                with store.errors():
                    raise
            time.sleep(0.2 * attempt)


def drop_order_indexes(store: SqlStore) -> None:
    """Before a large load: drop the order tables' foreign keys and secondary indexes."""

    def drop_them(connection: Connection) -> None:
        drop = "DROP FOREIGN KEY" if connection.dialect.name == "mysql" else "DROP CONSTRAINT"
        if connection.dialect.name in ("postgresql", "mysql"):
            existing = _existing_foreign_keys(connection)
            for fk in _order_foreign_keys():
                if fk.name in existing:
                    connection.execute(text(f"ALTER TABLE {fk.table.name} {drop} {fk.name}"))
        for index in _order_indexes():
            index.drop(connection, checkfirst=True)

    ddl(store, drop_them)


def create_order_indexes(store: SqlStore, beat: Callable[[], None] = lambda: None) -> None:
    """Build whatever of the order tables' indexes and foreign keys is missing (idempotent).

    PostgreSQL: each table's indexes in one transaction, two tables at a time; then the foreign keys added
    ``NOT VALID`` in one short transaction and validated two at a time (``ADD CONSTRAINT`` validating as it adds
    locks the parent table too, so two at once would wait on each other). SQLite: one index at a time.
    """
    if store.engine.dialect.name == "mysql":
        _create_mysql_order_indexes(store, beat)
        return
    if store.engine.dialect.name != "postgresql":  # SQLite: one writer
        for index in _order_indexes():
            ddl(store, partial(_build, indexes=[index]))
            beat()
        return  # SQLite's foreign keys are part of the table: never dropped
    by_table: dict[object, list[Index]] = {}
    for index in _order_indexes():
        by_table.setdefault(index.table, []).append(index)
    _side_by_side(store, [partial(_build, indexes=indexes) for indexes in by_table.values()], beat)
    with store.transaction() as connection:
        existing = _existing_foreign_keys(connection)
    missing = [fk for fk in _order_foreign_keys() if fk.name not in existing]

    def add_unchecked(connection: Connection) -> None:
        for fk in missing:
            connection.execute(text(f"ALTER TABLE {fk.table.name} {_adding(fk)} NOT VALID"))

    if missing:
        ddl(store, add_unchecked)
    # Every one validated (a no-op for one already valid, such as one a finished run left): each scan holds only
    # its own table, so two run at once; the constraints end exactly as ADD CONSTRAINT leaves them.
    _side_by_side(store, [partial(_validate, fk=fk) for fk in _order_foreign_keys()], beat)


def _adding(fk: ForeignKeyConstraint) -> str:
    element = next(iter(fk.elements))
    return (f"ADD CONSTRAINT {fk.name} FOREIGN KEY ({element.parent.name}) "
            f"REFERENCES {element.column.table.name} ({element.column.name})")  # fmt: skip


def _validate(connection: Connection, fk: ForeignKeyConstraint) -> None:
    assert fk.table is not None
    connection.execute(text(f"ALTER TABLE {fk.table.name} VALIDATE CONSTRAINT {fk.name}"))


def _create_mysql_order_indexes(store: SqlStore, beat: Callable[[], None]) -> None:
    """MySQL/MariaDB: each table's missing indexes and foreign keys in one ALTER TABLE, so InnoDB reads the table
    once for all of them (an ALTER each reads it once each); the foreign keys added unchecked (the run checks its
    references itself, see worker.finish)."""
    from sqlalchemy import inspect

    tables = {table.name: table for table in metadata.sorted_tables}
    works = []
    for name in ORDER_TABLE_NAMES:
        table = tables[name]

        def add(connection: Connection, table: Table = table) -> None:
            inspector = inspect(connection)
            indexes = {index["name"] for index in inspector.get_indexes(table.name)}
            foreign_keys = {fk["name"] for fk in inspector.get_foreign_keys(table.name)}
            parts = [
                f"ADD {'UNIQUE ' if index.unique else ''}INDEX {index.name} "
                f"({', '.join(column.name for column in index.columns)})"
                for index in sorted(table.indexes, key=lambda i: str(i.name))
                if index.name not in indexes
            ]
            parts += [_adding(fk) for fk in sorted(table.foreign_key_constraints, key=lambda c: str(c.name))
                      if fk.name not in foreign_keys]  # fmt: skip
            if not parts:
                return
            connection.execute(text("SET SESSION foreign_key_checks = 0"))
            try:
                connection.execute(text(f"ALTER TABLE {table.name} {', '.join(parts)}"))
            finally:
                connection.execute(text("SET SESSION foreign_key_checks = 1"))

        works.append(add)
    _side_by_side(store, works, beat)


BUILD_LANES = 2  # index builds at a time: a table's build is mostly one server thread


def _analyze(connection: Connection, table: str) -> None:
    connection.execute(text(f"ANALYZE {table}"))


def _build(connection: Connection, indexes: list[Index]) -> None:
    for index in indexes:
        index.create(connection, checkfirst=True)


def _side_by_side(store: SqlStore, works: Sequence[Callable[[Connection], None]], beat: Callable[[], None]) -> None:
    """Run each of ``works`` (DDL on a table of its own) with ``ddl``, ``BUILD_LANES`` at a time on their own
    connections, in the order given; ``beat`` after each. Two tables' builds use two of the server's cores."""
    with ThreadPoolExecutor(BUILD_LANES, thread_name_prefix="salesmcp-index") as pool:
        for done in as_completed([pool.submit(ddl, store, work) for work in works]):
            done.result()
            beat()


def analyze(store: SqlStore) -> None:
    """Fresh planner statistics after a large load."""
    dialect = store.engine.dialect.name
    if dialect == "postgresql":  # a table at a time, two at once (each samples its table on its own)
        _side_by_side(store, [partial(_analyze, table=table) for table in ORDER_TABLE_NAMES], lambda: None)
        with store.transaction() as connection:
            _analyze(connection, ", ".join(name for name in DATA_TABLES if name not in ORDER_TABLE_NAMES))
        return
    with store.transaction() as connection:
        if dialect == "sqlite":
            connection.execute(text("PRAGMA analysis_limit = 1000"))  # sampled: seconds saved on millions of rows
            connection.execute(text("ANALYZE"))
        else:
            connection.execute(text(f"ANALYZE TABLE {', '.join(DATA_TABLES)}"))
