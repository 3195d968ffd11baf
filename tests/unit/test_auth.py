"""The scope table, API_TOKENS syntax, the OAuth settings and the exposure rule."""

from __future__ import annotations

import time

import pytest
from pydantic import ValidationError

from salesmcp.config import Settings
from salesmcp.errors import InvalidInput
from salesmcp.mcp import build_server
from salesmcp.store.csv_store import CsvStore
from salesmcp.web.app import create_rest_app
from salesmcp.web.auth import (
    ADMIN,
    READ,
    REST_SCOPES,
    TOOL_SCOPES,
    WRITE,
    CallerVerifier,
    expand,
    is_open,
    parse_api_tokens,
    rest_scope,
)


def test_scopes_nest_admin_over_write_over_read() -> None:
    assert expand([ADMIN]) == [READ, WRITE, ADMIN]
    assert expand([WRITE]) == [READ, WRITE]
    assert expand(["read", "profile"]) == [READ]


def test_api_tokens_carry_their_scopes_and_a_bare_token_has_all() -> None:
    assert parse_api_tokens(" a:read+write , b:admin,c ") == [
        ("a", [READ, WRITE]),
        ("b", [READ, WRITE, ADMIN]),
        ("c", [READ, WRITE, ADMIN]),
    ]
    assert parse_api_tokens("") == []


@pytest.mark.parametrize("value", ["a:root", ":read", "a:read+", "a:"])
def test_api_tokens_with_an_unknown_scope_or_no_token_are_refused(value: str, settings: Settings) -> None:
    with pytest.raises(ValidationError, match="API_TOKENS"):
        Settings(api_tokens=value)


def test_oauth_settings_come_together(settings: Settings) -> None:
    with pytest.raises(ValidationError, match="OAUTH_AUDIENCE, OAUTH_JWKS_URL"):
        Settings(oauth_issuer="https://issuer.example")


def test_every_rest_route_is_in_the_scope_table(settings: Settings) -> None:
    app = create_rest_app(settings, None, [])  # type: ignore[arg-type]  # building routes never touches the store
    table = {(method, rule) for method, rule, _ in REST_SCOPES}
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS") and not is_open(rule.rule) and not rule.rule.startswith("/static")
    }  # fmt: skip
    assert routes == table - {("GET", "/metrics")}  # /metrics is served by Starlette beside Flask


def test_rest_scopes_by_route() -> None:
    assert rest_scope("GET", "/customers/011") == READ
    assert rest_scope("PATCH", "/customers/011") == WRITE
    assert rest_scope("POST", "/customers/011/disable") == WRITE
    assert rest_scope("POST", "/generate") == ADMIN
    assert rest_scope("GET", "/generate/3") == READ
    assert rest_scope("POST", "/reset") == ADMIN
    assert rest_scope("DELETE", "/nowhere") == WRITE


def test_every_tool_is_in_the_scope_table(settings: Settings, store: CsvStore) -> None:
    from salesmcp.store.sql_store import open_store

    database = open_store(settings)
    try:
        server = build_server(store, customers=database, settings=settings)
        assert {tool.name for tool in server._tool_manager.list_tools()} == set(TOOL_SCOPES)
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
