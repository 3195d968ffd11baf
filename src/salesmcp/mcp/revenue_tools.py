"""Seed 000's two revenue tools. They read any RevenueSource: the APIs over HTTP, CSV or SQL in process."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from salesmcp.mcp.base import READS_DATA, SalesMCPServer
from salesmcp.mcp.results import structured
from salesmcp.models import CityRevenue, CustomerRevenue
from salesmcp.scopes import READ
from salesmcp.services import revenue
from salesmcp.store.base import RevenueSource


def _as_text(value: object) -> object:
    # Clients such as the MCP Inspector CLI send 20260101 or 12 as JSON numbers.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _date_arg(which: str) -> object:
    return Field(description=f"{which} day of the period, inclusive: yyyymmdd (20260131) or YYYY-MM-DD")


StartDate = Annotated[str, BeforeValidator(_as_text), _date_arg("First")]
EndDate = Annotated[str, BeforeValidator(_as_text), _date_arg("Last")]
CustId = Annotated[str, BeforeValidator(_as_text), Field(description='Customer id, e.g. "012"')]
City = Annotated[str, Field(description="City name, e.g. Eindhoven (case-insensitive)")]


def register_revenue_tools(server: SalesMCPServer, source: RevenueSource) -> None:
    @server.declare(
        READ,
        READS_DATA,
        (
            "Revenue of one customer over a period: the customer's custid, custname and city, the sum of "
            "the order amounts (revenue) and the number of sales (sales_count) between start_date and "
            "end_date, both inclusive. Dates are yyyymmdd or YYYY-MM-DD. An unknown customer gives {}."
        ),
    )
    def get_customer_revenue_by_period(cust_id: CustId, start_date: StartDate, end_date: EndDate) -> CustomerRevenue:
        return structured(revenue.customer_revenue(source, cust_id, start_date, end_date), CustomerRevenue)

    @server.declare(
        READ,
        READS_DATA,
        (
            "Revenue of a city over a period: total_revenue, customer_count and, for every customer of "
            "the city sorted by custid, its revenue and sales_count between start_date and end_date, "
            "both inclusive; customers without sales are listed with 0. Dates are yyyymmdd or "
            "YYYY-MM-DD. An unknown city gives zero totals and an empty list."
        ),
    )
    def get_city_revenue_by_period(city: City, start_date: StartDate, end_date: EndDate) -> CityRevenue:
        return structured(revenue.city_revenue(source, city, start_date, end_date), CityRevenue)
