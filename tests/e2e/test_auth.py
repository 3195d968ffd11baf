"""Who may do what, against a real `salesmcp serve`: API tokens and JWTs from a JWKS served on loopback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import anyio
import httpx
import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import Server, start_server

TIMEOUT = 30
ISSUER, AUDIENCE = "https://issuer.example.test", "salesmcp-test"
API_TOKENS = "reader-token:read,writer-token:read+write,admin-token:admin"
ROTATED_OUT = "old-admin-token"  # was in API_TOKENS once; no longer
WRITE_ROUTES = [  # (method, path, body) that change customers: scope write
    ("POST", "/customers", {"custid": "901", "name": "Auth Test", "city": "Oslo"}),
    ("PATCH", "/customers/011", {"phone": "+47 555 0101"}),
    ("POST", "/customers/011/disable", None),
    ("POST", "/customers/011/activate", None),
]
ADMIN_ROUTES = [("POST", "/generate", {"rows": -1}), ("POST", "/reset", None)]  # /reset empties the database
WRITE_TOOLS = {
    "add_customer": {"cust_id": "902", "name": "Tool Test", "city": "Oslo"},
    "disable_customer": {"cust_id": "011"},
    "activate_customer": {"cust_id": "011"},
}
ADMIN_TOOLS = {"reset_db": {"confirm": False}}


class Issuer:
    """An RSA key pair of the test's own, its JWKS on a loopback port, and JWTs signed with it."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        body = json.dumps({"keys": [{**jwk, "kid": "test-key", "use": "sig", "alg": "RS256"}]}).encode()

        class Jwks(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
        self.jwks_url = f"http://127.0.0.1:{self.http.server_address[1]}/jwks.json"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def token(self, scope: str, *, audience: str = AUDIENCE, expires_in: int = 300, key=None) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": audience, "sub": "user-1", "scope": scope, "iat": now, "exp": now + expires_in}
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": "test-key"})


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    running = Issuer()
    yield running
    running.http.shutdown()


def _serve(tmp: Path, env: dict[str, str]) -> Server:
    with pytest.MonkeyPatch.context() as patch:
        for name in ("API_TOKEN", "API_TOKENS", "OAUTH_ISSUER", "OAUTH_AUDIENCE", "OAUTH_JWKS_URL", "READ_ONLY"):
            patch.delenv(name, raising=False)
        patch.setenv("RATE_LIMIT_ENABLED", "false")
        for name, value in env.items():
            patch.setenv(name, value)
        return start_server("serve", "--database-url", f"sqlite:///{(tmp / 'auth.db').as_posix()}")


@pytest.fixture(scope="module")
def server(issuer: Issuer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {"API_TOKENS": API_TOKENS, "OAUTH_ISSUER": ISSUER, "OAUTH_AUDIENCE": AUDIENCE,
           "OAUTH_JWKS_URL": issuer.jwks_url}  # fmt: skip
    running = _serve(tmp_path_factory.mktemp("auth"), env)
    yield running
    running.stop()


def _bad_tokens(issuer: Issuer) -> dict[str, str | None]:
    return {
        "none": None,
        "wrong": "not-a-token",
        "rotated out": ROTATED_OUT,
        "expired": issuer.token("admin", expires_in=-60),
        "wrong audience": issuer.token("admin", audience="someone-else"),
        "foreign key": issuer.token("admin", key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    }


def _rest(server: Server, method: str, path: str, body: object, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, f"{server.url}{path}", json=body, headers=headers, timeout=TIMEOUT)


def test_open_paths_need_no_token(server: Server) -> None:
    assert httpx.get(f"{server.url}/", timeout=TIMEOUT).status_code == 200
    assert httpx.get(f"{server.url}/health", timeout=TIMEOUT).json()["status"] == "ok"


def test_rest_refuses_missing_wrong_expired_foreign_and_rotated_tokens(server: Server, issuer: Issuer) -> None:
    for label, token in _bad_tokens(issuer).items():
        for method, path, body in [*WRITE_ROUTES, *ADMIN_ROUTES, ("GET", "/customers", None)]:
            response = _rest(server, method, path, body, token)
            assert response.status_code == 401, (label, method, path, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("kind", ["api token", "jwt"])
def test_rest_refuses_too_few_scopes_naming_the_one_missing(server: Server, issuer: Issuer, kind: str) -> None:
    reader = "reader-token" if kind == "api token" else issuer.token("read")
    writer = "writer-token" if kind == "api token" else issuer.token("read write")
    for method, path, body in WRITE_ROUTES:
        response = _rest(server, method, path, body, reader)
        assert response.status_code == 403 and "'write'" in response.json()["error"]["message"]
    for method, path, body in ADMIN_ROUTES:
        response = _rest(server, method, path, body, writer)
        assert response.status_code == 403 and "'admin'" in response.json()["error"]["message"]


@pytest.mark.parametrize("kind", ["api token", "jwt"])
def test_rest_allows_the_right_scope(server: Server, issuer: Issuer, kind: str) -> None:
    reader = "reader-token" if kind == "api token" else issuer.token("read")
    writer = "writer-token" if kind == "api token" else issuer.token("write")
    admin = "admin-token" if kind == "api token" else issuer.token("admin")
    assert _rest(server, "GET", "/customer/012", None, reader).json()["custname"] == "Bert"
    assert _rest(server, "POST", "/customers/011/disable", None, writer).status_code == 200
    assert _rest(server, "POST", "/customers/011/activate", None, admin).status_code == 200
    response = _rest(server, "POST", "/generate", {"rows": -1}, admin)  # past auth, refused by validation
    assert response.status_code == 400, response.text


def _client(server: Server, token: str | None, statuses: list[int] | None = None) -> Client:
    """The SDK client over Streamable HTTP sending ``token``; ``statuses`` collects the HTTP answers."""

    async def record(response: httpx2.Response) -> None:
        if statuses is not None:
            statuses.append(response.status_code)

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = httpx2.AsyncClient(headers=headers, timeout=TIMEOUT, event_hooks={"response": [record]})
    return Client(streamable_http_client(f"{server.url}/mcp", http_client=http))


def test_mcp_401_names_the_resource_metadata_which_is_served(server: Server) -> None:
    response = httpx.post(f"{server.url}/mcp", json={}, headers={"Accept": "*/*"}, timeout=TIMEOUT)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    metadata_url = f"{server.url}/.well-known/oauth-protected-resource/mcp"
    assert challenge.startswith("Bearer") and f'resource_metadata="{metadata_url}"' in challenge
    metadata = httpx.get(metadata_url, timeout=TIMEOUT).json()
    assert metadata["resource"] == f"{server.url}/mcp"
    assert metadata["authorization_servers"] == [ISSUER]  # exactly as configured: clients compare issuers exactly
    assert metadata["scopes_supported"] == ["read", "write", "admin"]


@pytest.mark.anyio
async def test_mcp_client_without_a_valid_token_is_refused(server: Server, issuer: Issuer) -> None:
    for label, token in _bad_tokens(issuer).items():
        statuses: list[int] = []
        with pytest.raises(Exception):  # noqa: B017 (the SDK wraps the 401 in its own error groups)
            with anyio.fail_after(TIMEOUT):
                async with _client(server, token, statuses) as client:
                    await client.list_tools()
        assert statuses and set(statuses) == {401}, (label, statuses)


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["api token", "jwt"])
async def test_mcp_tools_check_their_scope(server: Server, issuer: Issuer, kind: str) -> None:
    reader = "reader-token" if kind == "api token" else issuer.token("read")
    writer = "writer-token" if kind == "api token" else issuer.token("write")
    admin = "admin-token" if kind == "api token" else issuer.token("admin")
    with anyio.fail_after(TIMEOUT):
        async with _client(server, reader) as client:
            ok = await client.call_tool("get_customer", {"cust_id": "012"})
            assert not ok.is_error
            for name, arguments in WRITE_TOOLS.items():
                refused = await client.call_tool(name, arguments)
                assert refused.is_error and "'write' scope" in refused.content[0].text, name
        async with _client(server, writer) as client:
            for name, arguments in ADMIN_TOOLS.items():
                refused = await client.call_tool(name, arguments)
                assert refused.is_error and "'admin' scope" in refused.content[0].text, name
            done = await client.call_tool("disable_customer", {"cust_id": "011"})
            assert not done.is_error
        async with _client(server, admin) as client:
            done = await client.call_tool("activate_customer", {"cust_id": "011"})
            assert not done.is_error


@pytest.fixture(scope="module")
def read_only_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = _serve(tmp_path_factory.mktemp("read-only"), {"READ_ONLY": "true"})
    yield running
    running.stop()


def test_read_only_refuses_every_write_route(read_only_server: Server) -> None:
    for method, path, body in [*WRITE_ROUTES, *ADMIN_ROUTES]:
        response = _rest(read_only_server, method, path, body, None)
        assert response.status_code == 403 and "READ_ONLY" in response.json()["error"]["message"], path
    assert _rest(read_only_server, "GET", "/customer/012", None, None).status_code == 200


@pytest.mark.anyio
async def test_read_only_lists_no_write_tools(read_only_server: Server) -> None:
    with anyio.fail_after(TIMEOUT):
        async with Client(f"{read_only_server.url}/mcp") as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
    assert names == {"get_customer_revenue_by_period", "get_city_revenue_by_period", "get_customer",
                     "list_customers", "generation_status", "summary_snapshot", "list_metrics", "query_metrics",
                     "dimension_values", "explain_change", "chart_metrics", "run_sql", "describe_schema"}  # fmt: skip


@pytest.mark.parametrize("kind", ["api token", "jwt"])
def test_reset_is_allowed_with_admin(server: Server, issuer: Issuer, kind: str) -> None:
    # Last of the tests on ``server``: it empties the database.
    admin = "admin-token" if kind == "api token" else issuer.token("admin")
    response = _rest(server, "POST", "/reset", None, admin)
    assert response.status_code == 200 and response.json()["message"] == "reset_complete"
