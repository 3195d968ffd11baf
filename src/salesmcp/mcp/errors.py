"""How our tools answer: our errors as tool errors with the same words, results as compact JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

from salesmcp.errors import SalesmcpError
from salesmcp.models import json_ready


@contextmanager
def tool_errors() -> Iterator[None]:
    try:
        yield
    except SalesmcpError as exc:
        raise ToolError(exc.message) from None


def structured(value: Any, kind: Any = None) -> Any:
    """A tool result: ``value`` (a model, or data of the declared type ``kind``) as structured content,
    and the same JSON, compact, as text.

    (The SDK would indent the text; a compact one costs the model fewer tokens.)
    """
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else json_ready(kind, value)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)
