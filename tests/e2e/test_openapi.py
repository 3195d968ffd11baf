"""The OpenAPI document against the running main server: schemathesis, all checks, 0 failures."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Server, start_server

SCHEMATHESIS_TIMEOUT = 180.0
MAX_EXAMPLES = 30  # per operation and phase: the whole run takes about 15 s

# Rules a schema cannot state: a start date after the end date, or the 31st of a 30-day month, is a
# 400 although each value alone matches its documented pattern. Only these operations may answer a
# schema-valid request with 400; everywhere else a valid request must be accepted.
CONFIG = """
[[operations]]
include-path-regex = "^/(sales|sales/revenue|orders)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "404"]
"""


@pytest.fixture(scope="module")
def main_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``salesmcp serve`` on a free port and a scratch SQLite database (with the demo data)."""
    database = tmp_path_factory.mktemp("openapi") / "scratch.db"
    server = start_server("serve", "--database-url", f"sqlite:///{database.as_posix()}")
    try:
        yield server
    finally:
        server.stop()


def _get(url: str) -> tuple[int, dict]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, json.load(response)


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


def test_schemathesis_finds_no_failures(main_server: Server, tmp_path: Path) -> None:
    """Every check schemathesis has, against the served document; generate and reset are left out
    (they start worker processes and empty the database), and so is /mcp (not in the document)."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG, encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        f"{main_server.url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20261124",
        "--exclude-path",
        "/generate",
        "--exclude-path",
        "/reset",
        "--request-timeout",
        "10",
    ]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=SCHEMATHESIS_TIMEOUT, encoding="utf-8"
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
