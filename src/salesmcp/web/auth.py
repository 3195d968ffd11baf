"""Who may do what: callers (API tokens, OAuth JWTs), their scopes, and the scope of every route and tool.

Scopes nest: ``admin`` includes ``write``, ``write`` includes ``read``. A caller is an
:class:`~mcp.server.auth.provider.AccessToken` whose ``scopes`` are already expanded that way, so
that the MCP SDK's own ``required_scopes`` check and ours agree.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mcp.server.auth.provider import AccessToken
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from salesmcp.config import Settings

READ, WRITE, ADMIN = "read", "write", "admin"
VERIFIED_TOKENS_KEPT = 10_000  # JWTs remembered as verified (each until its exp), oldest dropped first
SCOPES = (READ, WRITE, ADMIN)
_INCLUDES = {READ: (READ,), WRITE: (WRITE, READ), ADMIN: (ADMIN, WRITE, READ)}

# The one table: the scope each MCP tool and each REST route needs.
TOOL_SCOPES: dict[str, str] = {
    "get_customer_revenue_by_period": READ,
    "get_city_revenue_by_period": READ,
    "get_customer": READ,
    "list_customers": READ,
    "generation_status": READ,
    "summary_snapshot": READ,
    "add_customer": WRITE,
    "update_customer": WRITE,
    "disable_customer": WRITE,
    "activate_customer": WRITE,
    "generate_data": ADMIN,
    "reset_db": ADMIN,
}
REST_SCOPES: tuple[tuple[str, str, str], ...] = (  # (method, Flask rule, scope)
    ("GET", "/customer/<custid>", READ),
    ("GET", "/customers/city/<city>", READ),
    ("GET", "/sales", READ),
    ("GET", "/sales/revenue", READ),
    ("GET", "/customers", READ),
    ("POST", "/customers", WRITE),
    ("GET", "/customers/<custid>", READ),
    ("PATCH", "/customers/<custid>", WRITE),
    ("POST", "/customers/<custid>/disable", WRITE),
    ("POST", "/customers/<custid>/activate", WRITE),
    ("POST", "/generate", ADMIN),
    ("GET", "/generate/<int:run_id>", READ),
    ("POST", "/reset", ADMIN),
    ("GET", "/summary", READ),
    ("GET", "/products", READ),
    ("GET", "/orders", READ),
    ("GET", "/orders/<id>", READ),
    ("GET", "/metrics", READ),  # open instead when METRICS_PUBLIC=true
)
# Open to anyone: the server's description, the health probes, the API documents, OAuth discovery.
OPEN_PATHS = frozenset({"/", "/health", "/health/live", "/health/ready"})
OPEN_PREFIXES = ("/openapi", "/.well-known/")


def _rule_pattern(rule: str) -> re.Pattern[str]:
    return re.compile("".join(r"[^/]+" if part.startswith("<") else re.escape(part)
                              for part in re.split(r"(<[^>]+>)", rule)) + "/?")  # fmt: skip


_REST_TABLE = [(method, _rule_pattern(rule), scope) for method, rule, scope in REST_SCOPES]


def rest_scope(method: str, path: str) -> str:
    """The scope a REST request needs; a route not in the table needs ``read`` to read, else ``write``."""
    method = "GET" if method in ("HEAD", "OPTIONS") else method
    for rule_method, pattern, scope in _REST_TABLE:
        if rule_method == method and pattern.fullmatch(path):
            return scope
    return READ if method == "GET" else WRITE


def tool_scope(name: str) -> str:
    """The scope an MCP tool needs (``admin`` for a tool the table does not name: refuse rather than leak)."""
    return TOOL_SCOPES.get(name, ADMIN)


def is_open(path: str) -> bool:
    """Whether a path is served to anyone, without a token (and without counting against a rate limit)."""
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def document_access(settings: Settings) -> Callable[[dict[str, Any]], None]:
    """An OpenAPI document hook: each operation says what this configuration asks of its caller
    (the bearer scheme, 401 and 403 once a token source is set; 403 for writes when read-only)."""
    from salesmcp.api.common import error_response, operations

    def describe(document: dict[str, Any]) -> None:
        for method, path, operation in operations(document):
            if is_open(path) or (settings.metrics_public and path == "/metrics"):
                continue
            needed = rest_scope(method, path)
            responses = operation.setdefault("responses", {})
            if settings.read_only and needed != READ:
                responses["403"] = error_response("Refused: this server is read-only (READ_ONLY=true)")
            elif settings.has_token_source:
                operation["security"] = [{"bearer": []}]
                challenge = {"WWW-Authenticate": 'Bearer (with error="invalid_token" when one was sent)'}
                responses["401"] = error_response("No valid bearer token was sent", challenge)
                responses["403"] = error_response(f"The token does not carry the '{needed}' scope")

    return describe


def protected_resource_metadata(settings: Settings, resource_url: str) -> list[Any]:
    """The RFC 9728 metadata route of /mcp (when a token source is set), built by the MCP SDK.

    It names the issuer and every scope this resource knows: a standard client asks for all of them
    (the SDK's own choice when the metadata lists them) and the issuer grants what that client may hold.
    """
    if not settings.has_token_source:
        return []
    from mcp.server.auth.routes import create_protected_resource_routes

    # Plain strings: the metadata model keeps an issuer exactly as configured (no trailing slash added),
    # and a client compares issuers exactly.
    return create_protected_resource_routes(
        resource_url=resource_url,  # type: ignore[arg-type]
        authorization_servers=[settings.oauth_issuer or resource_url],  # type: ignore[list-item]
        scopes_supported=list(SCOPES),
        resource_name="salesmcp",
    )


def expand(scopes: Iterable[str]) -> list[str]:
    """The scopes with the ones they include, in the order read, write, admin; unknown ones dropped."""
    held = {included for scope in scopes for included in _INCLUDES.get(scope, ())}
    return [scope for scope in SCOPES if scope in held]


def parse_api_tokens(value: str) -> list[tuple[str, list[str]]]:
    """``API_TOKENS``: ``token:read+write,token2:admin``; a token without ``:scopes`` has every scope."""
    tokens = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        token, sep, scopes = item.partition(":")
        names = [name.strip() for name in scopes.split("+")] if sep else [ADMIN]
        unknown = [name for name in names if name not in SCOPES]
        if not token.strip() or unknown or not names:
            what = f"unknown scope {unknown[0]!r}" if unknown else "an empty token"
            raise ValueError(f"{what} in API_TOKENS: write token:scope+scope, scopes among {', '.join(SCOPES)}")
        tokens.append((token.strip(), expand(names)))
    return tokens


@dataclass(frozen=True)
class _ApiToken:
    token: bytes
    scopes: list[str]
    subject: str


class CallerVerifier:
    """The MCP SDK's ``TokenVerifier``, used by /mcp and by REST alike: API tokens, then OAuth JWTs."""

    def __init__(self, settings: Settings) -> None:
        api = [(settings.api_token, [ADMIN])] if settings.api_token else []
        api += parse_api_tokens(settings.api_tokens)
        self.api_tokens = [
            _ApiToken(token.encode(), expand(scopes), f"api-token-{number}")
            for number, (token, scopes) in enumerate(api)
        ]
        self.issuer = settings.oauth_issuer
        self.audience = settings.oauth_audience
        self._jwks = None
        self._verified: dict[str, AccessToken] = {}  # JWTs verified already, until they expire
        if settings.oauth_jwks_url:
            from jwt import PyJWKClient

            self._jwks = PyJWKClient(settings.oauth_jwks_url, cache_keys=True, timeout=10)

    async def verify_token(self, token: str) -> AccessToken | None:
        given = token.encode()
        found = None
        for candidate in self.api_tokens:  # compare with all of them: the time taken says nothing
            if hmac.compare_digest(given, candidate.token):
                found = candidate
        if found is not None:
            return AccessToken(token=token, client_id=found.subject, scopes=found.scopes, subject=found.subject)
        if self._jwks is None or token.count(".") != 2:
            return None
        cached = self._verified.get(token)
        if cached is not None and (cached.expires_at or 0) > time.time():
            return cached  # verified before and not expired: the same answer, without a signature check
        import anyio

        # In a thread: the first token of a key fetches the issuer's JWKS over the network.
        caller = await anyio.to_thread.run_sync(self._verify_jwt, token)
        if caller is not None:
            if len(self._verified) >= VERIFIED_TOKENS_KEPT:
                self._verified.pop(next(iter(self._verified)))  # the oldest
            self._verified[token] = caller
        return caller

    def _verify_jwt(self, token: str) -> AccessToken | None:
        import jwt

        assert self._jwks is not None
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud"]},
            )
        except (jwt.PyJWTError, ValueError):
            return None
        raw = claims.get("scope", claims.get("scp", ""))
        names = raw.split() if isinstance(raw, str) else [str(name) for name in raw]
        subject = str(claims.get("sub") or claims.get("client_id") or "")
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("azp") or subject),
            scopes=expand(names),
            expires_at=claims.get("exp"),
            subject=subject or None,
            claims=claims,
        )


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "field": None}}, status, headers=headers)


class RequireScope:
    """ASGI middleware for REST: finds the caller from the bearer token and checks the route's scope.

    ``/mcp`` is left to the MCP SDK's own auth (same verifier); ``READ_ONLY`` refuses every write.
    """

    def __init__(self, app: ASGIApp, settings: Settings, mcp_path: str) -> None:
        self.app = app
        self.read_only = settings.read_only
        self.mcp_path = mcp_path
        self.open_metrics = settings.metrics_public
        self.verifier = CallerVerifier(settings) if settings.has_token_source else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        open_metrics = self.open_metrics and path == "/metrics"
        if scope["type"] != "http" or is_open(path) or path == self.mcp_path or open_metrics:
            await self.app(scope, receive, send)
            return
        needed = rest_scope(scope["method"], path)
        if self.read_only and needed != READ:
            response = _error(403, "forbidden", f"this server is read-only (READ_ONLY=true): no '{needed}' requests")
            await response(scope, receive, send)
            return
        if self.verifier is not None:
            token = _bearer_token(scope)
            caller = await self.verifier.verify_token(token) if token else None
            if caller is None:
                message = "send a valid token as 'Authorization: Bearer <token>'"
                challenge = 'Bearer error="invalid_token"' if token else "Bearer"  # RFC 6750 §3.1
                response = _error(401, "unauthorized", message, {"WWW-Authenticate": challenge})
                await response(scope, receive, send)
                return
            if needed not in caller.scopes:
                response = _error(403, "forbidden", f"this request needs the '{needed}' scope")
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


def _bearer_token(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if there is one."""
    header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
    kind, _, token = header.partition(" ")
    return token.strip() or None if kind.lower() == "bearer" else None
