"""The main server (seed 001): REST (Flask) and MCP over Streamable HTTP at /mcp, in one ASGI app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from a2wsgi import WSGIMiddleware
from flask import jsonify
from flask_openapi3 import OpenAPI
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route

from salesmcp import __version__
from salesmcp.api import catalogue, customer_records, generation
from salesmcp.api import customers as seed_customer_routes
from salesmcp.api import sales as seed_sales_routes
from salesmcp.api.common import MAX_REQUEST_BYTES, create_base_app, error_body, json_response
from salesmcp.auth import RequireScope, document_access, protected_resource_metadata
from salesmcp.config import Settings
from salesmcp.cors import cors_middleware
from salesmcp.errors import Unavailable
from salesmcp.mcp import build_server
from salesmcp.ratelimit import RateLimit, document_limits
from salesmcp.store.sql_store import SqlStore, open_store

log = logging.getLogger(__name__)
MCP_PATH = "/mcp"
METADATA_PATH = "/.well-known/oauth-protected-resource"  # RFC 9728; the SDK serves it when auth is on
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def create_rest_app(settings: Settings, store: SqlStore, tools: Sequence[str]) -> OpenAPI:
    """Flask: seed 000's routes and customer management, both on the database; / and /health."""
    # What this configuration enforces: who may call what, rate limits, the largest generation.
    hooks = (document_access(settings), document_limits(settings), generation.document_limits(settings))
    app = create_base_app("salesmcp", "Customers and sales over REST; MCP over Streamable HTTP at /mcp", hooks)
    app.extensions.update(
        {"salesmcp.customers": store, "salesmcp.sales": store, "salesmcp.records": store, "salesmcp.settings": settings}
    )
    for blueprint in (seed_customer_routes.bp, seed_sales_routes.bp, customer_records.bp, catalogue.bp, generation.bp):
        app.register_api(blueprint)

    @app.get("/", summary="What this server is and what it serves", responses=json_response("Name, version, endpoints"))
    def index():
        routes = sorted({rule.rule for rule in app.url_map.iter_rules() if not rule.rule.startswith("/static")})
        return jsonify(
            {
                "name": "salesmcp",
                "version": __version__,
                "mcp": {"endpoint": MCP_PATH, "transport": "streamable-http", "tools": list(tools)},
                "endpoints": [MCP_PATH, *routes],
                "database": store.engine.dialect.name,
            }
        )

    @app.get(
        "/health",
        summary="200 when the database answers, 503 with the reason when it does not",
        responses={**json_response("The database answers"), **json_response("It does not: the reason", status=503)},
    )
    def health():
        try:
            store.ping()
        except Unavailable as exc:
            body = error_body("unavailable", exc.message)
            return jsonify({"status": "unavailable", "reason": exc.message, **body}), 503
        return jsonify({"status": "ok", "database": store.engine.dialect.name})

    return app


def _transport_security(settings: Settings) -> TransportSecuritySettings | None:
    """Host/Origin checks against DNS rebinding: the SDK's loopback defaults plus ALLOWED_HOSTS and CORS_ORIGINS."""
    extra = [host.strip() for host in settings.allowed_hosts.split(",") if host.strip()]
    cors = settings.cors_origin_list
    if not extra and (not cors or not settings.is_loopback):
        return None  # the SDK protects loopback binds itself (and checks nothing on other binds)
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", *extra, *(f"{host}:*" for host in extra if ":" not in host)]
    origins = [*(f"{scheme}://{host}" for host in hosts for scheme in ("http", "https")), *cors]
    return TransportSecuritySettings(allowed_hosts=hosts, allowed_origins=origins)


def create_main_app(settings: Settings, store: SqlStore | None = None) -> Starlette:
    """One ASGI app: POST /mcp (stateless Streamable HTTP, SSE answers) and the Flask app for the rest."""
    store = store or open_store(settings)
    public_url = (settings.public_url or f"http://{settings.host}:{settings.server_port}").rstrip("/")
    mcp_server = build_server(
        store, customers=store, log_level=settings.log_level, settings=settings, resource_url=public_url + MCP_PATH
    )
    mcp_app = mcp_server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,  # any replica can answer any request
        json_response=False,  # SSE, so progress notifications reach the client
        max_request_body_size=MAX_REQUEST_BYTES,  # as for REST (413 beyond); the rate limiter reads it whole
        transport_security=_transport_security(settings),
        host=settings.host,
    )
    tools = [tool.name for tool in mcp_server._tool_manager.list_tools()]
    flask_app = create_rest_app(settings, store, tools)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with mcp_server.session_manager.run():
            yield
        store.engine.dispose()

    needs_auth = settings.has_token_source or settings.read_only
    middleware = [Middleware(RequireScope, settings=settings, mcp_path=MCP_PATH)] if needs_auth else []
    # CORS outermost: preflights are answered before auth, and 401s and 429s carry CORS headers.
    # The rate limit innermost: after auth, it can count by the caller auth has identified.
    middleware = [*cors_middleware(settings), *middleware]
    if settings.rate_limit_enabled:
        middleware.append(Middleware(RateLimit, settings=settings, mcp_path=MCP_PATH))
    rest = WSGIMiddleware(flask_app)
    app = Starlette(
        routes=[
            Route(MCP_PATH, endpoint=mcp_app),
            *protected_resource_metadata(settings, public_url + MCP_PATH),  # RFC 9728, every scope
            Mount("/", app=rest),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    # Mount's pattern does not match a path with a newline in it; Flask answers those too (JSON, not text).
    app.router.default = rest
    return app


def serve(settings: Settings) -> None:
    """Run the main server with uvicorn until interrupted."""
    import uvicorn

    from salesmcp.servers import AsgiAccessLog

    app = AsgiAccessLog(create_main_app(settings), "main server")
    log.info("salesmcp on http://%s:%d (MCP at %s)", settings.host, settings.server_port, MCP_PATH)
    # uvicorn logs through our handlers and levels (see cli._logging); our middleware writes the access lines.
    uvicorn.run(app, host=settings.host, port=settings.server_port, log_config=None, access_log=False)
