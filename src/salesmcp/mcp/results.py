"""How our tools answer: results as structured content and the same JSON, compact, as text.

(Our errors become tool errors with the same words in one place: ``SalesMCPServer.call_tool``.)
"""

from __future__ import annotations

import json
from typing import Any

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

from salesmcp.models import json_ready


def structured(value: Any, kind: Any = None) -> Any:
    """A tool result: ``value`` (a model, or data of the declared type ``kind``) as structured content,
    and the same JSON, compact, as text.

    (The SDK would indent the text; a compact one costs the model fewer tokens.)
    """
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else json_ready(kind, value)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)
