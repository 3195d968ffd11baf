"""Serve a Flask app with waitress: a production WSGI server that runs on Windows too."""

from __future__ import annotations

import logging

from flask import Flask

from salesmcp.web.access_log import WsgiAccessLog

log = logging.getLogger(__name__)


def serve_wsgi(app: Flask, host: str, port: int, threads: int = 8, label: str | None = None) -> None:
    """Serve a Flask app with waitress until interrupted, one log line per request."""
    from waitress import serve

    label = label or app.name.removeprefix("salesmcp ")
    log.info("serving %s on http://%s:%d", label, host, port)
    try:
        serve(WsgiAccessLog(app, label), host=host, port=port, threads=threads, ident="salesmcp")
    except KeyboardInterrupt:  # Ctrl-C reaches every process of the console, children of `up` too
        log.info("%s stopped", app.name)
