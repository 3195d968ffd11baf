"""Alembic migrations: repeatable, and the migrated schema is exactly ``salesmcp.store.schema``."""

import os
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select

from salesmcp.store.database import MIGRATIONS, create_db_engine, migrate, seed_demo_data
from salesmcp.store.schema import customers, include_object, metadata, orders
from tests.conftest import MARIADB_ADMIN_URL, POSTGRES_ADMIN_URL, _scratch_database


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


@pytest.mark.parametrize("server", ["postgresql", "mariadb"])
def test_replicas_starting_together_on_a_new_database_migrate_it_once(server):
    """Three `salesmcp migrate` at once on an empty database: all succeed, the demo data goes in once."""
    admin = {"postgresql": POSTGRES_ADMIN_URL, "mariadb": MARIADB_ADMIN_URL}[server]
    scratch = _scratch_database(admin, f"salesmcp_migrate_{os.getpid()}", server)
    url = next(scratch)
    try:
        env = {**os.environ, "DATABASE_URL": url}
        command = [sys.executable, "-m", "salesmcp", "migrate"]
        replicas = [subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) for _ in range(3)]
        errors = [replica.communicate(timeout=120)[1] for replica in replicas]
        assert [replica.returncode for replica in replicas] == [0, 0, 0], errors
        engine = create_db_engine(url)
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(customers)).scalar_one() == 10
        engine.dispose()
    finally:
        scratch.close()
