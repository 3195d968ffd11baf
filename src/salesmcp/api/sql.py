"""The read-only SQL tool over REST: POST /sql runs one query, GET /schema describes the tables (SQL_TOOL=false
leaves both out)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import jsonify
from pydantic import ConfigDict, Field

from salesmcp.api.analytics import WholeNumber
from salesmcp.api.common import Blueprint, RequestModel, error_responses, extension, json_response
from salesmcp.config import Settings
from salesmcp.errors import error_response
from salesmcp.scopes import READ
from salesmcp.services.sql import describe_schema, run_sql
from salesmcp.services.sql.answer import DEFAULT_LIMIT
from salesmcp.services.sql.guard import MAX_SQL_LENGTH
from salesmcp.store.sql_store import SqlStore

bp = Blueprint("sql", __name__, "sql")

REFUSED = {
    400: error_response(
        "Refused (code refused_sql: not exactly one read-only query, naming what was found), the database's own "
        "refusal (code invalid_input: an unknown column, a write in a read-only transaction), a limit above "
        "SQL_MAX_ROWS, or the query ran past SQL_TIMEOUT (code query_timeout)"
    )
}


class SqlQuery(RequestModel):
    model_config = ConfigDict(extra="forbid")

    sql: str = Field(min_length=1, max_length=MAX_SQL_LENGTH, description="one read-only query in the database's SQL")
    limit: WholeNumber | None = Field(
        None, ge=1, description=f"rows to return (default {DEFAULT_LIMIT}), at most SQL_MAX_ROWS (default 1000)"
    )


class SchemaQuery(RequestModel):
    model_config = ConfigDict(extra="forbid")

    table: str | None = Field(None, min_length=1, max_length=200, description="one table in detail (default: all)")


def document_limits(settings: Settings) -> Callable[[dict[str, Any]], None]:
    """An OpenAPI document hook: ``limit`` says this server's SQL_MAX_ROWS as its maximum."""

    def describe(document: dict[str, Any]) -> None:
        limit = document.get("components", {}).get("schemas", {}).get("SqlQuery", {}).get("properties", {})
        for schema in limit.get("limit", {}).get("anyOf", [])[:1]:
            schema["maximum"] = settings.sql_max_rows

    return describe


def _store() -> SqlStore:
    return extension("records")


def _settings() -> Settings:
    return extension("settings")


@bp.post(
    "/sql",
    scope=READ,
    summary="Run one read-only SQL query (the run_sql tool's arguments and answer)",
    responses={
        **json_response("columns, rows (arrays), row_count, truncated, elapsed_ms, note"),
        **REFUSED,
        **error_responses(503),
    },  # fmt: skip
)
def sql(body: SqlQuery):
    return jsonify(run_sql(_store().read_only, body.sql, body.limit, _settings().sql_max_rows))


@bp.get(
    "/schema",
    scope=READ,
    summary="The tables the SQL tool reads: columns, keys, row counts, values of low-cardinality text columns",
    responses={**json_response("The tables"), **error_responses(404, 503)},
)
def schema(query: SchemaQuery):
    return jsonify(describe_schema(_store().read_only, query.table))
