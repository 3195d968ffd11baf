"""Seed 002's generator routes: POST /generate starts a job, GET /generate/<id> follows it, POST /reset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import jsonify, request, url_for
from pydantic import Field

from salesmcp.api.common import Blueprint, RequestModel, error_responses, extension, json_response
from salesmcp.config import Settings
from salesmcp.errors import InvalidInput
from salesmcp.scopes import ADMIN, READ
from salesmcp.services import generator
from salesmcp.services.generator import GenerationRequest, RunOut, Summary
from salesmcp.store.sql_store import SqlStore

bp = Blueprint("generation", __name__, "generator (seed 002)")


class RunPath(RequestModel):
    run_id: int = Field(ge=1, le=2**63 - 1, description="the id POST /generate returned")


def _documented_parameters() -> dict[str, Any]:
    """POST /generate reads its parameters by hand (query string and/or JSON body, see _parameters);
    this describes the same GenerationRequest fields to OpenAPI, as both."""
    schema = GenerationRequest.model_json_schema()
    query = [
        {"name": name, "in": "query", "required": False, "description": rule.get("description"), "schema": rule}
        for name, rule in schema["properties"].items()
    ]
    # In the body, null means "the default" (as in the MCP tool's arguments).
    nullable = {
        name: rule if {"type": "null"} in rule.get("anyOf", []) else {"anyOf": [rule, {"type": "null"}]}
        for name, rule in schema["properties"].items()
    }
    body_schema = {**schema, "properties": nullable}
    body = {"required": False, "content": {"application/json": {"schema": body_schema}}}
    return {"parameters": query, "requestBody": body}


def document_limits(settings: Settings) -> Callable[[dict[str, Any]], None]:
    """An OpenAPI document hook: ``rows`` says this server's GENERATE_MAX_ROWS as its maximum."""

    def describe(document: dict[str, Any]) -> None:
        operation = document.get("paths", {}).get("/generate", {}).get("post")
        if operation is None:
            return
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        rows = [p["schema"] for p in operation.get("parameters", []) if p.get("name") == "rows"]
        rows += body.get("properties", {}).get("rows", {}).get("anyOf", [])[:1]
        for schema in rows:
            schema["maximum"] = settings.generate_max_rows

    return describe


STARTED = {
    "type": "object",
    "properties": {
        "message": {"type": "string", "enum": [generator.GENERATION_STARTED, generator.ALREADY_GENERATED]},
        "rows": {"type": "integer"},
        "run_id": {"type": "integer"},
        "status_url": {"type": "string"},
        "run": RunOut.model_json_schema(),
    },
    "required": ["message", "rows", "run_id", "status_url", "run"],
}
RESET = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
    },
}


def _store() -> SqlStore:
    return extension("records")


def _parameters() -> dict[str, Any]:
    """The generation parameters from the query string and a JSON object body; one given in both is refused
    (each value is checked, none silently overrides another)."""
    values: dict[str, Any] = dict(request.args.items())
    if request.content_length:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise InvalidInput("body", "must be a JSON object of generation parameters (or leave it empty)")
        for name in sorted(set(values) & set(body)):
            raise InvalidInput(name, "is given both in the query string and in the body: give it once")
        values.update(body)
    return values


@bp.post(
    "/generate",
    scope=ADMIN,
    summary="Start a generation job: rows, seed, start_date, end_date, locale, mode, … (query string or JSON body)",
    responses={
        **json_response("The job started (Location: its status URL)", STARTED, 202),
        **json_response("The same generation was made before (mode once): that run", STARTED),
        **error_responses(409, 503),
    },
    openapi_extensions=_documented_parameters(),
)
def start_generation():
    settings: Settings = extension("settings")
    generation = generator.build_request(_parameters(), settings.data_seed, settings.generate_max_rows)
    run, started = generator.start_job(_store(), generation)
    status_url = url_for("generation.generation_status", run_id=run.id)
    body = {
        "message": generator.start_message(started),
        "rows": run.rows,
        "run_id": run.id,
        "status_url": status_url,
        "run": run.model_dump(mode="json"),
    }
    response = jsonify(body)
    response.status_code = 202 if started else 200
    response.headers["Location"] = status_url
    return response


@bp.get(
    "/generate/<int:run_id>",
    scope=READ,
    summary="A generation job: state (interrupted: its worker process is gone; repeat the request to resume it), "
    "progress, counts, error",
    responses={**json_response("The run", RunOut), **error_responses(404)},
)
def generation_status(path: RunPath):
    return jsonify(generator.get_run(_store(), path.run_id).model_dump(mode="json"))


@bp.post(
    "/reset",
    scope=ADMIN,
    summary="Empty every table in foreign-key-safe order and restart the ids; the schema stays",
    responses={**json_response("Rows removed per table", RESET), **error_responses(409)},
)
def reset_database():
    counts = generator.reset(_store())
    return jsonify({"message": generator.RESET_COMPLETE, "counts": counts})


@bp.get(
    "/summary",
    scope=READ,
    summary="Rows per table, the last generated window and the newest run",
    responses=json_response("The summary", Summary),
)
def database_summary():
    return jsonify(generator.summary(_store()).model_dump(mode="json"))
