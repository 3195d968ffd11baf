"""A standard MCP client finds the authorization server by itself: the official SDK's OAuth client
(client credentials) meets our 401, reads the protected-resource metadata (RFC 9728), fetches the
authorization server's metadata, gets a token and calls the tools with it — against a real
`salesmcp serve` and an authorization server of the test's own on loopback."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import anyio
import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp import Client
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from tests.conftest import Server, start_server

TIMEOUT = 30
AUDIENCE = "salesmcp-discovery-test"
CLIENTS = {"reporting-job": ("s3cret-r", "read"), "ops-job": ("s3cret-a", "read write admin")}


class AuthorizationServer:
    """A minimal OAuth 2.1 authorization server: RFC 8414 metadata, a JWKS, and a token endpoint for
    the client-credentials grant that signs JWTs with the test's own RSA key."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.token_requests: list[dict[str, str]] = []
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def _metadata(self) -> dict[str, object]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",  # required by RFC 8414; unused by this grant
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks.json",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "response_types_supported": ["code"],
            "scopes_supported": ["read", "write", "admin"],
        }

    def _jwks(self) -> dict[str, object]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": "as-key", "use": "sig", "alg": "RS256"}]}

    def _token(self, client_id: str, scope: str) -> dict[str, object]:
        now = int(time.time())
        claims = {"iss": self.url, "aud": AUDIENCE, "sub": client_id, "client_id": client_id, "scope": scope,
                  "iat": now, "exp": now + 300}  # fmt: skip
        token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "as-key"})
        return {"access_token": token, "token_type": "Bearer", "expires_in": 300, "scope": scope}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                metadata, jwks = server._metadata(), server._jwks()
                documents = {"/.well-known/oauth-authorization-server": metadata, "/jwks.json": jwks}
                self._json(200, documents[self.path]) if self.path in documents else self._json(404, {})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                server.token_requests.append(form)
                kind, _, credentials = self.headers.get("Authorization", "").partition(" ")
                pair = base64.b64decode(credentials).decode() if kind == "Basic" else ":"
                client_id, _, secret = (urllib.parse.unquote(part) for part in pair.partition(":"))
                known = CLIENTS.get(client_id)
                if self.path != "/token" or known is None or known[0] != secret:
                    self._json(401, {"error": "invalid_client"})
                elif form.get("grant_type") != "client_credentials":
                    self._json(400, {"error": "unsupported_grant_type"})
                else:
                    asked = form.get("scope", known[1]).split()
                    granted = " ".join(scope for scope in asked if scope in known[1].split())
                    self._json(200, server._token(client_id, granted))

            def _json(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


class MemoryTokenStorage:
    """The SDK's TokenStorage, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@pytest.fixture(scope="module")
def authorization_server() -> Iterator[AuthorizationServer]:
    running = AuthorizationServer()
    yield running
    running.http.shutdown()


@pytest.fixture(scope="module")
def server(authorization_server: AuthorizationServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`salesmcp serve` trusting only the authorization server's tokens (no API tokens)."""
    database = tmp_path_factory.mktemp("oauth") / "oauth.db"
    env = {
        "OAUTH_ISSUER": authorization_server.url,
        "OAUTH_AUDIENCE": AUDIENCE,
        "OAUTH_JWKS_URL": f"{authorization_server.url}/jwks.json",
        "API_TOKEN": "",
        "API_TOKENS": "",
        "READ_ONLY": "false",
        "RATE_LIMIT_ENABLED": "false",
    }
    running = start_server("serve", "--database-url", f"sqlite:///{Path(database).as_posix()}", env=env)
    yield running
    running.stop()


def _client(server: Server, authorization_server: AuthorizationServer, client_id: str, scope: str) -> Client:
    provider = ClientCredentialsOAuthProvider(
        server_url=f"{server.url}/mcp",
        storage=MemoryTokenStorage(),
        client_id=client_id,
        client_secret=CLIENTS[client_id][0],
        scope=scope,
        issuer=authorization_server.url,
    )
    http = httpx2.AsyncClient(auth=provider, timeout=TIMEOUT)
    return Client(streamable_http_client(f"{server.url}/mcp", http_client=http))


@pytest.mark.anyio
async def test_the_sdk_client_discovers_the_issuer_gets_a_token_and_calls_a_read_tool(
    server: Server, authorization_server: AuthorizationServer
) -> None:
    before = len(authorization_server.token_requests)
    with anyio.fail_after(TIMEOUT):
        async with _client(server, authorization_server, "reporting-job", "read") as client:
            answer = await client.call_tool("get_customer", {"cust_id": "012"})
    assert not answer.is_error, answer.content
    assert answer.structured_content["custid"] == "012"
    request = authorization_server.token_requests[before]  # the client asked our issuer, found by discovery
    assert request["grant_type"] == "client_credentials"
    assert request["scope"] == "read write admin"  # every scope the metadata lists; the issuer grants "read"
    assert request["resource"] == f"{server.url}/mcp"  # RFC 8707: the resource it read from the metadata


@pytest.mark.anyio
async def test_a_discovered_token_carries_only_the_scopes_the_issuer_granted_that_client(
    server: Server, authorization_server: AuthorizationServer
) -> None:
    with anyio.fail_after(TIMEOUT):
        async with _client(server, authorization_server, "reporting-job", "read") as client:
            refused = await client.call_tool("disable_customer", {"cust_id": "011"})
        async with _client(server, authorization_server, "ops-job", "read write admin") as client:
            allowed = await client.call_tool("disable_customer", {"cust_id": "011"})
            await client.call_tool("activate_customer", {"cust_id": "011"})
    assert refused.is_error and "'write' scope" in refused.content[0].text
    assert not allowed.is_error, allowed.content


@pytest.mark.anyio
async def test_a_client_the_issuer_does_not_know_gets_no_token_and_no_tools(
    server: Server, authorization_server: AuthorizationServer
) -> None:
    provider = ClientCredentialsOAuthProvider(
        server_url=f"{server.url}/mcp", storage=MemoryTokenStorage(), client_id="stranger", client_secret="guess",
        scope="read", issuer=authorization_server.url,
    )  # fmt: skip
    http = httpx2.AsyncClient(auth=provider, timeout=TIMEOUT)
    with pytest.raises(Exception):  # noqa: B017 (the SDK wraps the refused token request in its own errors)
        with anyio.fail_after(TIMEOUT):
            async with Client(streamable_http_client(f"{server.url}/mcp", http_client=http)) as client:
                await client.list_tools()
