"""The OpenAPI document against the running main server: schemathesis, all checks, 0 failures."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Server, start_server

SCHEMATHESIS_TIMEOUT = 180.0
MAX_EXAMPLES = 40  # per operation and phase: the whole run takes about 40 s

# Rules a schema cannot state: a start date after the end date, or the 31st of a 30-day month, is a
# 400 although each value alone matches its documented pattern (and, for /analytics/query, an order_by
# that is not among the query's metrics, or revenue by category). Only these operations may answer a
# schema-valid request with 400, each documenting it; everywhere else a valid request must be accepted.
# (POST /sql: a text that is not exactly one read-only query.)
CONFIG = """
[[operations]]
include-path-regex = "^/(sales|sales/revenue|orders|returns|analytics/query|analytics/chart|analytics/explain|sql)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "404"]
"""
# POST /generate: a valid request is refused while another job runs (409), or when start_date is
# after end_date (400); POST /reset while a job runs (409).
ADMIN_CONFIG = """
[[operations]]
include-path-regex = "^/(generate|reset)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "409"]
"""
TOKEN = "openapi-admin-token"
GENERATE_MAX_ROWS = 300  # the jobs schemathesis starts stay small


@pytest.fixture(scope="module")
def main_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``salesmcp serve`` on a free port and a scratch SQLite database (with the demo data)."""
    database = tmp_path_factory.mktemp("openapi") / "scratch.db"
    server = start_server("serve", "--database-url", f"sqlite:///{database.as_posix()}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``salesmcp serve`` with an API token, small generations and room for many admin requests."""
    database = tmp_path_factory.mktemp("openapi-admin") / "scratch.db"
    env = {
        "API_TOKEN": TOKEN,
        "GENERATE_MAX_ROWS": str(GENERATE_MAX_ROWS),
        "RATE_LIMIT_GENERATE": "100000/minute",
    }
    server = start_server("serve", "--database-url", f"sqlite:///{database.as_posix()}", env=env)
    try:
        yield server
    finally:
        server.stop()


def _get(url: str, token: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        return response.status, json.load(response)


def _schemathesis(url: str, tmp_path: Path, config: str, *options: str) -> subprocess.CompletedProcess[str]:
    """schemathesis with every check against the served document (fixed seed), in a subprocess."""
    config_file = tmp_path / "schemathesis.toml"
    config_file.write_text(config, encoding="utf-8")
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "--config-file", str(config_file), "run"),
        *(f"{url}/openapi.json", "--checks", "all", "--max-examples", str(MAX_EXAMPLES)),
        *("--seed", "1", "--request-timeout", "10", *options),
    ]
    return subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=SCHEMATHESIS_TIMEOUT, encoding="utf-8"
    )


def test_openapi_document_is_served_at_a_stable_url(main_server: Server) -> None:
    status, document = _get(f"{main_server.url}/openapi.json")
    assert status == 200
    assert document == _get(f"{main_server.url}/openapi/openapi.json")[1]
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "API_TOKEN (or an access token)",
    }
    error = {"$ref": "#/components/schemas/ErrorResponse"}
    get_customer = document["paths"]["/customers/{custid}"]["get"]["responses"]
    assert get_customer["404"]["content"]["application/json"]["schema"] == error
    assert get_customer["400"]["content"]["application/json"]["schema"] == error
    generate = document["paths"]["/generate"]["post"]
    assert {parameter["name"] for parameter in generate["parameters"]} >= {"rows", "seed", "start_date", "mode"}


def test_the_document_says_what_this_configuration_enforces(main_server: Server, admin_server: Server) -> None:
    """Open on loopback: no security, but rate limits (429 + Retry-After). With a token: bearer, 401, 403."""
    _, open_document = _get(f"{main_server.url}/openapi.json")
    add_customer = open_document["paths"]["/customers"]["post"]
    assert "security" not in add_customer and "401" not in add_customer["responses"]
    assert "Retry-After" in add_customer["responses"]["429"]["headers"]
    assert "429" not in open_document["paths"]["/health"]["get"]["responses"]

    _, document = _get(f"{admin_server.url}/openapi.json")
    generate = document["paths"]["/generate"]["post"]
    assert generate["security"] == [{"bearer": []}]
    assert "WWW-Authenticate" in generate["responses"]["401"]["headers"]
    assert "'admin' scope" in generate["responses"]["403"]["description"]
    assert "'read' scope" in document["paths"]["/summary"]["get"]["responses"]["403"]["description"]
    assert "security" not in document["paths"]["/health"]["get"]
    rows = next(parameter for parameter in generate["parameters"] if parameter["name"] == "rows")
    assert rows["schema"]["maximum"] == GENERATE_MAX_ROWS


def test_the_document_states_the_rules_the_server_enforces(main_server: Server) -> None:
    """What schemathesis found once: a rule the server enforced that the document did not say."""
    _, document = _get(f"{main_server.url}/openapi.json")
    for path in ("/sales", "/sales/revenue", "/orders", "/returns"):  # a rule between two fields: the documented 400
        assert "start_date is after end_date" in document["paths"][path]["get"]["responses"]["400"]["description"]
    revenue = document["paths"]["/sales/revenue"]["get"]["parameters"]
    custid = next(parameter for parameter in revenue if parameter["name"] == "custid")
    assert custid["schema"]["items"]["minLength"] == 1  # `custid=&custid=` is invalid by the document too
    generate = document["paths"]["/generate"]["post"]
    locale = next(parameter for parameter in generate["parameters"] if parameter["name"] == "locale")
    pattern = re.compile(locale["schema"]["pattern"])
    assert pattern.fullmatch("nl_NL:3,de_DE:1") and pattern.fullmatch("en_US")
    assert not pattern.fullmatch("xx_XX") and not pattern.fullmatch("nl_NL:0") and not pattern.fullmatch("nl_NL:1e3")


@pytest.mark.parametrize(
    ("path", "field"),
    [("/sales/revenue?start_date=20260101&end_date=20260131&custid=&custid=", "custid"),
     ("/sales?start_date=20260101&end_date=20260131&custid=%20", "custid"),
     ("/sales?start_date=20260201&end_date=20260101", "start_date")],
)  # fmt: skip
def test_what_the_document_refuses_the_server_refuses_naming_the_field(
    main_server: Server, path: str, field: str
) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        _get(f"{main_server.url}{path}")
    assert refused.value.code == 400
    assert json.load(refused.value)["error"]["field"] in (field, "end_date")


def test_schemathesis_finds_no_failures(main_server: Server, tmp_path: Path) -> None:
    """Every check schemathesis has, against the served document; generate and reset have a run of
    their own (below), and /mcp is not in the document."""
    excluded = ("--exclude-path", "/generate", "--exclude-path", "/reset")
    result = _schemathesis(main_server.url, tmp_path, CONFIG, *excluded)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_schemathesis_finds_no_failures_in_generate_and_reset_with_a_token(
    admin_server: Server, tmp_path: Path
) -> None:
    """POST /generate, GET /generate/{run_id} and POST /reset on a server that requires a token:
    schemathesis also checks that requests without it are refused (ignored_auth)."""
    options = ("--include-path-regex", "^/(generate|reset)", "-H", f"Authorization: Bearer {TOKEN}")
    result = _schemathesis(admin_server.url, tmp_path, ADMIN_CONFIG, *options)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Tested: 3" in result.stdout  # POST /generate, GET /generate/{run_id}, POST /reset
    status, summary = _get(f"{admin_server.url}/summary", TOKEN)  # the jobs it started did run
    assert status == 200 and summary["last_run"] is not None
