"""Alembic migrations: repeatable, and the migrated schema is exactly ``salesmcp.store.schema``."""

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select

from salesmcp.store.database import MIGRATIONS, migrate, seed_demo_data
from salesmcp.store.schema import customers, include_object, metadata, orders


def snapshot(engine):
    """Every customer and order row, in id order."""
    with engine.connect() as connection:
        return [connection.execute(select(table).order_by(table.c.id)).all() for table in (customers, orders)]


def counts(engine):
    with engine.connect() as connection:
        return tuple(
            connection.execute(select(func.count()).select_from(table)).scalar_one() for table in (customers, orders)
        )


def test_migrating_again_changes_nothing(sql_store):
    engine = sql_store.engine
    before = snapshot(engine)
    migrate(engine)
    migrate(engine)
    assert seed_demo_data(engine) is False
    assert counts(engine) == (10, 12)
    assert snapshot(engine) == before


def test_the_database_is_at_the_newest_revision(sql_store):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    with sql_store.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head


def test_the_migrated_schema_matches_the_schema_module(sql_store):
    with sql_store.engine.connect() as connection:
        opts = {"compare_type": True, "include_object": include_object(connection.dialect.name)}
        context = MigrationContext.configure(connection, opts=opts)
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_check_constraints_have_the_names_of_the_schema_module(sql_store):
    names = {
        check["name"]
        for table in ("customers", "orders")
        for check in inspect(sql_store.engine).get_check_constraints(table)
    }
    assert {"ck_customers_status", "ck_orders_status"} <= names
