"""One function builds our MCP server; entry points only choose the transport and the data source."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from salesmcp import __version__
from salesmcp.config import Settings
from salesmcp.logs import log_tool_call
from salesmcp.mcp.customer_tools import register_customer_tools
from salesmcp.mcp.generator_tools import register_generator_tools
from salesmcp.mcp.resources import register_resources
from salesmcp.mcp.revenue_tools import register_revenue_tools
from salesmcp.store.base import RevenueSource
from salesmcp.store.sql_store import SqlStore
from salesmcp.web.auth import READ, CallerVerifier, tool_scope

INSTRUCTIONS = (
    "Answers questions about customers and sales revenue, and manages customers. Dates are yyyymmdd or "
    "YYYY-MM-DD and periods include both ends; amounts are in the data's currency."
)


class SalesMCPServer(MCPServer):
    """MCPServer that checks the caller's scope for each tool, names unknown and missing arguments
    instead of dropping or dumping them, and logs (and counts, with ``on_tool_call``) every call."""

    on_tool_call: Callable[[str, str, float], None] | None = None  # (tool, "ok" | "error", seconds)

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context | None = None) -> Any:
        started = time.perf_counter()
        outcome, error = "error", None
        try:
            result = await self._checked_call(name, arguments, context)
            if not getattr(result, "is_error", False):
                outcome = "ok"
            return result
        except Exception as exc:
            error = str(exc)
            raise
        finally:
            seconds = time.perf_counter() - started
            log_tool_call(name, outcome, seconds, error)
            if self.on_tool_call is not None:  # a label per known tool only: callers choose the names
                self.on_tool_call(name if self._tool_manager.get_tool(name) else "unknown", outcome, seconds)

    async def _checked_call(self, name: str, arguments: dict[str, Any], context: Context | None) -> Any:
        if self._token_verifier is not None:  # over HTTP with a token source: the SDK has found the caller
            caller = get_access_token()
            needed = tool_scope(name)
            if caller is None or needed not in caller.scopes:
                raise ToolError(f"{name} needs the '{needed}' scope, which this token does not carry")
        schema = self._tool_input_schema(name)
        if schema is not None:
            known = schema.get("properties", {})
            unknown = sorted(set(arguments) - set(known))
            if unknown:
                raise ToolError(f"{unknown[0]}: is not a known argument of {name} (allowed: {', '.join(known)})")
            missing = [field for field in schema.get("required", []) if field not in arguments]
            if missing:
                raise ToolError(f"{missing[0]}: is required")
        return await super().call_tool(name, arguments, context)


def build_server(
    source: RevenueSource,
    name: str = "salesmcp",
    log_level: str = "INFO",
    customers: SqlStore | None = None,
    settings: Settings | None = None,
    resource_url: str | None = None,
    on_tool_call: Callable[[str, str, float], None] | None = None,
) -> MCPServer:
    """The MCP server: the two revenue tools on ``source``; with a database, the customer and generator tools.

    ``resource_url`` (the public URL of /mcp) turns on the SDK's bearer auth when settings name a token
    source; ``READ_ONLY`` leaves out every tool that needs more than ``read``. ``on_tool_call(tool, outcome,
    seconds)`` hears of every call (the main server's metrics).
    """
    settings = settings or Settings()
    auth: dict[str, Any] = {}
    if resource_url and settings.has_token_source:
        auth = {
            "token_verifier": CallerVerifier(settings),
            "auth": AuthSettings(
                issuer_url=settings.oauth_issuer or resource_url,  # type: ignore[arg-type]
                resource_server_url=resource_url,  # type: ignore[arg-type]
                required_scopes=[READ],
                # Our verifier checks the audience itself (OAUTH_AUDIENCE); API tokens carry none.
                validate_token_resource=False,
            ),
        }
    server = SalesMCPServer(name, version=__version__, instructions=INSTRUCTIONS, log_level=log_level, **auth)  # type: ignore[arg-type]
    server.on_tool_call = on_tool_call
    register_revenue_tools(server, source)
    register_resources(server, source)
    if customers is not None:
        register_customer_tools(server, customers)
        register_generator_tools(server, customers, settings)
    if settings.read_only:
        for tool in server._tool_manager.list_tools():
            if tool_scope(tool.name) != READ:
                server.remove_tool(tool.name)
    return server
