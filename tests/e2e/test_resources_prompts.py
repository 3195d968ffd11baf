"""Resources and prompts over real transports: mcp_server.py and `salesmcp mcp` over stdio, `salesmcp serve`
over Streamable HTTP, each as a real process driven by the SDK client."""

import json
import sys

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

from tests.conftest import ROOT, start_server

TIMEOUT = 60
BERT = {"custid": "012", "custname": "Bert", "city": "Eindhoven", "all_time": {"revenue": 23, "sales_count": 3}}


@pytest.fixture(params=["mcp_server.py over stdio", "salesmcp mcp over stdio", "salesmcp serve over http"])
def target(request, tmp_path):
    """What the SDK Client connects to: a stdio command, or the URL of a running server."""
    database = f"sqlite:///{(tmp_path / 'demo.db').as_posix()}"
    if request.param == "mcp_server.py over stdio":
        apis = request.getfixturevalue("live_apis")
        env = {"CUSTOMER_API_URL": apis.customers.url, "SALES_API_URL": apis.sales.url, "API_TIMEOUT": "5"}
        yield StdioServerParameters(command=sys.executable, args=[str(ROOT / "mcp_server.py")], cwd=str(ROOT), env=env)
    elif request.param == "salesmcp mcp over stdio":
        yield StdioServerParameters(
            command=sys.executable, args=["-m", "salesmcp", "mcp"], cwd=str(tmp_path), env={"DATABASE_URL": database}
        )
    else:
        server = start_server("serve", "--database-url", database)
        yield f"{server.url}/mcp"
        server.stop()


@pytest.mark.anyio
async def test_resources_and_prompts_are_listed_and_read(target):
    with anyio.fail_after(TIMEOUT):
        async with Client(target) as client:
            resources = [r.uri for r in (await client.list_resources()).resources]
            templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
            prompts = [p.name for p in (await client.list_prompts()).prompts]
            model = (await client.read_resource("salesmcp://data-model")).contents[0].text
            bert = (await client.read_resource("customer://012")).contents[0].text
            with pytest.raises(MCPError) as unknown:
                await client.read_resource("customer://999")
            report = await client.get_prompt("city_report", {"city": "Eindhoven", "month": "2026-01"})
            with pytest.raises(MCPError) as bad_month:
                await client.get_prompt("city_report", {"city": "Eindhoven", "month": "2026-1"})
    on_a_database = not isinstance(target, StdioServerParameters) or "mcp" in target.args
    expected_resources = ["salesmcp://data-model", *(["salesmcp://metrics"] if on_a_database else [])]
    expected_prompts = ["city_report", *(["sales_review"] if on_a_database else [])]
    assert (resources, templates, prompts) == (expected_resources, ["customer://{custid}"], expected_prompts)
    assert model.startswith("# The salesmcp data model")
    assert json.loads(bert) == BERT
    assert "no customer with custid '999'" in unknown.value.message
    assert 'start_date="20260101" and end_date="20260131"' in report.messages[0].content.text
    assert "month: must be a month as YYYY-MM" in bad_month.value.message
