"""What each request asks of its caller, read from the declarations: a route's scope and rate-limit class come
from its blueprint (``@bp.get(…, scope=READ)``), a tool's from ``SalesMCPServer.declare``; nothing here lists
them again. One lookup per request serves auth, the rate limits, the access log and the metrics' labels."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from flask import Flask
from werkzeug.exceptions import HTTPException

from salesmcp.api.common import Blueprint
from salesmcp.scopes import READ, UNDECLARED, WRITE, Access

# Open to anyone, whatever route serves them: the API documents and OAuth discovery.
OPEN_PREFIXES = ("/openapi", "/.well-known/")
UNMATCHED = "unmatched"
ROUTES_REMEMBERED = 4096  # (method, path) pairs whose lookup is kept


@dataclass(frozen=True)
class Route:
    """The route a request matches: its template (``/customers/<custid>``, or ``unmatched``), and what it asks
    of the caller (None: open to anyone; ``UNDECLARED`` for a route that states nothing: refused)."""

    template: str
    access: Access | None


def declared_routes(blueprints: Iterable[Blueprint]) -> dict[tuple[str, str], Access | None]:
    """(method, Flask rule) → what the route declared, for every route of these blueprints."""
    return {key: access for blueprint in blueprints for key, access in blueprint.access.items()}


def openapi_path(rule: str) -> str:
    """A Flask rule as OpenAPI writes its path: ``/generate/<int:run_id>`` → ``/generate/{run_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


class RouteTable:
    """Finds the route of a request on the Flask app's URL map (plus routes served beside Flask, such as
    /metrics), and what it declared."""

    def __init__(
        self,
        flask_app: Flask,
        declared: Mapping[tuple[str, str], Access | None],
        beside: Mapping[str, Access | None] | None = None,
    ) -> None:
        self.adapter = flask_app.url_map.bind("localhost")
        self.declared = dict(declared)
        self.beside = dict(beside or {})
        self.by_openapi_path = {(method, openapi_path(rule)): access for (method, rule), access in declared.items()}
        self.find = lru_cache(maxsize=ROUTES_REMEMBERED)(self._find)

    def add_beside(self, path: str, access: Access | None) -> None:
        """A route served beside Flask (by Starlette): matched by its exact path."""
        self.beside[path] = access
        self.find.cache_clear()

    def _find(self, method: str, path: str) -> Route:
        if path in self.beside:
            return Route(path, self.beside[path])
        asked = "GET" if method in ("HEAD", "OPTIONS") else method
        try:
            rule, _ = self.adapter.match(path, method=method, return_rule=True)
        except HTTPException:  # not found, method not allowed, a redirect to the slash: answered after auth
            if path.startswith(OPEN_PREFIXES):
                return Route(UNMATCHED, None)
            return Route(UNMATCHED, Access.of(READ if asked == "GET" else WRITE))
        if path.startswith(OPEN_PREFIXES):
            return Route(rule.rule, None)
        return Route(rule.rule, self.declared.get((asked, rule.rule), UNDECLARED))

    def access_of_operation(self, method: str, openapi_path: str) -> Access | None:
        """What an operation of the OpenAPI document declared (``UNDECLARED`` when it declared nothing)."""
        if openapi_path.startswith(OPEN_PREFIXES):
            return None
        if openapi_path in self.beside:
            return self.beside[openapi_path]
        return self.by_openapi_path.get((method, openapi_path), UNDECLARED)
