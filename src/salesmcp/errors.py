"""Our own errors. Adapters (Flask, MCP, CLI) render them; services only raise them."""

from __future__ import annotations

from typing import Any


class SalesmcpError(Exception):
    """Base class: a message meant for the person or model that made the request."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, dict[str, str | None]]:
    """The one error shape of every HTTP answer: ``{"error": {"code", "message", "field"}}``."""
    return {"error": {"code": code, "message": message, "field": field}}


class InvalidInput(SalesmcpError):
    """A parameter broke a rule; ``field`` names the parameter."""

    status = 400
    code = "invalid_input"

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}", field=field)
        self.rule = rule


class NotFound(SalesmcpError):
    status = 404
    code = "not_found"


class Conflict(SalesmcpError):
    status = 409
    code = "conflict"


class Unavailable(SalesmcpError):
    """A service we depend on (an API, a database) cannot be reached."""

    status = 503
    code = "unavailable"


class DataFileError(SalesmcpError):
    """A data file cannot be read or does not have the expected format."""

    code = "bad_data_file"


def error_response(description: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The same shape as an OpenAPI response object (``ErrorResponse``), with these documented headers."""
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }
    if headers:
        schema = {"type": "string"}
        response["headers"] = {name: {"description": text, "schema": schema} for name, text in headers.items()}
    return response
