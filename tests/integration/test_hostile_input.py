"""A hostile corpus in every parameter of every REST route and every MCP tool: a 4xx or a tool error
(or, for a read, the seed's empty answer), never a 500, and the database exactly as it was.

Writes are aimed so that no value can succeed: a new customer reuses a custid and an email already
taken (409 once the input passes its rules), a change names an unknown customer (404), a generation
asks for more rows than allowed. So any change to the database digest is a bug. ``POST /reset`` and
the ``reset_db`` tool are left out: a truthy ``confirm`` is their only input.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from mcp import Client
from sqlalchemy import select

from salesmcp.config import Settings
from salesmcp.mcp import build_server
from salesmcp.store.database import open_engine
from salesmcp.store.schema import metadata
from salesmcp.store.sql_store import SqlStore
from salesmcp.web.app import create_rest_app

TEXT = [
    "' OR '1'='1",
    "1; DROP TABLE customers; --",
    '" OR ""="',
    "') UNION SELECT sqlite_version() --",
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "x" * 10_000,
    "\u202egnp.exe",  # right-to-left override
    "\u200fשלום\u200e",  # right-to-left and left-to-right marks
    "e\u0301" * 300,  # combining marks
    "😀" * 300,
    "\ud800",  # a lone surrogate
    "a\x00b",
    "\x1b[31mred",
    "",
    " ",
    "null",
    "<script>alert(1)</script>",
    "${jndi:ldap://127.0.0.1/a}",
]
WRONG_TYPES: list[Any] = [None, 12345678901234567890, -1, 1.5, True, [], {}, ["a", "b"], {"$gt": ""}]
CORPUS: list[Any] = [*TEXT, *WRONG_TYPES]
UNKNOWN = "nobody"


def _digest(store: SqlStore) -> str:
    """A hash of every row of every table, in primary-key order."""
    hasher = hashlib.sha256()
    with store.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table).order_by(*table.primary_key.columns)):
                hasher.update(repr(tuple(row)).encode("utf-8", "surrogatepass"))
    return hasher.hexdigest()


@pytest.fixture
def store(tmp_path) -> Iterator[SqlStore]:
    database = SqlStore(open_engine(f"sqlite:///{(tmp_path / 'hostile.db').as_posix()}"))
    yield database
    database.engine.dispose()


def _as_query(value: Any) -> bytes:
    """The value as a client sends it in a URL: its UTF-8 bytes (a lone surrogate too, as WTF-8)."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text.encode("utf-8", "surrogatepass")


def _query(**values: str | bytes) -> str:
    return urlencode(values)


def _path(template: str, value: bytes) -> str:
    return template.format(quote(value, safe=""))


def _rest_cases() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, request options) with one hostile value in one place."""
    dates = {"start_date": "20260101", "end_date": "20261231"}
    reads: list[tuple[str, dict[str, str]]] = [
        ("/sales", {**dates}),
        ("/sales/revenue", {**dates, "custid": "011"}),
        ("/customers", {}),
        ("/products", {}),
        ("/orders", {}),
    ]
    extra_names = {
        "/customers": ["status", "city", "limit", "offset"],
        "/products": ["category", "active", "limit", "offset"],
        "/orders": ["from", "to", "status", "customer", "limit", "offset"],
        "/sales": ["start_date", "end_date", "custid"],
        "/sales/revenue": ["start_date", "end_date", "custid"],
    }
    for value in CORPUS:
        text = _as_query(value)
        for path, base in reads:
            for name in extra_names[path]:
                yield "GET", path, {"query_string": _query(**{**base, name: text})}
        for template in ("/customer/{}", "/customers/city/{}", "/customers/{}", "/orders/{}", "/generate/{}"):
            yield "GET", _path(template, text), {}
        for template in ("/customers/{}", "/customers/{}/disable", "/customers/{}/activate"):
            method = "PATCH" if template == "/customers/{}" else "POST"
            yield method, _path(template, text), {"json": {"city": "Utrecht"}}
        new = {"name": "Ann", "custid": "011", "email": "bert@example.com"}  # both taken: a 409 at best
        for field in ("name", "email", "phone", "city", "country", "custid"):
            yield "POST", "/customers", {"json": {**new, field: value}}
        for field in ("name", "email", "phone", "city", "country", "unknown"):
            yield "PATCH", f"/customers/{UNKNOWN}", {"json": {field: value}}
        generation = {"rows": 10**12, "mode": "not-a-mode"}  # both refused: never a job
        for field in ("rows", "seed", "start_date", "end_date", "locale", "mode", "currency", "batch_size"):
            yield "POST", "/generate", {"json": {**generation, field: value}}
            yield "POST", "/generate", {"query_string": _query(**{**generation, field: text})}
    for body in ("[" * 5000 + "]" * 5000, "not json", '{"name": ', json.dumps([1, 2]), "x" * (2 * 1024 * 1024)):
        yield "POST", "/customers", {"data": body, "content_type": "application/json"}
        yield "POST", "/generate", {"data": body, "content_type": "application/json"}


def test_hostile_rest_input_is_refused_and_changes_nothing(settings: Settings, store: SqlStore) -> None:
    client = create_rest_app(settings, store, []).test_client()
    before = _digest(store)
    failures = []
    for method, path, options in _rest_cases():
        response = client.open(path, method=method, **options)
        body = response.get_json(silent=True)
        is_error = isinstance(body, dict) and set(body.get("error") or {}) == {"code", "message", "field"}
        read_answer = method == "GET" and response.status_code == 200
        if response.status_code >= 500 or not (read_answer or (400 <= response.status_code < 500 and is_error)):
            failures.append((method, path[:80], str(options)[:120], response.status_code, response.data[:160]))
    assert not failures, failures[:10]
    assert _digest(store) == before


def _tool_cases(tools: dict[str, dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    bases = {
        "get_customer_revenue_by_period": {"cust_id": "011", "start_date": "20260101", "end_date": "20261231"},
        "get_city_revenue_by_period": {"city": "Utrecht", "start_date": "20260101", "end_date": "20261231"},
        "get_customer": {"cust_id": "011"},
        "list_customers": {},
        "add_customer": {"name": "Ann", "custid": "011", "email": "bert@example.com"},
        "update_customer": {"cust_id": UNKNOWN},
        "disable_customer": {"cust_id": UNKNOWN},
        "activate_customer": {"cust_id": UNKNOWN},
        "generate_data": {"rows": 10**12, "mode": "not-a-mode"},
        "generation_status": {"run_id": 1},
    }
    for name, schema in tools.items():
        if name not in bases:
            continue  # reset_db (a truthy confirm is its only input) and tools without parameters
        for parameter in schema.get("properties", {}):
            for value in CORPUS:
                yield name, {**bases[name], parameter: value}


# What an unexpected exception (a crash, our "500") would show in a tool error's text.
CRASH_MARKERS = ("internal", "traceback", "sqlalchemy", "overflow", "encode", "decode", "recursion", "attributeerror")
WRITES = {"add_customer", "update_customer", "disable_customer", "activate_customer", "generate_data"}


@pytest.mark.anyio
async def test_hostile_tool_arguments_are_refused_and_change_nothing(settings: Settings, store: SqlStore) -> None:
    before = _digest(store)
    failures = []
    async with Client(build_server(store, customers=store, settings=settings)) as client:
        tools = {tool.name: tool.input_schema for tool in (await client.list_tools()).tools}
        assert set(tools) >= WRITES
        for name, arguments in _tool_cases(tools):
            try:
                result = await client.call_tool(name, arguments)
            except Exception as exc:  # a protocol error (invalid params) is a refusal too, but not a crash
                if any(marker in str(exc).lower() for marker in CRASH_MARKERS):
                    failures.append((name, str(arguments)[:120], repr(exc)[:160]))
                continue
            text = " ".join(getattr(part, "text", "") for part in result.content)
            crashed = result.is_error and any(marker in text.lower() for marker in CRASH_MARKERS)
            if crashed or (name in WRITES and not result.is_error):
                failures.append((name, str(arguments)[:120], text[:160]))
    assert not failures, failures[:10]
    assert _digest(store) == before
