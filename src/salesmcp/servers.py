"""Run our servers: waitress (a production WSGI server, Windows too), all of them together, and one
access-log line per request, under the request's id."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import httpx
from flask import Flask

from salesmcp.logs import REQUEST_ID_HEADER, log_request, request_id_from, request_id_var

log = logging.getLogger(__name__)
_BODY_PEEK = 64 * 1024  # bytes of a request body read to name the JSON-RPC method in the log line


def serve_wsgi(app: Flask, host: str, port: int, threads: int = 8, label: str | None = None) -> None:
    """Serve a Flask app with waitress until interrupted, one log line per request."""
    from waitress import serve

    label = label or app.name.removeprefix("salesmcp ")
    log.info("serving %s on http://%s:%d", label, host, port)
    try:
        serve(WsgiAccessLog(app, label), host=host, port=port, threads=threads, ident="salesmcp")
    except KeyboardInterrupt:  # Ctrl-C reaches every process of the console, children of `up` too
        log.info("%s stopped", app.name)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def is_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host``:``port`` (a server is already there)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until_healthy(url: str, timeout: float, process: subprocess.Popen | None = None) -> bool:
    """Poll ``url`` until it answers 200, the process dies, or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1.0) as http:
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                return False
            try:
                if http.get(url).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    return False


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    """Ask a child to stop (terminate), and kill it if it has not within ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_together(
    commands: Sequence[tuple[str, list[str], str]],
    on_ready: Callable[[], None] = lambda: None,
    ready_timeout: float = 60.0,
    env: Mapping[str, str] | None = None,
) -> int:
    """Start each (name, salesmcp arguments, health URL) as a child process; stop all on Ctrl-C.

    ``env`` is added to the children's environment. Returns once every child has stopped; a child
    that fails to start stops the others.
    """
    children: list[tuple[str, subprocess.Popen]] = []
    signal.signal(signal.SIGTERM, _interrupt)
    # Ctrl-C stops everything, also when this process was started with SIGINT ignored (as a shell's
    # background job is): Python would then never raise KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    child_env = {**os.environ, **(env or {})}
    try:
        for name, args, _ in commands:
            children.append((name, subprocess.Popen([sys.executable, "-m", "salesmcp", *args], env=child_env)))
        for (name, process), (_, _, health) in zip(children, commands, strict=True):
            if not wait_until_healthy(health, ready_timeout, process):
                log.error("%s did not start (health check %s); stopping", name, health)
                return 1
        on_ready()
        while all(process.poll() is None for _, process in children):
            time.sleep(0.2)
        log.error("a server stopped unexpectedly; stopping the others")
        return 1
    except KeyboardInterrupt:
        print("stopping...", file=sys.stderr)
        return 0
    finally:
        for _, process in children:
            if process.poll() is None:
                process.terminate()
        for _, process in children:
            stop_process(process)


# -- one line per request, under the request's id ------------------------------------------------------


def describe_json_rpc(body: bytes) -> str:
    """`` tools/call get_city_revenue_by_period`` for a JSON-RPC request body; empty for anything else."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    parts = []
    for message in data if isinstance(data, list) else [data]:
        if not isinstance(message, dict) or not isinstance(message.get("method"), str):
            continue
        params = message.get("params") if isinstance(message.get("params"), dict) else {}
        what = params.get("name") or params.get("uri")
        parts.append(message["method"] + (f" {what}" if isinstance(what, str) else ""))
    return (" " + ", ".join(parts)) if parts else ""


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
    ) -> None:
        self.app = app
        self.label = label
        self.observe = observe
        self.route_of = route_of or (lambda method, path: path)

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
            await self.app(scope, peeking_receive if method == "POST" else receive, recording_send)
        finally:
            seconds = time.perf_counter() - started
            path = scope.get("path", "")
            rpc = describe_json_rpc(bytes(body)) if body else ""
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
