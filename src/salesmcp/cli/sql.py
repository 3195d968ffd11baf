"""``salesmcp sql``: the read-only SQL tool from a terminal, the same guard and answer as POST /sql."""

from __future__ import annotations

import csv
import json
import sys
from typing import Any

import click

from salesmcp.cli._common import main_database_option, settings_from, start_logging

FORMATS = ("table", "json", "csv")


@click.command("sql")
@click.argument("statement", metavar="SQL")
@click.option("--limit", type=int, help="Rows to show (default 100, at most SQL_MAX_ROWS).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@main_database_option
def sql(statement: str, limit: int | None, fmt: str, database_url: str | None) -> None:
    """Run one read-only SQL query (SELECT, WITH … SELECT, UNION, VALUES) on the database, guarded as the
    run_sql tool is (docs/sql.md): --format json prints exactly what POST /sql answers. With --database-url
    the query reads that database (READ_DATABASE_URL is for the configured one)."""
    from salesmcp.services.sql import run_sql
    from salesmcp.store.read_only import ReadOnlyDatabase
    from salesmcp.store.sql_store import open_store

    settings = settings_from(database_url=database_url, analytics_engine="database")
    if not settings.sql_tool:
        raise click.UsageError("the SQL tool is switched off (SQL_TOOL=false)")
    start_logging(settings)
    store = open_store(settings)
    if database_url:
        store.read_only = ReadOnlyDatabase(settings.resolved_database_url, settings.sql_timeout)
    try:
        answer = run_sql(store.read_only, statement, limit, settings.sql_max_rows)
    finally:
        store.close()
    _print(answer, fmt)


def _print(answer: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(answer, ensure_ascii=False))
        return
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(answer["columns"])
        writer.writerows(answer["rows"])
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*answer["columns"], caption=f"{answer['row_count']} rows, {answer['elapsed_ms']} ms")
        for row in answer["rows"]:
            table.add_row(*("NULL" if value is None else str(value) for value in row))
        Console().print(table)
    if answer.get("note"):
        click.echo(answer["note"], err=True)
