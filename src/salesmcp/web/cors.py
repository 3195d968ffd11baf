"""Cross-origin access (CORS) for the main server: none unless ``CORS_ORIGINS`` lists origins.

Starlette's own ``CORSMiddleware`` answers the preflights, for REST and for /mcp, with the headers
MCP clients in a browser send (``Mcp-Session-Id``, ``MCP-Protocol-Version``, …) and read.
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from salesmcp.config import Settings

ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ALLOWED_HEADERS = (
    "Authorization", "Content-Type", "Accept", "Mcp-Session-Id", "MCP-Protocol-Version", "Mcp-Method",
    "Last-Event-ID", "X-Request-ID",
)  # fmt: skip
EXPOSED_HEADERS = ("Mcp-Session-Id", "WWW-Authenticate", "Retry-After", "X-Request-ID")
PREFLIGHT_MAX_AGE = 600  # seconds a browser may cache a preflight answer


def cors_middleware(settings: Settings) -> list[Middleware]:
    """The CORS middleware for ``settings.cors_origin_list``; none at all when it is empty."""
    origins = settings.cors_origin_list
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            allow_credentials=False,  # bearer tokens, not cookies
            max_age=PREFLIGHT_MAX_AGE,
        )
    ]
