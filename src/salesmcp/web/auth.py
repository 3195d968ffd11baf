"""Who is calling (API tokens, OAuth JWTs), and whether they may: the REST middleware, the OpenAPI
document's security, and /mcp's protected-resource metadata. What each route needs is its own declaration
(read through :class:`~salesmcp.web.routes.RouteTable`); the scope words are :mod:`salesmcp.scopes`.

A caller is an :class:`~mcp.server.auth.provider.AccessToken` whose ``scopes`` are expanded (admin
includes write includes read), so that the MCP SDK's own ``required_scopes`` check and ours agree.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any

from mcp.server.auth.provider import AccessToken
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from salesmcp.config import Settings
from salesmcp.errors import error_body, error_response
from salesmcp.scopes import READ, SCOPES, UNDECLARED, expand
from salesmcp.web.openapi import DocumentHook, operations
from salesmcp.web.routes import RouteTable

VERIFIED_TOKENS_KEPT = 10_000  # JWTs remembered as verified (each until its exp), oldest dropped first


def document_access(settings: Settings, routes: RouteTable) -> DocumentHook:
    """An OpenAPI document hook: each operation says what this configuration asks of its caller
    (the bearer scheme, 401 and 403 once a token source is set; 403 for writes when read-only)."""

    def describe(document: dict[str, Any]) -> None:
        for method, path, operation in operations(document):
            access = routes.access_of_operation(method, path)
            if access is None:
                continue
            needed = access.scope
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


@dataclass(frozen=True)
class _ApiToken:
    token: bytes
    scopes: list[str]
    subject: str


class CallerVerifier:
    """The MCP SDK's ``TokenVerifier``, used by /mcp and by REST alike: API tokens, then OAuth JWTs."""

    def __init__(self, settings: Settings) -> None:
        self.api_tokens = [
            _ApiToken(api.token.encode(), list(api.scopes), f"api-token-{number}")
            for number, api in enumerate(settings.tokens)
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
    return JSONResponse(error_body(code, message), status, headers=headers)


class RequireScope:
    """ASGI middleware for REST: finds the caller from the bearer token and checks the route's scope.

    ``/mcp`` is left to the MCP SDK's own auth (same verifier); ``READ_ONLY`` refuses every write.
    """

    def __init__(
        self, app: ASGIApp, settings: Settings, routes: RouteTable, mcp_path: str, verifier: CallerVerifier | None
    ) -> None:
        self.app = app
        self.read_only = settings.read_only
        self.mcp_path = mcp_path
        self.routes = routes
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == self.mcp_path:
            await self.app(scope, receive, send)
            return
        access = self.routes.find(scope["method"], path).access
        if access is None:  # open to anyone
            await self.app(scope, receive, send)
            return
        if access is UNDECLARED:
            response = _error(403, "forbidden", "this route declares no scope, so nobody may call it")
            await response(scope, receive, send)
            return
        needed = access.scope
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
