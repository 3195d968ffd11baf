"""Our MCPServer: tools declared with their scope, annotations and rate-limit class; one place that checks
the caller, the arguments and turns our errors into tool errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import ToolAnnotations
from pydantic import AnyUrl

from salesmcp.errors import SalesmcpError
from salesmcp.logs import log_tool_call
from salesmcp.scopes import UNDECLARED, Access, LimitClass, Scope

Tool = TypeVar("Tool", bound=Callable[..., Any])

# The MCP annotations our tools declare (each tool names one where it is declared, beside its scope).
READS_DATA = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
ADDS_DATA = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
SETS_DATA = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
REPLACES_DATA = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)


def _our_error(exc: BaseException) -> SalesmcpError | None:
    """Our own error behind one the SDK raised for a tool or resource (its ``__cause__`` chain)."""
    seen = exc.__cause__
    while seen is not None and not isinstance(seen, SalesmcpError):
        seen = seen.__cause__
    return seen


class SalesMCPServer(MCPServer):
    """MCPServer whose tools state what they ask of the caller where they are declared (``declare``): it checks
    the caller's scope for each call and refuses undeclared tools, names unknown and missing arguments instead
    of dropping or dumping them, turns our errors into tool (or resource) errors with the same words, and logs
    (and counts, with ``on_tool_call``) every call."""

    on_tool_call: Callable[[str, str, float], None] | None = None  # (tool, "ok" | "error", seconds)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._access: dict[str, Access] = {}

    def declare(
        self, scope: Scope, annotations: ToolAnnotations, description: str, limit: LimitClass | None = None
    ) -> Callable[[Tool], Tool]:
        """Register a tool with the scope it needs, its MCP annotations and (when not its scope's) its
        rate-limit class: the one place where these facts about the tool are written."""
        access = Access.of(scope, limit)

        def register(function: Tool) -> Tool:
            self._access[function.__name__] = access
            self.tool(annotations=annotations, description=description)(function)
            return function

        return register

    def access_of(self, name: str) -> Access:
        """What a tool asks of its caller; an undeclared (or unknown) tool asks for everything."""
        return self._access.get(name, UNDECLARED)

    def tool_names(self) -> list[str]:
        return [tool.name for tool in self._tool_manager.list_tools()]

    def keep_only(self, allowed: Callable[[Access], bool]) -> None:
        """Remove every tool whose declaration ``allowed`` refuses (READ_ONLY keeps the read tools)."""
        for name in self.tool_names():
            if not allowed(self.access_of(name)):
                self.remove_tool(name)
                self._access.pop(name, None)

    async def read_resource(self, uri: AnyUrl | str, context: Context | None = None) -> Any:
        try:
            return await super().read_resource(uri, context)
        except ResourceError as exc:
            ours = _our_error(exc)
            if ours is None:
                raise
            raise ResourceError(ours.message) from None

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Context | None = None) -> Any:
        started = time.perf_counter()
        outcome, error = "error", None
        try:
            result = await self._checked_call(name, arguments, context)
            if not getattr(result, "is_error", False):
                outcome = "ok"
            return result
        except ToolError as exc:
            ours = _our_error(exc)
            error = ours.message if ours is not None else str(exc)
            if ours is None:
                raise
            raise ToolError(ours.message) from None
        except Exception as exc:
            error = str(exc)
            raise
        finally:
            seconds = time.perf_counter() - started
            log_tool_call(name, outcome, seconds, error)
            if self.on_tool_call is not None:  # a label per known tool only: callers choose the names
                self.on_tool_call(name if self._tool_manager.get_tool(name) else "unknown", outcome, seconds)

    async def _checked_call(self, name: str, arguments: dict[str, Any], context: Context | None) -> Any:
        if self._tool_manager.get_tool(name) is not None and name not in self._access:
            raise ToolError(f"{name}: declares no scope, so nobody may call it")
        if self._token_verifier is not None:  # over HTTP with a token source: the SDK has found the caller
            caller = get_access_token()
            needed = self.access_of(name).scope
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
