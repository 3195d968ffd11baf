"""db/init.sql (seed 002) is generated from the schema and gives exactly the migrated database."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from salesmcp.store.database import open_engine
from salesmcp.store.init_sql import REGENERATE, head_revision, init_sql
from salesmcp.store.init_sql import main as ddl_main
from salesmcp.store.schema import customers, include_object, metadata
from tests.conftest import MARIADB_ADMIN_URL, ROOT, _scratch_database

INIT_SQL = ROOT / "db" / "init.sql"
CLIENT_TIMEOUT = 60


def test_the_committed_init_sql_is_the_one_the_schema_generates():
    committed = INIT_SQL.read_text(encoding="utf-8")  # universal newlines: a CRLF checkout compares equal
    assert committed == init_sql(), f"db/init.sql is out of date with salesmcp.store.schema: run `{REGENERATE}`"


def test_init_sql_stamps_the_newest_migration():
    assert f"SELECT '{head_revision()}' FROM DUAL" in init_sql()


def test_the_module_prints_the_script_or_writes_it_to_a_file(tmp_path, capsys):
    assert ddl_main([]) == 0
    assert capsys.readouterr().out == init_sql()
    assert ddl_main(["-o", str(tmp_path / "db" / "init.sql"), "--no-demo-data"]) == 0
    written = (tmp_path / "db" / "init.sql").read_bytes().decode("utf-8")
    assert written == init_sql(demo_data=False) and "\r\n" not in written and "INSERT IGNORE" not in written


def run_script(url: str) -> None:
    """Run db/init.sql on ``url`` the way seed 002 does: ``mysql -u … database < db/init.sql``."""
    client = shutil.which("mariadb") or shutil.which("mysql")
    if client is None:  # no client here: the same statements through PyMySQL
        engine = create_engine(url)
        with engine.begin() as connection:
            for statement in INIT_SQL.read_text(encoding="utf-8").split(";\n"):
                if statement.strip() and not statement.lstrip().startswith("--"):
                    connection.exec_driver_sql(statement)
        engine.dispose()
        return
    parsed = make_url(url)
    command = [client, "-h", parsed.host or "127.0.0.1", "-P", str(parsed.port or 3306),
               "-u", parsed.username or "root", parsed.database]  # fmt: skip
    env = {**os.environ, "MYSQL_PWD": parsed.password or ""}
    with INIT_SQL.open("rb") as script:
        result = subprocess.run(command, stdin=script, capture_output=True, env=env, timeout=CLIENT_TIMEOUT)
    assert result.returncode == 0, result.stderr.decode(errors="replace")


def schema_of(url: str) -> dict[str, list[str]]:
    """SHOW CREATE TABLE of every table, with the index lines sorted (their order is physical, not meaning)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = sorted(connection.execute(text("SHOW TABLES")).scalars())
            shown = {table: connection.execute(text(f"SHOW CREATE TABLE `{table}`")).one()[1] for table in tables}
    finally:
        engine.dispose()
    normalised = {}
    for table, ddl in shown.items():
        lines = [line.strip().rstrip(",") for line in re.sub(r" AUTO_INCREMENT=\d+", "", ddl).splitlines()]
        keys = sorted(line for line in lines if re.match(r"(UNIQUE )?KEY ", line))
        normalised[table] = [line for line in lines if line not in keys] + keys
    return normalised


@pytest.fixture
def scratch_mariadb_urls() -> Iterator[tuple[str, str]]:
    """Two fresh MariaDB databases: (for init.sql, for the migrations)."""
    name = f"salesmcp_init_{os.getpid()}"
    by_script = _scratch_database(MARIADB_ADMIN_URL, f"{name}_script", "MariaDB")
    by_migration = _scratch_database(MARIADB_ADMIN_URL, f"{name}_migrated", "MariaDB")
    try:
        yield next(by_script), next(by_migration)
    finally:
        for scratch in (by_script, by_migration):
            scratch.close()  # runs each generator's DROP DATABASE


def rows_of(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in id order, but the columns that default to the time of insertion."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: connection.execute(select(*columns).order_by(*table.primary_key.columns)).all()
                for table in metadata.sorted_tables
                for columns in [[c for c in table.columns if c.name not in ("created_at", "updated_at", "started_at")]]
            }
    finally:
        engine.dispose()


def test_init_sql_on_a_fresh_mariadb_gives_the_database_the_server_makes(scratch_mariadb_urls):
    script_url, migrated_url = scratch_mariadb_urls
    run_script(script_url)
    open_engine(migrated_url).dispose()  # the schema by the migrations, and the demo data

    assert schema_of(script_url) == schema_of(migrated_url)
    assert rows_of(script_url) == rows_of(migrated_url)
    engine = create_engine(script_url)
    with engine.connect() as connection:
        opts = {"compare_type": True, "include_object": include_object(connection.dialect.name)}
        differences = compare_metadata(MigrationContext.configure(connection, opts=opts), metadata)
        revision = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    assert differences == []
    assert revision == head_revision()


def test_the_server_opens_a_database_made_by_init_sql_and_running_it_again_changes_nothing(scratch_mariadb_urls):
    url, _ = scratch_mariadb_urls
    run_script(url)
    engine = open_engine(url)  # finds the schema current: creates nothing
    try:
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(customers)).scalar_one() == 10
            assert MigrationContext.configure(connection).get_current_revision() == head_revision()
        before = schema_of(url), rows_of(url)
        run_script(url)
        assert (schema_of(url), rows_of(url)) == before
    finally:
        engine.dispose()
