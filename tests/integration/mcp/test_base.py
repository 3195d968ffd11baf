"""SalesMCPServer: a tool states its scope where it is declared, an undeclared tool is refused, and our errors
become tool errors with the same words in one place — through the official SDK client."""

import pytest
from mcp import Client

from salesmcp.errors import InvalidInput, NotFound
from salesmcp.mcp import build_server
from salesmcp.mcp.base import READS_DATA, SETS_DATA
from salesmcp.scopes import ADMIN, GENERATE, READ, READS, UNDECLARED, WRITE, WRITES

pytestmark = pytest.mark.anyio


async def test_a_tool_declares_its_scope_annotations_and_limit_class_where_it_is_declared(store):
    server = build_server(store)

    @server.declare(WRITE, SETS_DATA, "Counts against the generate budget although it only writes.", limit=GENERATE)
    def heavy_write() -> str:
        return "done"

    assert server.access_of("heavy_write").scope == WRITE and server.access_of("heavy_write").limit == GENERATE
    assert server.access_of("get_city_revenue_by_period").limit == READS
    async with Client(server) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert listed["heavy_write"].annotations == SETS_DATA
    assert listed["get_city_revenue_by_period"].annotations == READS_DATA


async def test_a_tool_registered_without_a_declaration_is_refused(store):
    server = build_server(store)

    @server.tool(description="Registered behind the declaration's back.")
    def sneaky() -> str:
        return "leaked"

    assert server.access_of("sneaky") is UNDECLARED
    async with Client(server) as client:
        result = await client.call_tool("sneaky", {})
    assert result.is_error
    assert "declares no scope" in result.content[0].text


async def test_our_errors_become_tool_errors_with_the_same_words_without_a_wrapper(store):
    server = build_server(store)

    @server.declare(READ, READS_DATA, "Fails as a service would.")
    def refuses(which: str) -> str:
        if which == "invalid":
            raise InvalidInput("which", "must be something else")
        raise NotFound("no such thing")

    async with Client(server) as client:
        invalid = await client.call_tool("refuses", {"which": "invalid"})
        missing = await client.call_tool("refuses", {"which": "other"})
    assert invalid.is_error and invalid.content[0].text == "which: must be something else"
    assert missing.is_error and missing.content[0].text == "no such thing"


async def test_a_crash_that_is_not_ours_stays_masked(store):
    server = build_server(store)

    @server.declare(READ, READS_DATA, "Crashes.")
    def crashes() -> str:
        raise RuntimeError("secret internals")

    async with Client(server) as client:
        result = await client.call_tool("crashes", {})
    assert result.is_error and "secret internals" not in result.content[0].text


async def test_read_only_keeps_only_the_tools_that_declare_read(settings, store):
    from salesmcp.store.sql_store import open_store

    database = open_store(settings)
    try:
        server = build_server(store, customers=database, settings=settings.model_copy(update={"read_only": True}))
        assert server.tool_names() and all(server.access_of(name).scope == READ for name in server.tool_names())
        everything = build_server(store, customers=database, settings=settings)
        removed = set(everything.tool_names()) - set(server.tool_names())
        assert removed and all(everything.access_of(name).scope in (WRITE, ADMIN) for name in removed)
        assert {everything.access_of(name).limit for name in removed} == {WRITES, GENERATE}
    finally:
        database.engine.dispose()
