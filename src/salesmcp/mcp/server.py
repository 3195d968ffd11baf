"""One function builds our MCP server; entry points only choose the transport and the data source."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from salesmcp import __version__
from salesmcp.mcp.revenue_tools import register_revenue_tools
from salesmcp.store.base import RevenueSource

INSTRUCTIONS = (
    "Answers questions about customers and sales revenue. Dates are yyyymmdd or YYYY-MM-DD and "
    "periods include both ends; amounts are in the data's currency."
)


def build_server(source: RevenueSource, name: str = "salesmcp", log_level: str = "INFO") -> MCPServer:
    """The MCP server with every tool that ``source`` can serve."""
    server = MCPServer(name, version=__version__, instructions=INSTRUCTIONS, log_level=log_level)  # type: ignore[arg-type]
    register_revenue_tools(server, source)
    return server
