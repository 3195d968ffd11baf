"""The read-only SQL tool over MCP: ``run_sql`` and ``describe_schema`` (SQL_TOOL=false leaves them out).

(No ``from __future__ import annotations``: the arguments' descriptions name this server's dialect and limits,
which the SDK must read when the tools are declared.)"""

from typing import Annotated, Any

from mcp.types import CallToolResult, TextContent
from pydantic import Field

from salesmcp.config import Settings
from salesmcp.mcp.base import READS_DATA, SalesMCPServer
from salesmcp.scopes import READ
from salesmcp.services.sql import describe_schema as describe_service
from salesmcp.services.sql import run_sql as run_service
from salesmcp.services.sql.answer import DEFAULT_LIMIT, untrusted
from salesmcp.store.sql_store import SqlStore


def _answer(data: dict[str, Any], what: str) -> Any:
    """Structured content as it is; the text marks the data as data (never instructions) for the model."""
    return CallToolResult(content=[TextContent(type="text", text=untrusted(data, what))], structured_content=data)


def register_sql_tools(server: SalesMCPServer, store: SqlStore, settings: Settings) -> None:
    max_rows = settings.sql_max_rows
    dialect = store.read_only.dialect

    @server.declare(
        READ,
        READS_DATA,
        f"Run one read-only SQL query ({dialect} dialect: SELECT, WITH … SELECT, UNION, VALUES) on the sales "
        "database, for questions the metrics tools do not answer; call describe_schema first for the tables, "
        "columns and exact text values. Writes, DDL, several statements, locks and side-effect functions are "
        f"refused; a query stops after {settings.sql_timeout:g} s. Answers {{columns, rows (arrays), row_count, "
        "truncated, elapsed_ms, note}}; truncated=true exactly when more rows existed than were returned.",
    )
    def run_sql(
        sql: Annotated[str, Field(description=f"one {dialect} SELECT query")],
        limit: Annotated[
            int, Field(description=f"rows to return (default {min(DEFAULT_LIMIT, max_rows)}, at most {max_rows})")
        ] = min(DEFAULT_LIMIT, max_rows),
    ) -> dict[str, Any]:
        return _answer(run_service(store.read_only, sql, limit, max_rows), "The query's result.")

    @server.declare(
        READ,
        READS_DATA,
        "The database's tables for run_sql: columns with types, primary and foreign keys, row counts (estimates "
        "on large tables, marked rows_estimated) and the values of low-cardinality text columns (use them exactly: "
        "status = 'DELIVERED'). Name a table for its detail with nullability and indexes.",
    )
    def describe_schema(
        table: Annotated[
            str | None, Field(description="one table to describe in detail (default: all, briefly)")
        ] = None,
    ) -> dict[str, Any]:
        return _answer(describe_service(store.read_only, table), "The schema.")
