"""What every Flask app of ours shares: JSON of money, one error shape, request validation."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from flask import Flask, current_app, jsonify, make_response
from flask.json.provider import DefaultJSONProvider
from flask_openapi3 import APIBlueprint, Info, OpenAPI, Tag
from flask_openapi3.models import SecurityScheme
from pydantic import BaseModel, Field, ValidationError
from werkzeug.exceptions import HTTPException

from salesmcp import __version__
from salesmcp.errors import InvalidInput, SalesmcpError, error_body, error_response
from salesmcp.models import money_json, plain_schema
from salesmcp.scopes import Access, LimitClass, Scope
from salesmcp.validation import MAX_JSON_DEPTH, MAX_REQUEST_BYTES, invalid_input, json_depth

log = logging.getLogger(__name__)


class JSONProvider(DefaultJSONProvider):
    """Keeps keys in the order the seeds show them and writes Decimal money as a JSON number."""

    sort_keys = False

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, Decimal):
            return money_json(o)
        return DefaultJSONProvider.default(o)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        # Deep nesting would exhaust the parser's recursion (a 500); refuse it first.
        if json_depth(s) > MAX_JSON_DEPTH:
            raise InvalidInput("body", f"JSON nests deeper than {MAX_JSON_DEPTH} levels")
        return super().loads(s, **kwargs)


class RequestModel(BaseModel):
    """Base of our request models. flask-openapi3 asks a model for its JSON schema on every request;
    the schema never changes, so it is built once (it was about a third of a small request's time)."""

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if args or kwargs:
            return super().model_json_schema(*args, **kwargs)
        cached = cls.__dict__.get("_schema_cache")
        if cached is None:
            cached = super().model_json_schema()
            setattr(cls, "_schema_cache", cached)  # noqa: B010 - a class attribute pydantic does not manage
        return cached


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable: invalid_input, not_found, conflict, unavailable, …")
    message: str = Field(description="what went wrong, naming the field and its rule")
    field: str | None = Field(description="the parameter or body field at fault, when there is one")


class ErrorResponse(BaseModel):
    """The one error shape of every route: ``{"error": {"code", "message", "field"}}``."""

    error: ErrorDetail


class DocumentedApp(OpenAPI):
    """flask-openapi3's app whose document is finished by hooks once built: what the server's
    configuration adds to every operation (who may call it, its rate limit)."""

    document_hooks: tuple[Callable[[dict[str, Any]], None], ...] = ()

    def generate_spec_json(self) -> None:
        super().generate_spec_json()
        for hook in self.document_hooks:
            hook(self.spec_json)


COMMON_ERRORS = (400, 413)  # every route: bad input, or a body over MAX_REQUEST_BYTES
BEARER: dict[str, SecurityScheme | dict[str, Any]] = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "API_TOKEN (or an access token)"}
}


# A rule between two parameters that a schema cannot state: documented as this 400, so that a request each of
# whose values is valid alone may still be refused with a documented answer.
PERIOD_RULE: Responses = {
    400: error_response(
        "Invalid input, naming the field and its rule; also when start_date is after end_date, or a date does not "
        "exist (20260231), although each value alone matches its pattern"
    )
}


# flask-openapi3's `responses`: a status → a model, or a response object
Responses = dict[str | int | HTTPStatus, Any]


def error_responses(*statuses: int) -> Responses:
    """OpenAPI ``responses`` entries for these error statuses, each with our error shape."""
    return {status: ErrorResponse for status in statuses}


def json_response(description: str, schema: Any = None, status: int = 200) -> Responses:
    """An OpenAPI success response: a pydantic model, or a JSON schema dict (any JSON when omitted).

    flask-openapi3 describes a model's response by its status ("OK", "Created"); a dict keeps ``description``.
    """
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        schema = schema.model_json_schema(mode="serialization")
    schema = _openapi_schema(plain_schema(schema or {}))
    return {status: {"description": description, "content": {"application/json": {"schema": schema}}}}


def _openapi_schema(node: Any) -> Any:
    """A model's JSON schema as flask-openapi3's Schema takes it: ``type: [X, "null"]`` (which our
    output models use, for MCP clients) becomes ``anyOf``; the meaning is unchanged."""
    if isinstance(node, list):
        return [_openapi_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _openapi_schema(value) for key, value in node.items()}
    kinds = node.get("type")
    if isinstance(kinds, list):
        rest = {key: value for key, value in node.items() if key not in ("type", "format")}
        options = [
            {"type": kind, **({"format": node["format"]} if "format" in node and kind != "null" else {})}
            for kind in kinds
        ]
        return {**rest, "anyOf": options}
    return node


def _validation_error(exc: ValidationError):
    """Request validation failures in our shape: 400 naming the first bad field and its rule."""
    error = invalid_input(exc)
    return make_response(jsonify({"error": error.as_dict()}), error.status)


def create_base_app(
    title: str, description: str, document_hooks: Iterable[Callable[[dict[str, Any]], None]] = ()
) -> DocumentedApp:
    """An OpenAPI-documented Flask app with our error handling.

    The document is at /openapi.json (and /openapi/openapi.json), the docs page at /openapi.
    Every route may answer 400 (and 413 for a body over MAX_REQUEST_BYTES) in our error shape;
    ``document_hooks`` add what the server's configuration enforces (auth, rate limits).
    """
    app = DocumentedApp(
        title,
        info=Info(title=title, version=__version__, description=description),
        security_schemes=BEARER,
        responses=error_responses(*COMMON_ERRORS),
        validation_error_status=400,
        validation_error_model=ErrorResponse,
        validation_error_callback=_validation_error,
    )
    app.document_hooks = tuple(document_hooks)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.json = JSONProvider(app)
    app.add_url_rule("/openapi.json", "openapi_document", lambda: jsonify(app.api_doc))
    _register_errors(app)
    return app


def _register_errors(app: Flask) -> None:
    @app.errorhandler(SalesmcpError)
    def _ours(exc: SalesmcpError):
        return jsonify({"error": exc.as_dict()}), exc.status

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.response is not None:  # already rendered, e.g. by the validation callback
            return exc.response
        code = (exc.name or "error").lower().replace(" ", "_")
        response = jsonify(error_body(code, exc.description or exc.name))
        response.status_code = exc.code or 500
        # e.g. Allow on a 405; the content type stays ours
        response.headers.extend((k, v) for k, v in exc.get_headers() if k.lower() != "content-type")
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return jsonify(error_body("internal_error", "internal error; see the server log")), 500


OPEN = None  # a route anyone may call, without a token (the description, the health probes)


class Blueprint(APIBlueprint):
    """A feature's routes, each stating what it asks of its caller where it is declared:
    ``@bp.get("/customers", scope=READ, summary=…)`` (``scope=OPEN`` for anyone; ``limit=`` when its
    rate-limit class is not its scope's). Auth, the rate limits and the OpenAPI document read ``bp.access``.

    Every route also documents our error shape for ``errors`` (400 and 413 unless told otherwise).
    """

    def __init__(self, name: str, import_name: str, tag: str, errors: tuple[int, ...] = COMMON_ERRORS) -> None:
        super().__init__(name, import_name, abp_tags=[Tag(name=tag)], abp_responses=error_responses(*errors))
        self.access: dict[tuple[str, str], Access | None] = {}

    def route_with_scope(
        self, method: str, rule: str, scope: Scope | None, limit: LimitClass | None = None, **options: Any
    ) -> Any:
        """Declare ``method rule`` with what it asks of its caller, then register it as flask-openapi3 does."""
        self.access[(method, rule)] = None if scope is OPEN else Access.of(scope, limit)
        return getattr(super(), method.lower())(rule, **options)

    # scope= is a required keyword of every route decorator: a route without one cannot be declared.
    def get(self, rule: str, *, scope: Scope | None, **options: Any) -> Any:  # type: ignore[override]
        return self.route_with_scope("GET", rule, scope, **options)

    def post(self, rule: str, *, scope: Scope | None, **options: Any) -> Any:  # type: ignore[override]
        return self.route_with_scope("POST", rule, scope, **options)

    def patch(self, rule: str, *, scope: Scope | None, **options: Any) -> Any:  # type: ignore[override]
        return self.route_with_scope("PATCH", rule, scope, **options)

    def put(self, rule: str, *, scope: Scope | None, **options: Any) -> Any:  # type: ignore[override]
        return self.route_with_scope("PUT", rule, scope, **options)

    def delete(self, rule: str, *, scope: Scope | None, **options: Any) -> Any:  # type: ignore[override]
        return self.route_with_scope("DELETE", rule, scope, **options)


def extension(name: str) -> Any:
    """A per-app object (a store) registered by an app factory."""
    return current_app.extensions[f"salesmcp.{name}"]
