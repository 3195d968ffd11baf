"""Our own errors. Adapters (Flask, MCP, CLI) render them; services only raise them."""

from __future__ import annotations


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
