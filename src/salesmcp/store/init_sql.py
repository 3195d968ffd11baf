"""``db/init.sql`` (seed 002: "DDL + seed"): the schema and the demo data as plain MySQL/MariaDB SQL.

The script is made from the same tables the migrations are checked against, and it stamps
``alembic_version`` with the newest revision, so a server started on a database made by it finds
the schema current and creates nothing again. The demo data is what the server puts in a database
it creates (``seed_demo_data``), so both ways give the same database. Regenerate it after any
schema change with::

    python -m salesmcp.store.init_sql -o db/init.sql
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, create_mock_engine, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateIndex, CreateTable, ExecutableDDLElement

from salesmcp.store.database import MIGRATIONS, open_engine
from salesmcp.store.schema import metadata

REGENERATE = "python -m salesmcp.store.init_sql -o db/init.sql"
DIALECTS = ("mysql", "mariadb")
TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
# Alembic's own bookkeeping table, as alembic.runtime.migration.MigrationContext defines it.
_ALEMBIC_VERSION = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)
_LEADING_TAB = re.compile(r"^\t")
_CREATE_INDEX = re.compile(r"CREATE (UNIQUE )?INDEX (\S+) ON \S+ (\(.*\))", re.DOTALL)


def head_revision() -> str:
    """The newest Alembic revision in ``salesmcp/migrations``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:
        raise RuntimeError(f"no Alembic revision in {MIGRATIONS}")
    return head


def init_sql(dialect: str = "mysql", demo_data: bool = True) -> str:
    """SQL that creates every table of the schema at the newest revision (and the demo data), for MySQL/MariaDB.

    Indexes are declared inside their ``CREATE TABLE IF NOT EXISTS`` and rows are ``INSERT IGNORE``d,
    so running the script on a database that has them already changes nothing (MySQL has no
    ``CREATE INDEX IF NOT EXISTS``).
    """
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}; got {dialect!r}")
    emitted: list[ExecutableDDLElement] = []
    engine = create_mock_engine("mysql+pymysql://", lambda element, *_args, **_kw: emitted.append(element))
    metadata.create_all(engine, checkfirst=False)  # honours each index's ddl_if, in dependency order

    def compiled(element: ExecutableDDLElement) -> str:
        return str(element.compile(dialect=engine.dialect)).strip()

    indexes: dict[str, list[tuple[str, str]]] = {}
    for element in emitted:
        if isinstance(element, CreateIndex):
            match = _CREATE_INDEX.fullmatch(compiled(element))
            if match is None:
                raise ValueError(f"cannot declare this index inside CREATE TABLE: {compiled(element)}")
            unique, name, columns = match.groups()
            indexed = element.element.table
            assert indexed is not None  # every index of the metadata belongs to a table
            indexes.setdefault(indexed.name, []).append((name, f"{unique or ''}INDEX {name} {columns}"))

    statements = []
    for element in [*emitted, CreateTable(_ALEMBIC_VERSION)]:
        if isinstance(element, CreateTable):
            table = element.element
            body = compiled(CreateTable(table, if_not_exists=True))
            assert body.endswith("\n)"), body
            # sorted: a Table keeps its indexes in a set, so their emitted order varies from run to run
            inline = "".join(f", \n\t{index}" for _name, index in sorted(indexes.get(table.name, [])))
            statements.append(f"{body[:-2]}{inline}\n) {TABLE_OPTIONS}")
    if demo_data:
        statements.extend(_demo_data_inserts(engine.dialect))
    head = head_revision()
    statements.append(
        "INSERT INTO alembic_version (version_num)\n"
        f"SELECT '{head}' FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM alembic_version)"
    )
    header = (
        f"-- salesmcp schema for MySQL 8 / MariaDB, at Alembic revision {head}.\n"
        "-- Generated from salesmcp.store.schema; do not edit. After a schema change run:\n"
        f"--   {REGENERATE}\n"
        "-- For a new, empty database (docker compose runs it at MySQL's first start): it gives the\n"
        "-- database the server makes itself, with the demo data; tables and rows that exist are left\n"
        "-- alone. The server upgrades an older schema itself (salesmcp migrate).\n"
    )
    script = header + "\nSET NAMES utf8mb4;\n\n" + ";\n\n".join(statements) + ";\n"
    return "\n".join(_LEADING_TAB.sub("    ", line.rstrip()) for line in script.split("\n"))


def _demo_data_inserts(dialect: Dialect) -> list[str]:
    """``INSERT IGNORE`` statements for the rows ``seed_demo_data`` puts in a new database.

    Columns that default to the current time are left to that default: the file must not change
    with the day it was generated.
    """
    engine = open_engine("sqlite://")  # in memory: migrated and seeded exactly as the server does it
    statements = []
    try:
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                columns = [column for column in table.columns if not _defaults_to_now(column)]
                rows = connection.execute(select(*columns).order_by(*table.primary_key.columns)).mappings().all()
                if not rows:
                    continue
                literal = {"literal_binds": True}
                values = [str(insert(table).values(dict(row)).compile(dialect=dialect, compile_kwargs=literal))
                          for row in rows]  # fmt: skip
                into, _, _ = values[0].partition(" VALUES ")
                tuples = ",\n    ".join(value.partition(" VALUES ")[2] for value in values)
                statements.append(f"{into.replace('INSERT INTO', 'INSERT IGNORE INTO', 1)} VALUES\n    {tuples}")
    finally:
        engine.dispose()
    return statements


def _defaults_to_now(column: Column) -> bool:
    default = getattr(column.server_default, "arg", None)
    return default is not None and "current_timestamp" in str(default).lower()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m salesmcp.store.init_sql", description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, help="write to this file (UTF-8) instead of stdout")
    parser.add_argument("--dialect", choices=DIALECTS, default="mysql")
    parser.add_argument("--no-demo-data", action="store_true", help="the schema only, without the demo data")
    args = parser.parse_args(argv)
    text = init_sql(args.dialect, demo_data=not args.no_demo_data)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8", newline="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
