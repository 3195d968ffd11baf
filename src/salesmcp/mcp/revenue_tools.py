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
# The ranges and choices are in the schema for the model; the service checks them, in our words.
Limit = Annotated[
    int,
    Field(
        description=f"most customers to list, 1-{revenue.MAX_CITY_LIMIT}",
        json_schema_extra={"minimum": 1, "maximum": revenue.MAX_CITY_LIMIT},
    ),
]
OrderBy = Annotated[
    str,
    Field(
        description="order of the list: custid (the default), revenue, sales_count; - in front for descending "
        "(-revenue: highest revenue first); ties by custid",
        json_schema_extra={"enum": list(revenue.CITY_ORDERS)},
    ),
]
Offset = Annotated[
    int, Field(description="customers to skip in that order, to read past a cut list", json_schema_extra={"minimum": 0})
]


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
            "YYYY-MM-DD. An unknown city gives zero totals and an empty list. "
            f"The list holds at most limit customers (default {revenue.DEFAULT_CITY_LIMIT}, at most "
            f"{revenue.MAX_CITY_LIMIT}; fewer if its text would pass {revenue.ANSWER_BYTES // 1000} KB); "
            "total_revenue and customer_count always cover the whole city, and a list with only part of "
            "the city says truncated=true, shown and offset. Ask for the rest with offset, or for the "
            "top customers with order_by=-revenue."
        ),
    )
    def get_city_revenue_by_period(
        city: City,
        start_date: StartDate,
        end_date: EndDate,
        limit: Limit = revenue.DEFAULT_CITY_LIMIT,
        order_by: OrderBy = "custid",
        offset: Offset = 0,
    ) -> CityRevenue:
        answer = revenue.city_revenue(source, city, start_date, end_date, limit, order_by, offset)
        return structured(answer, CityRevenue)
