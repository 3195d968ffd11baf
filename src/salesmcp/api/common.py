"""What every Flask app of ours shares: JSON of money, one error shape, request validation."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from flask import Flask, current_app, jsonify, make_response
from flask.json.provider import DefaultJSONProvider
from flask_openapi3 import Info, OpenAPI
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from salesmcp import __version__
from salesmcp.errors import SalesmcpError
from salesmcp.models import money_json
from salesmcp.validation import invalid_input

log = logging.getLogger(__name__)


class JSONProvider(DefaultJSONProvider):
    """Keeps keys in the order the seeds show them and writes Decimal money as a JSON number."""

    sort_keys = False

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, Decimal):
            return money_json(o)
        return DefaultJSONProvider.default(o)


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
            cls._schema_cache = cached
        return cached


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def _validation_error(exc: ValidationError):
    """Request validation failures in our shape: 400 naming the first bad field and its rule."""
    error = invalid_input(exc)
    return make_response(jsonify({"error": error.as_dict()}), error.status)


def create_base_app(title: str, description: str) -> OpenAPI:
    """An OpenAPI-documented Flask app (spec at /openapi/openapi.json) with our error handling."""
    app = OpenAPI(
        title,
        info=Info(title=title, version=__version__, description=description),
        validation_error_status=400,
        validation_error_callback=_validation_error,
    )
    app.json = JSONProvider(app)
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
        return jsonify(error_body(code, exc.description or exc.name)), exc.code or 500

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return jsonify(error_body("internal_error", "internal error; see the server log")), 500


def extension(name: str) -> Any:
    """A per-app object (a store) registered by an app factory."""
    return current_app.extensions[f"salesmcp.{name}"]
