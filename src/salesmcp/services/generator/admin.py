"""Emptying the database, describing it, and the secondary indexes a large load builds afterwards."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field
from sqlalchemy import func, select, text

from salesmcp.services.generator.runs import RunOut, active_run, busy, latest_run, run_out
from salesmcp.store.schema import TABLES_CHILD_FIRST, generation_runs, metadata
from salesmcp.store.sql_store import SqlStore

DATA_TABLES = ("products", "customers", "orders", "order_items", "payments", "shipments")
ORDER_TABLE_NAMES = ("orders", "order_items", "payments", "shipments")


class Summary(BaseModel):
    counts: dict[str, int] = Field(description="rows per table")
    last_window: dict[str, dt.date] | None = Field(description="start_date and end_date of the last finished run")
    last_run: RunOut | None = Field(description="the newest run, whatever its state")


def table_counts(store: SqlStore) -> dict[str, int]:
    tables = {table.name: table for table in metadata.sorted_tables}
    with store.reading() as connection:
        return {name: int(connection.execute(select(func.count()).select_from(tables[name])).scalar_one())
                for name in (*DATA_TABLES, "generation_runs")}  # fmt: skip


def summary(store: SqlStore) -> Summary:
    counts = table_counts(store)
    with store.reading() as connection:
        last = latest_run(connection)
        done = connection.execute(
            select(generation_runs.c.start_date, generation_runs.c.end_date)
            .where(generation_runs.c.status == "done").order_by(generation_runs.c.id.desc()).limit(1)
        ).first()  # fmt: skip
    window = {"start_date": done.start_date, "end_date": done.end_date} if done else None
    return Summary(counts=counts, last_window=window, last_run=run_out(last) if last else None)


def reset(store: SqlStore) -> dict[str, int]:
    """Empty every table in foreign-key-safe order and restart the id sequences; the schema stays.

    Refused (Conflict) while a generation is running. Returns the counts after the reset.
    """
    with store.transaction() as connection:
        running = active_run(connection)
        if running is not None:
            raise busy(running)
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
    create_order_indexes(store)  # a run that stopped while they were deferred left them out
    return table_counts(store)


def _order_indexes():
    tables = {table.name: table for table in metadata.sorted_tables}
    return [index for name in ORDER_TABLE_NAMES for index in sorted(tables[name].indexes, key=lambda i: i.name)]


def _order_foreign_keys():
    """The order tables' foreign keys. PostgreSQL checks each row's with a row lock on the parent (a
    product is locked by thousands of lines); InnoDB keeps an index for each. A large load drops them
    with the secondary indexes and adds them afterwards: PostgreSQL validates every row in one pass,
    MySQL/MariaDB adds them unchecked and the run checks its references itself (worker.finish)."""
    tables = {table.name: table for table in metadata.sorted_tables}
    return [
        fk for name in ORDER_TABLE_NAMES for fk in sorted(tables[name].foreign_key_constraints, key=lambda c: c.name)
    ]


def _existing_foreign_keys(connection) -> set[str]:
    from sqlalchemy import inspect

    inspector = inspect(connection)
    return {fk["name"] for name in ORDER_TABLE_NAMES for fk in inspector.get_foreign_keys(name)}


def drop_order_indexes(store: SqlStore) -> None:
    """Before a large load: drop the order tables' foreign keys and secondary indexes."""
    with store.transaction() as connection:
        drop = "DROP FOREIGN KEY" if connection.dialect.name == "mysql" else "DROP CONSTRAINT"
        if connection.dialect.name in ("postgresql", "mysql"):
            existing = _existing_foreign_keys(connection)
            for fk in _order_foreign_keys():
                if fk.name in existing:
                    connection.execute(text(f"ALTER TABLE {fk.table.name} {drop} {fk.name}"))
        for index in _order_indexes():
            index.drop(connection, checkfirst=True)


def create_order_indexes(store: SqlStore, beat=lambda: None) -> None:
    """Build whatever of the order tables' indexes and foreign keys is missing (idempotent)."""
    for index in _order_indexes():
        with store.transaction() as connection:
            index.create(connection, checkfirst=True)
        beat()
    dialect = store.engine.dialect.name
    if dialect not in ("postgresql", "mysql"):
        return  # SQLite's foreign keys are part of the table: never dropped
    with store.transaction() as connection:
        existing = _existing_foreign_keys(connection)
    for fk in _order_foreign_keys():
        if fk.name in existing:
            continue
        element = next(iter(fk.elements))
        with store.transaction() as connection:
            if dialect == "mysql":
                connection.execute(text("SET SESSION foreign_key_checks = 0"))  # added as is, checked by the run
            connection.execute(text(
                f"ALTER TABLE {fk.table.name} ADD CONSTRAINT {fk.name} FOREIGN KEY ({element.parent.name}) "
                f"REFERENCES {element.column.table.name} ({element.column.name})"
            ))  # fmt: skip
            if dialect == "mysql":
                connection.execute(text("SET SESSION foreign_key_checks = 1"))
        beat()


def analyze(store: SqlStore) -> None:
    """Fresh planner statistics after a large load."""
    dialect = store.engine.dialect.name
    with store.transaction() as connection:
        if dialect == "sqlite":
            connection.execute(text("PRAGMA analysis_limit = 1000"))  # sampled: seconds saved on millions of rows
            connection.execute(text("ANALYZE"))
        elif dialect == "postgresql":
            connection.execute(text(f"ANALYZE {', '.join(DATA_TABLES)}"))
        else:
            connection.execute(text(f"ANALYZE TABLE {', '.join(DATA_TABLES)}"))
