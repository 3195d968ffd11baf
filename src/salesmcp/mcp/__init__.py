"""Our MCP server, built with the official SDK (``mcp`` package)."""

from salesmcp.mcp.server import build_server

__all__ = ["build_server"]
