"""The JSON-RPC messages of an MCP request body, parsed once per request: the rate limiter classes a
``tools/call`` by its tool, the access log names the methods, and both read the same parse."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Scope

_PARSED = "salesmcp.json_rpc"  # where a request's parsed messages are kept, in the ASGI scope's state


def messages(scope: Scope, body: bytes) -> list[dict[str, Any]]:
    """The request's JSON-RPC messages (a batch's every one; none for a body that is not JSON-RPC)."""
    state = scope.setdefault("state", {})
    kept = state.get(_PARSED)
    if kept is not None:
        return kept
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    found = [message for message in (data if isinstance(data, list) else [data]) if isinstance(message, dict)]
    state[_PARSED] = found
    return found


def tool_calls(found: list[dict[str, Any]]) -> list[str]:
    """The names of the tools a request's ``tools/call`` messages call (a name that is not text is '')."""
    names = []
    for message in found:
        if message.get("method") == "tools/call":
            params = message.get("params")
            name = params.get("name") if isinstance(params, dict) else None
            names.append(name if isinstance(name, str) else "")
    return names


def describe(found: list[dict[str, Any]]) -> str:
    """`` tools/call get_city_revenue_by_period`` for a request's messages; empty when there are none."""
    parts = []
    for message in found:
        if not isinstance(message.get("method"), str):
            continue
        params = message.get("params")
        what = (params.get("name") or params.get("uri")) if isinstance(params, dict) else None
        parts.append(message["method"] + (f" {what}" if isinstance(what, str) else ""))
    return (" " + ", ".join(parts)) if parts else ""
