"""Scopes and API_TOKENS, what every route and tool declares, the OAuth settings and the exposure rule."""

from __future__ import annotations

import time

import pytest
from pydantic import ValidationError

from salesmcp.config import Settings
from salesmcp.errors import InvalidInput
from salesmcp.mcp import build_server
from salesmcp.scopes import ADMIN, READ, UNDECLARED, WRITE, ApiToken, expand, parse_api_tokens
from salesmcp.store.csv_store import CsvStore
from salesmcp.web.app import create_rest_app, routes_of
from salesmcp.web.auth import CallerVerifier
from salesmcp.web.routes import OPEN_PREFIXES


def test_scopes_nest_admin_over_write_over_read() -> None:
    assert expand([ADMIN]) == [READ, WRITE, ADMIN]
    assert expand([WRITE]) == [READ, WRITE]
    assert expand(["read", "profile"]) == [READ]


def test_api_tokens_carry_their_scopes_and_a_bare_token_has_all() -> None:
    assert parse_api_tokens(" a:read+write , b:admin,c ") == [
        ApiToken("a", (READ, WRITE)),
        ApiToken("b", (READ, WRITE, ADMIN)),
        ApiToken("c", (READ, WRITE, ADMIN)),
    ]
    assert parse_api_tokens("") == []


def test_settings_hold_the_tokens_parsed_with_api_token_holding_every_scope() -> None:
    settings = Settings(_env_file=None, api_token="t0", api_tokens="a:read")
    assert settings.tokens == [ApiToken("t0", (READ, WRITE, ADMIN)), ApiToken("a", (READ,))]


@pytest.mark.parametrize("value", ["a:root", ":read", "a:read+", "a:"])
def test_api_tokens_with_an_unknown_scope_or_no_token_are_refused(value: str, settings: Settings) -> None:
    with pytest.raises(ValidationError, match="API_TOKENS"):
        Settings(api_tokens=value)


def test_oauth_settings_come_together(settings: Settings) -> None:
    with pytest.raises(ValidationError, match="OAUTH_AUDIENCE, OAUTH_JWKS_URL"):
        Settings(oauth_issuer="https://issuer.example")


def test_every_rest_route_declares_its_scope_or_is_open(settings: Settings) -> None:
    app = create_rest_app(settings, None, [])  # type: ignore[arg-type]  # building routes never touches the store
    routes = routes_of(app)
    undeclared = [
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS") and not rule.rule.startswith(("/static", *OPEN_PREFIXES))
        and routes.find(method, rule.rule.replace("<custid>", "011").replace("<int:run_id>", "3")
                        .replace("<id>", "7")).access is UNDECLARED
    ]  # fmt: skip
    assert undeclared == []


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [("GET", "/customers/011", READ), ("PATCH", "/customers/011", WRITE), ("POST", "/customers/011/disable", WRITE),
     ("POST", "/generate", ADMIN), ("GET", "/generate/3", READ), ("POST", "/reset", ADMIN),
     ("DELETE", "/nowhere", WRITE), ("GET", "/metrics", READ)],
)  # fmt: skip
def test_rest_scopes_by_route(settings: Settings, method: str, path: str, scope: str) -> None:
    routes = routes_of(create_rest_app(settings, None, []))  # type: ignore[arg-type]
    access = routes.find(method, path).access
    assert access is not None and access.scope == scope


@pytest.mark.parametrize("path", ["/", "/health", "/health/live", "/health/ready", "/openapi.json"])
def test_the_description_health_probes_and_documents_are_open(settings: Settings, path: str) -> None:
    assert routes_of(create_rest_app(settings, None, [])).find("GET", path).access is None  # type: ignore[arg-type]


def test_every_tool_declares_its_scope(settings: Settings, store: CsvStore) -> None:
    from salesmcp.store.sql_store import open_store

    database = open_store(settings)
    try:
        server = build_server(store, customers=database, settings=settings)
        assert len(server.tool_names()) == 19
        assert all(server.access_of(name) is not UNDECLARED for name in server.tool_names())
        assert server.access_of("no_such_tool") is UNDECLARED
    finally:
        database.engine.dispose()


@pytest.mark.parametrize(
    "source",
    [
        {"api_token": "t"},
        {"api_tokens": "t:read"},
        {"oauth_issuer": "https://i.example", "oauth_audience": "a", "oauth_jwks_url": "https://i.example/jwks"},
    ],
)
def test_any_token_source_lets_a_public_address_start(source: dict[str, str], settings: Settings) -> None:
    Settings(host="0.0.0.0", **source).check_exposure(token_supported=True)


def test_a_public_address_without_a_token_source_is_refused(settings: Settings) -> None:
    with pytest.raises(InvalidInput, match="API_TOKENS"):
        Settings(host="0.0.0.0").check_exposure(token_supported=True)


@pytest.fixture
def jwt_issuer():
    from tests.e2e.test_auth import Issuer

    running = Issuer()
    yield running
    running.http.shutdown()


@pytest.mark.anyio
async def test_a_verified_jwt_is_remembered_until_it_expires_and_then_refused(
    jwt_issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.e2e.test_auth import AUDIENCE, ISSUER

    settings = Settings(oauth_issuer=ISSUER, oauth_audience=AUDIENCE, oauth_jwks_url=jwt_issuer.jwks_url)
    verifier = CallerVerifier(settings)
    checks: list[str] = []
    check = verifier._verify_jwt
    monkeypatch.setattr(verifier, "_verify_jwt", lambda token: checks.append(token) or check(token))
    token = jwt_issuer.token("write", expires_in=1)

    first, second = await verifier.verify_token(token), await verifier.verify_token(token)
    assert first is not None and second is first and first.scopes == [READ, WRITE]
    assert len(checks) == 1  # the signature was checked once
    time.sleep(max(0.0, first.expires_at - time.time()) + 0.05)  # bounded: the token lives one second
    assert await verifier.verify_token(token) is None
    assert len(checks) == 2  # an expired token is checked again, and refused


@pytest.mark.anyio
async def test_a_route_added_without_a_declaration_is_refused_even_to_an_admin(settings: Settings) -> None:
    import httpx
    from a2wsgi import WSGIMiddleware

    from salesmcp.web.auth import RequireScope

    app = create_rest_app(settings, None, [])  # type: ignore[arg-type]
    app.add_url_rule("/undeclared", "undeclared", lambda: {"leaked": True})
    routes = routes_of(app)
    assert routes.find("GET", "/undeclared").access is UNDECLARED
    settings = settings.model_copy(update={"api_token": "admin-token"})
    guarded = RequireScope(WSGIMiddleware(app), settings, routes, "/mcp", CallerVerifier(settings))
    transport = httpx.ASGITransport(app=guarded)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        refused = await client.get("/undeclared", headers={"Authorization": "Bearer admin-token"})
        allowed = await client.get("/health/live", headers={"Authorization": "Bearer admin-token"})
    assert refused.status_code == 403 and "declares no scope" in refused.json()["error"]["message"]
    assert allowed.status_code == 200
