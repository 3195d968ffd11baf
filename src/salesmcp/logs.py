"""Logs: one set-up for every command (readable text or JSON lines, always on stderr), the id of the
request being handled (carried into every line logged while handling it), and the two lines we write
ourselves: one per HTTP request (``salesmcp.access``) and one per MCP tool call (``salesmcp.tools``).

The request id lives in a context variable: asyncio tasks, a2wsgi's threads (Flask) and anyio's worker
threads (sync tools) all copy the context they were started from, so it reaches every line.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import uuid
from contextvars import ContextVar
from typing import Any

from salesmcp.config import Settings

REQUEST_ID_HEADER = "X-Request-ID"
# Loggers that speak only at DEBUG (or when they warn); see configure_logging.
QUIET_LOGGERS = ("httpx", "httpx2", "httpcore", "alembic", "waitress", "uvicorn", "mcp")
UP_CHILD_ENV = "SALESMCP_STARTED_BY_UP"  # set by `salesmcp up` for the servers it starts
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# JSON: Cloud Logging reads `severity`, `message` and an RFC 3339 `time`; extras become fields of their own.
JSON_FIELDS = "{levelname}{name}{process}{message}"
JSON_RENAMES = {"levelname": "severity", "name": "logger", "process": "pid"}  # pid: which worker process
QUIET_PATHS = frozenset({"/health", "/health/live", "/health/ready"})  # polled by machines: logged at DEBUG only

access_log = logging.getLogger("salesmcp.access")
tool_log = logging.getLogger("salesmcp.tools")
request_id_var: ContextVar[str | None] = ContextVar("salesmcp_request_id", default=None)
_GIVEN_ID = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,127}")  # printable ASCII, at most 128 characters


def request_id_from(header: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is printable ASCII of at most 128 characters, else a new id."""
    if header and _GIVEN_ID.fullmatch(header):
        return header.rstrip()
    return uuid.uuid4().hex


class RequestContext(logging.Filter):
    """Adds the id of the request being handled (if any) to each record, as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request_id = request_id_var.get()
            if request_id is not None:
                record.request_id = request_id
        return True


def log_handler(log_format: str, stream: Any = None) -> logging.Handler:
    """A stderr handler writing ``text`` (today's readable lines) or ``json`` (one object per line)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestContext())
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(JsonFormatter(JSON_FIELDS, style="{", rename_fields=JSON_RENAMES, timestamp="time"))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    return handler


def configure_logging(settings: Settings) -> None:
    """Every command starts here: logs to stderr (stdout belongs to the MCP protocol in the stdio servers),
    as text or JSON (LOG_FORMAT), at LOG_LEVEL.

    Unless LOG_LEVEL=DEBUG, libraries keep quiet (httpx logs every internal request, alembic every
    migration step, uvicorn/waitress/the MCP SDK their start-up and sessions) unless they warn;
    under `salesmcp up`, whose banner says what runs where, our servers print only their request lines.
    """
    level = logging.getLevelName(settings.log_level)
    logging.basicConfig(level=level, handlers=[log_handler(settings.log_format)])
    if level > logging.DEBUG:
        quiet = [*QUIET_LOGGERS, *(["salesmcp"] if os.environ.get(UP_CHILD_ENV) else [])]
        for name in quiet:
            logging.getLogger(name).setLevel(max(level, logging.WARNING))
        access_log.setLevel(level)


def printable(text: str) -> str:
    """``text`` on one line whatever it holds: control characters written as escapes (no forged lines)."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def log_request(
    label: str, method: str, path: str, query: str, status: int, seconds: float, caller: str | None, rpc: str = ""
) -> None:
    """The one line of an HTTP request: readable as text, with every part as a field of its own in JSON."""
    level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
    if not access_log.isEnabledFor(level):
        return
    target = printable(f"{method} {path}{'?' + query if query else ''}{rpc}")
    took = seconds * 1000
    fields = {"method": printable(method), "path": printable(path), "status": status,
              "latency_ms": round(took, 2), "caller": caller or "anonymous", "server": label}  # fmt: skip
    if rpc:
        fields["rpc"] = printable(rpc.strip())
    access_log.log(level, "%s %s -> %d (%.0f ms)", label, target, status, took, extra=fields)


def log_tool_call(tool: str, outcome: str, seconds: float, error: str | None = None) -> None:
    """The one line of an MCP tool call: its name, how long it took, ok or error (and the error's words)."""
    if not tool_log.isEnabledFor(logging.INFO):
        return
    took = seconds * 1000
    fields: dict[str, Any] = {"tool": printable(tool), "duration_ms": round(took, 2), "outcome": outcome}
    if error:
        fields["error"] = printable(error[:500])
    tool_log.info("tool %s %s (%.0f ms)", fields["tool"], outcome, took, extra=fields)
