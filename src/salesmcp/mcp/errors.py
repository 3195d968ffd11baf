"""Turns our errors into MCP tool errors with the same words (never a stack trace)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mcp.server.mcpserver.exceptions import ToolError

from salesmcp.errors import SalesmcpError


@contextmanager
def tool_errors() -> Iterator[None]:
    try:
        yield
    except SalesmcpError as exc:
        raise ToolError(exc.message) from None
