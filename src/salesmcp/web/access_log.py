"""One access-log line per request, under the request's id (``X-Request-ID``), for WSGI and ASGI servers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from salesmcp.logs import REQUEST_ID_HEADER, log_request, request_id_from, request_id_var
from salesmcp.web import json_rpc

log = logging.getLogger(__name__)
_BODY_PEEK = 64 * 1024  # bytes of a request body read to name the JSON-RPC method in the log line


def describe_json_rpc(body: bytes) -> str:
    """`` tools/call get_city_revenue_by_period`` for a JSON-RPC request body; empty for anything else."""
    return json_rpc.describe(json_rpc.messages({}, body))


class WsgiAccessLog:
    """WSGI middleware (the seed 000 APIs under waitress): the request id (``X-Request-ID``, given or made,
    echoed back) for every line logged while handling the request, and one access-log line per request."""

    def __init__(self, app: Any, label: str) -> None:
        self.app = app
        self.label = label

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        status = [500]

        def recording_start(status_line: str, headers: list, exc_info: Any = None) -> Any:
            status[0] = int(status_line.split(" ", 1)[0])
            return start_response(status_line, [*headers, (REQUEST_ID_HEADER, request_id)], exc_info)

        # WSGI hands paths over as latin-1; they were sent as UTF-8 (e.g. /customers/city/Zürich).
        path = environ.get("PATH_INFO", "").encode("latin-1", "replace").decode("utf-8", "replace")
        token = request_id_var.set(request_id)  # waitress runs each request in a thread: this one's context
        try:
            return self.app(environ, recording_start)
        finally:
            seconds = time.perf_counter() - started
            log_request(self.label, environ.get("REQUEST_METHOD", "?"), path, environ.get("QUERY_STRING", ""),
                        status[0], seconds, None)  # fmt: skip
            request_id_var.reset(token)


class AsgiAccessLog:
    """ASGI middleware (the main server), outermost: the request id (``X-Request-ID``, given or made, echoed
    back) for every line logged while handling the request, one access-log line naming the JSON-RPC method
    of an MCP request and the caller, and the request's metrics (``observe(route, method, status, seconds)``
    with the route template that ``route_of(method, path)`` names)."""

    def __init__(
        self,
        app: Any,
        label: str,
        observe: Callable[[str, str, int, float], None] | None = None,
        route_of: Callable[[str, str], str] | None = None,
        mcp_path: str = "/mcp",
    ) -> None:
        self.app = app
        self.label = label
        self.observe = observe
        self.route_of = route_of or (lambda method, path: path)
        self.mcp_path = mcp_path

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = next((value for name, value in scope["headers"] if name == b"x-request-id"), None)
        request_id = request_id_from(given.decode("latin-1") if given is not None else None)
        echoed = (b"x-request-id", request_id.encode())
        status = 500
        body = bytearray()
        method = scope.get("method", "?")

        async def peeking_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request" and len(body) < _BODY_PEEK:
                body.extend(message.get("body", b""))
            return message

        async def recording_send(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), echoed]}
            await send(message)

        token = request_id_var.set(request_id)
        try:
            peek = method == "POST" and scope.get("path") == self.mcp_path  # only MCP bodies are described
            await self.app(scope, peeking_receive if peek else receive, recording_send)
        finally:
            seconds = time.perf_counter() - started
            path = scope.get("path", "")
            rpc = json_rpc.describe(json_rpc.messages(scope, bytes(body))) if body else ""
            query = scope.get("query_string", b"").decode("latin-1")
            log_request(self.label, method, path, query, status, seconds, caller_of(scope), rpc)
            if self.observe is not None:
                self.observe(self.route_of(method, path), method, status, seconds)
            request_id_var.reset(token)


def caller_of(scope: dict[str, Any]) -> str | None:
    """Who made the request, as auth found them: REST (our RequireScope) or /mcp (the SDK's bearer auth)."""
    caller = (scope.get("state") or {}).get("caller")
    if caller is None:
        caller = getattr(scope.get("user"), "access_token", None)
    return getattr(caller, "client_id", None)
