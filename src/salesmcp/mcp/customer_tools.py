"""Seed 001's six customer tools, over the SQL store in process."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from pydantic import Field

from salesmcp.mcp.base import ADDS_DATA, READS_DATA, SETS_DATA, SalesMCPServer
from salesmcp.mcp.results import structured
from salesmcp.mcp.revenue_tools import CustId
from salesmcp.scopes import READ, WRITE
from salesmcp.services import customers as service
from salesmcp.services.customers import CustomerOut, CustomerPage, StatusChange
from salesmcp.store.sql_store import SqlStore

Text = Annotated[str | None, Field(description="leave out to keep")]


def register_customer_tools(server: SalesMCPServer, store: SqlStore) -> None:
    # One customer by custid is one indexed row. On SQLite (a local file; under WAL a read never waits for
    # a writer) that takes microseconds, less than handing the call to a worker thread and back, so it runs
    # on the event loop (16 clients over HTTP: ~1.35x the calls/s). On a database server it is a network
    # round trip, or a connect timeout while the server is away, which must not stop the loop: a thread.
    lookup_inline = store.engine.dialect.name == "sqlite"

    @server.declare(READ, READS_DATA, 'One customer by custid (e.g. "011"), with status and contacts.')
    async def get_customer(cust_id: CustId) -> CustomerOut:
        def lookup() -> Any:
            return structured(service.get_customer(store, cust_id))

        return lookup() if lookup_inline else await anyio.to_thread.run_sync(lookup)

    @server.declare(
        READ,
        READS_DATA,
        (
            f"Customers in custid order, optionally only one status (active/disabled) or one city. Pages: "
            f"limit (1-{service.MAX_PAGE}, default {service.DEFAULT_PAGE}) and offset; the answer has the total "
            "count and truncated=true when more customers match than the page shows."
        ),
    )
    def list_customers(
        status: Literal["active", "disabled"] | None = None,
        city: str | None = None,
        limit: Annotated[int, Field(description=f"page size, at most {service.MAX_PAGE}")] = service.DEFAULT_PAGE,
        offset: Annotated[int, Field(description="customers to skip")] = 0,
    ) -> CustomerPage:
        return structured(service.list_customers(store, status, city, limit, offset))

    @server.declare(
        WRITE,
        ADDS_DATA,
        (
            "Create an active customer. name is required; email is optional but must be valid and unique. "
            "custid is assigned when not given (and never reused)."
        ),
    )
    def add_customer(
        name: str,
        email: str | None = None,
        phone: str | None = None,
        city: str | None = None,
        country: str | None = None,
        custid: str | None = None,
    ) -> CustomerOut:
        fields = {"name": name, "email": email, "phone": phone, "city": city, "country": country, "custid": custid}
        return structured(service.add_customer(store, _given(fields)))

    @server.declare(
        WRITE,
        ADDS_DATA,
        "Change some of a customer's fields (name, email, phone, city, country); others are kept.",
    )
    def update_customer(
        cust_id: CustId,
        name: Text = None,
        email: Text = None,
        phone: Text = None,
        city: Text = None,
        country: Text = None,
    ) -> CustomerOut:
        changes = _given({"name": name, "email": email, "phone": phone, "city": city, "country": country})
        return structured(service.update_customer(store, cust_id, changes))

    @server.declare(WRITE, SETS_DATA, "Disable a customer account (saying so if it already was).")
    def disable_customer(cust_id: CustId) -> StatusChange:
        return structured(service.set_status(store, cust_id, "disabled"))

    @server.declare(WRITE, SETS_DATA, "Activate a customer account (saying so if it already was).")
    def activate_customer(cust_id: CustId) -> StatusChange:
        return structured(service.set_status(store, cust_id, "active"))


def _given(arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments the caller set (a tool cannot tell "left out" from None, so None means left out)."""
    return {key: value for key, value in arguments.items() if value is not None}
