"""Health probes of the main server: /health (seed 001's answer), /health/live and /health/ready.

``/health/live`` says only that the process answers (an orchestrator restarts it when it does not);
``/health/ready`` says whether it can serve: the database answers and its schema is at the newest
migration this code knows (a load balancer sends no traffic while it is not). Both are open and never
rate-limited (each route declares scope=OPEN).
"""

from __future__ import annotations

from typing import Literal

from flask import jsonify
from pydantic import BaseModel, Field

from salesmcp.api.common import OPEN, Blueprint, ErrorDetail, extension, json_response
from salesmcp.errors import Unavailable, error_body
from salesmcp.store.database import head_revision, known_revisions
from salesmcp.store.sql_store import SqlStore

bp = Blueprint("health", __name__, "health", errors=())


class Health(BaseModel):
    status: Literal["ok"]
    database: str = Field(description="sqlite, mysql or postgresql")


class Live(BaseModel):
    status: Literal["ok"]


class Ready(Health):
    revision: str = Field(description="the migration the schema is at: the newest this server knows")


class Down(BaseModel):
    """503: why the server cannot serve now, also as our error shape."""

    status: Literal["unavailable"]
    reason: str = Field(description="database unavailable: …, or the schema's revision and the head")
    error: ErrorDetail


class NotReady(Down):
    database: str
    revision: str | None = Field(description="the migration the schema is at; null when unknown or none")
    head: str = Field(description="the newest migration this server knows")


def _store() -> SqlStore:
    return extension("records")


def _down(reason: str, status: int = 503, **extra: object):
    return jsonify({"status": "unavailable", "reason": reason, **extra, **error_body("unavailable", reason)}), status


@bp.get(
    "/health",
    scope=OPEN,
    summary="200 when the database answers, 503 with the reason when it does not",
    responses={**json_response("The database answers", Health), **json_response("It does not: the reason", Down, 503)},
)
def health():
    store = _store()
    try:
        store.ping()
    except Unavailable as exc:
        return _down(exc.message)
    return jsonify({"status": "ok", "database": store.engine.dialect.name})


@bp.get(
    "/health/live",
    scope=OPEN,
    summary="Liveness: 200 while the process answers (the database is not asked)",
    responses=json_response("The process answers", Live),
)
def live():
    return jsonify({"status": "ok"})


@bp.get(
    "/health/ready",
    scope=OPEN,
    summary="Readiness: 200 when the database answers and its schema is at the head revision; 503 with the reason",
    responses={
        **json_response("Ready to serve", Ready),
        **json_response("Not ready: the database does not answer, or its schema is not at the head", NotReady, 503),
    },
)
def ready():
    store = _store()
    database, head = store.engine.dialect.name, head_revision()
    try:
        revision = store.schema_revision()
    except Unavailable as exc:
        return _down(exc.message, database=database, revision=None, head=head)
    if revision != head:
        older = revision is None or revision in known_revisions()
        hint = "run `salesmcp migrate`" if older else "a newer salesmcp migrated it"
        reason = f"the database schema is at revision {revision or 'none'} but head is {head} ({hint})"
        return _down(reason, database=database, revision=revision, head=head)
    return jsonify({"status": "ok", "database": database, "revision": revision})
