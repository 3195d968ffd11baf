"""One function builds our MCP server; entry points only choose the transport and the data source."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.settings import AuthSettings

from salesmcp import __version__
from salesmcp.config import Settings
from salesmcp.mcp.analytics_tools import register_analytics_tools
from salesmcp.mcp.base import SalesMCPServer
from salesmcp.mcp.customer_tools import register_customer_tools
from salesmcp.mcp.generator_tools import register_generator_tools
from salesmcp.mcp.resources import register_resources
from salesmcp.mcp.revenue_tools import register_revenue_tools
from salesmcp.mcp.sql_tools import register_sql_tools
from salesmcp.scopes import READ
from salesmcp.store.base import RevenueSource
from salesmcp.store.sql_store import SqlStore

INSTRUCTIONS = (
    "Answers questions about customers and sales revenue, and manages customers. Dates are yyyymmdd or "
    "YYYY-MM-DD and periods include both ends; amounts are in the data's currency."
)


def build_server(
    source: RevenueSource,
    name: str = "salesmcp",
    log_level: str = "INFO",
    customers: SqlStore | None = None,
    settings: Settings | None = None,
    resource_url: str | None = None,
    on_tool_call: Callable[[str, str, float], None] | None = None,
    token_verifier: TokenVerifier | None = None,
) -> SalesMCPServer:
    """The MCP server: the two revenue tools on ``source``; with a database, the customer and generator tools.

    ``token_verifier`` and ``resource_url`` (the public URL of /mcp), given by the main server when settings
    name a token source, turn on the SDK's bearer auth; ``READ_ONLY`` leaves out every tool that needs more
    than ``read``. ``on_tool_call(tool, outcome, seconds)`` hears of every call (the main server's metrics).
    """
    settings = settings or Settings()
    auth: dict[str, Any] = {}
    if resource_url and token_verifier is not None:
        auth = {
            "token_verifier": token_verifier,
            "auth": AuthSettings(
                issuer_url=settings.oauth_issuer or resource_url,  # type: ignore[arg-type]
                resource_server_url=resource_url,  # type: ignore[arg-type]
                required_scopes=[READ],
                # Our verifier checks the audience itself (OAUTH_AUDIENCE); API tokens carry none.
                validate_token_resource=False,
            ),
        }
    server = SalesMCPServer(name, version=__version__, instructions=INSTRUCTIONS, log_level=log_level, **auth)
    server.on_tool_call = on_tool_call
    register_revenue_tools(server, source)
    register_resources(server, source)
    if customers is not None:
        register_customer_tools(server, customers)
        register_generator_tools(server, customers, settings)
        register_analytics_tools(server, customers)
        if settings.sql_tool:
            register_sql_tools(server, customers, settings)
    if settings.read_only:
        server.keep_only(lambda access: access.reads_only)
    return server
