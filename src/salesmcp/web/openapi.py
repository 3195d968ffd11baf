"""Finishing the OpenAPI document with what the server's configuration enforces: hooks that run once the
document is built (who may call each operation, rate limits, what needs the database)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from salesmcp.errors import error_response

DocumentHook = Callable[[dict[str, Any]], None]


def operations(document: dict[str, Any]) -> Iterable[tuple[str, str, dict[str, Any]]]:
    """(HTTP method in capitals, path, operation) for every operation of an OpenAPI document."""
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options"):
                yield method.upper(), path, operation


def document_unavailable(*without_database: str) -> Callable[[dict[str, Any]], None]:
    """An OpenAPI document hook: every operation but those on ``without_database`` paths may answer
    503 while the database cannot be reached."""

    def describe(document: dict[str, Any]) -> None:
        for _method, path, operation in operations(document):
            responses = operation.setdefault("responses", {})
            if path not in without_database and "503" not in responses:
                responses["503"] = error_response("The database cannot be reached ('database unavailable: …')")

    return describe
