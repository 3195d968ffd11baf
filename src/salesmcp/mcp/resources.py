"""MCP beyond tools: resources the client can read and prompts the user can pick.

- ``salesmcp://data-model``: the data explained (tables, what a custid and an order are, dates, money).
- ``customer://{custid}``: one customer, read from the same data source as the tools (the two
  APIs, the CSV files or the database), with its revenue over all time.
- ``city_report(city, month)``: a prompt that asks the model to use the revenue tools and write
  a short report.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.server.mcpserver.prompts import Prompt
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from pydantic import Field

from salesmcp.models import compact_date, money_json
from salesmcp.services.revenue import NO_SALES
from salesmcp.store.base import RevenueSource

DATA_MODEL_URI = "salesmcp://data-model"
CUSTOMER_TEMPLATE = "customer://{custid}"
# Wide enough for any real order, narrow enough for every store and the sales API (yyyymmdd, 4-digit years).
ALL_TIME = (dt.date(1900, 1, 1), dt.date(9999, 12, 31))
_MONTH = re.compile(r"(\d{4})-?(\d{2})")

DATA_MODEL = """\
# The salesmcp data model

## Customers
A customer is identified by its **custid**, a short text such as `"011"`. It is text, not a number:
the leading zero matters (`"011"` is Annie, `"11"` is nobody). Every customer has a name
(`custname` in the seed 000 files, `name` in the database) and a city. Cities match ignoring case
and surrounding spaces (`eindhoven` finds Eindhoven).

## Orders (sales)
An order, or sale, is one purchase by one customer on one day: `ordid` (the order id),
`custid`, `orddate` (the day) and `ordamount` (what it cost). **Revenue** over a period is the sum
of the amounts of a customer's orders in that period; `sales_count` is how many orders that was.
A city's revenue is the sum over its customers; customers without orders in the period count
with 0.

## Dates
Order dates are calendar days, without a time or time zone. Every date parameter takes
`yyyymmdd` (`20260131`, as in seed 000) or ISO `YYYY-MM-DD` (`2026-01-31`), and a period includes
both its first and its last day: January 2026 is `20260101` to `20260131`.

## Money
Amounts are exact decimals with at most two decimal places, sent as plain JSON numbers
(`14`, `19.99`). There is one currency: the seed 000 CSV files carry none, and the database's
payments are in euros (`EUR`), so read every amount as euros.

## Where the data lives
- **Seed 000** (`mcp_server.py`): `customers.csv` (custid, custname, city) and `sales.csv`
  (ordid, custid, orddate, ordamount), served by the customer API (port 5001) and the sales API
  (port 5002); the tools read them over HTTP.
- **The database** (`salesmcp serve`, `salesmcp mcp`): SQLite, MariaDB/MySQL or PostgreSQL, with
  these tables:

| table | what a row is |
|---|---|
| customers | a customer: custid, name, email, phone, city, country, status (`active`/`disabled`) |
| orders | an order: id (= ordid), customer_id, order_date (= orddate), status, total (= ordamount) |
| order_items | one product line of an order: quantity, unit_price, line_total |
| products | what can be ordered: sku, name, category, price, stock |
| payments | how an order was paid: method, amount, currency, paid_at |
| shipments | how an order travelled: carrier, tracking number, shipped and delivered times |
| returns | an order line sent back after delivery: quantity, refund, reason, returned_at, refunded_at |
| generation_runs | one run of the synthetic data generator: its parameters, progress and counts |

An order's status is PLACED, PAID, SHIPPED, DELIVERED or CANCELLED; revenue counts every order
that is not CANCELLED.

## Tools, resources and prompts
Ask for numbers with the tools `get_customer_revenue_by_period` and `get_city_revenue_by_period`.
Read one customer as the resource `customer://{custid}` (e.g. `customer://012`). The prompt
`city_report` asks for a month's report on one city.
"""


def register_resources(server: MCPServer, source: RevenueSource) -> None:
    """The data-model resource, the customer resource template and the ``city_report`` prompt."""

    @server.resource(
        DATA_MODEL_URI,
        name="data-model",
        title="The data model",
        description="What the data is: customers and custids, orders, revenue, dates and money, and the tables.",
        mime_type="text/markdown",
    )
    def data_model() -> str:
        return DATA_MODEL

    @server.resource(
        CUSTOMER_TEMPLATE,
        name="customer",
        title="A customer",
        description=(
            "One customer by custid (e.g. customer://012): custid, custname, city, and its revenue and number "
            "of sales over all time."
        ),
        mime_type="application/json",
    )
    def customer(custid: str) -> str:
        return json.dumps(customer_record(source, custid), ensure_ascii=False, separators=(",", ":"))

    def city_report(
        city: Annotated[str, Field(description="City name, e.g. Eindhoven")],
        month: Annotated[str, Field(description="The month as YYYY-MM or yyyymm, e.g. 2026-01")],
    ) -> str:
        return city_report_text(city, month)

    server.add_prompt(
        CheckedPrompt.from_function(
            city_report,
            title="City revenue report",
            description="Ask for a short revenue report on one city for one month, made with the revenue tools.",
        )
    )


class CheckedPrompt(Prompt):
    """A prompt whose missing or unknown arguments are an "invalid params" error naming the argument
    (the SDK answers them with a bare "Internal server error")."""

    async def render(self, arguments: dict[str, Any] | None, context: Any) -> Any:
        given = arguments or {}
        known = [argument.name for argument in self.arguments or []]
        unknown = sorted(set(given) - set(known))
        if unknown:
            message = f"{unknown[0]}: is not a known argument of {self.name} (allowed: {', '.join(known)})"
            raise MCPError(INVALID_PARAMS, message)
        missing = [
            argument.name for argument in self.arguments or [] if argument.required and argument.name not in given
        ]
        if missing:
            raise MCPError(INVALID_PARAMS, f"{missing[0]}: is required")
        return await super().render(arguments, context)


def customer_record(source: RevenueSource, custid: str) -> dict[str, object]:
    """The customer resource's content; an unknown custid is a "not found" MCP error naming it."""
    found = source.customer(custid)
    if found is None:
        raise ResourceNotFoundError(
            f"no customer with custid {custid!r} (custids are text such as '011'; "
            "list a city's customers with get_city_revenue_by_period)"
        )
    revenue = source.revenue_by_customer(*ALL_TIME, [found.custid]).get(found.custid, NO_SALES)
    return {
        **found.as_dict(),
        "all_time": {"revenue": money_json(revenue.amount), "sales_count": revenue.count},
    }


def month_period(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of a month given as ``YYYY-MM`` or ``yyyymm``; a clear protocol error otherwise."""
    matched = _MONTH.fullmatch(month.strip())
    if matched and 1 <= int(matched[2]) <= 12 and ALL_TIME[0].year <= int(matched[1]):
        year, number = int(matched[1]), int(matched[2])
        return dt.date(year, number, 1), dt.date(year, number, calendar.monthrange(year, number)[1])
    raise MCPError(INVALID_PARAMS, f"month: must be a month as YYYY-MM or yyyymm (e.g. 2026-01); got {month!r}")


def city_report_text(city: str, month: str) -> str:
    """The prompt's one user message: which tool calls to make, and what the report should say."""
    city = city.strip()
    if not city:
        raise MCPError(INVALID_PARAMS, "city: is required and must not be empty")
    first, last = month_period(month)
    before_last = first - dt.timedelta(days=1)
    before_first = before_last.replace(day=1)
    return (
        f"Write a short revenue report on {city} for {first:%B %Y}.\n\n"
        f"1. Call get_city_revenue_by_period with city={json.dumps(city, ensure_ascii=False)}, "
        f'start_date="{compact_date(first)}" and end_date="{compact_date(last)}".\n'
        f'2. Call it again for the month before (start_date="{compact_date(before_first)}", '
        f'end_date="{compact_date(before_last)}") to compare.\n'
        "3. Report in at most five sentences and one small table: the total revenue, the number of "
        "customers and of sales, the customer who bought most, the customers who bought nothing, and "
        "the change from the month before.\n\n"
        "Use only numbers the tools returned, and say so if the city has no customers. Amounts are in "
        f"euros; see the resource {DATA_MODEL_URI} for what the fields mean."
    )
