"""The metrics layer's tools: the catalogue, questions asked of it, and the values a dimension has."""

from __future__ import annotations

import base64
import calendar
import datetime as dt
import json
import re
from typing import Annotated, Any, Literal

from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, ImageContent, TextContent
from mcp_types import INVALID_PARAMS
from pydantic import Field

from salesmcp.mcp.base import READS_DATA, SalesMCPServer
from salesmcp.mcp.resources import CheckedPrompt
from salesmcp.mcp.results import structured
from salesmcp.mcp.revenue_tools import EndDate, StartDate
from salesmcp.scopes import READ
from salesmcp.services import analytics
from salesmcp.services.analytics.catalogue import DIMENSIONS, METRICS, markdown, short_list
from salesmcp.services.analytics.charting import chart_metrics as chart_service
from salesmcp.services.analytics.explain import ADDITIVE, DEFAULT_CONTRIBUTORS, MAX_CONTRIBUTORS
from salesmcp.services.analytics.explain import explain_change as explain_change_service
from salesmcp.store.sql_store import SqlStore

MetricNames = Annotated[
    list[str], Field(description=f"one or more of: {', '.join(METRICS)} (all order-level, or all item-level)")
]
Dimensions = Annotated[list[str], Field(description=f"zero to three of: {', '.join(DIMENSIONS)}")]
Filters = Annotated[
    dict[str, str | list[str | None] | None],
    Field(description="dimension → a value or a list of values, text compared ignoring case; null means none"),
]
OrderBy = Annotated[
    str | None, Field(description="a metric or group_by dimension; '-' in front for descending (-revenue: top first)")
]
Limit = Annotated[
    int | None,
    Field(description=f"groups to return (default {analytics.DEFAULT_LIMIT}, at most {analytics.MAX_LIMIT})"),
]
Compare = Annotated[
    Literal["previous_period", "previous_year"] | None,
    Field(description="add <metric>_previous and <metric>_change_pct (needs start_date and end_date)"),
]


METRICS_URI = "salesmcp://metrics"
_PERIOD = re.compile(r"(\d{4})(?:-?(?:Q([1-4])|(0[1-9]|1[0-2])))?")


def review_window(period: str) -> tuple[dt.date, dt.date]:
    """A year (2026), a quarter (2026-Q1) or a month (2026-01) as its first and last day."""
    matched = _PERIOD.fullmatch(period.strip())
    if matched is None or int(matched[1]) < 1900:
        raise MCPError(
            INVALID_PARAMS, f"period: must be a year (2026), a quarter (2026-Q1) or a month (2026-01); got {period!r}"
        )
    year = int(matched[1])
    if matched[2]:
        first_month, last_month = 3 * int(matched[2]) - 2, 3 * int(matched[2])
    elif matched[3]:
        first_month = last_month = int(matched[3])
    else:
        first_month, last_month = 1, 12
    return dt.date(year, first_month, 1), dt.date(year, last_month, calendar.monthrange(year, last_month)[1])


def sales_review_text(period: str) -> str:
    """The prompt's one user message: the usual questions of a sales review, asked with the metrics tools."""
    first, last = review_window(period)
    window = f'start_date="{first.isoformat()}", end_date="{last.isoformat()}"'
    grain = "month" if (last - first).days > 40 else "week"
    return (
        f"Write a short sales review of {period.strip()} ({first.isoformat()} to {last.isoformat()}).\n\n"
        f"1. Read {METRICS_URI} (or call list_metrics) for what each metric means.\n"
        f'2. query_metrics with metrics=["revenue", "orders", "average_order_value", "new_customers"], '
        f'group_by=["{grain}"], {window}, compare="previous_year": the trend and how it compares.\n'
        f'3. chart_metrics with metrics=["revenue"], group_by=["{grain}"], {window}: show the trend.\n'
        f'4. query_metrics with metrics=["net_sales"], group_by=["category"], order_by="-net_sales", {window}, '
        'compare="previous_year": which categories grew.\n'
        f'5. explain_change with metric="revenue", by="city", {window}, compare="previous_year": why revenue '
        "moved, and how much of it came from more orders or from their value.\n\n"
        "Report in at most eight sentences and one small table. Use only numbers the tools returned; amounts are "
        "in euros; say when an answer was truncated."
    )


CONTRIBUTORS = f"contributors to list (default {DEFAULT_CONTRIBUTORS}, at most {MAX_CONTRIBUTORS})"


def register_analytics_tools(server: SalesMCPServer, store: SqlStore) -> None:
    @server.resource(
        METRICS_URI,
        name="metrics",
        title="The metric catalogue",
        description="Every metric's exact definition, unit and rounding, and every dimension's values.",
        mime_type="text/markdown",
    )
    def metric_catalogue() -> str:
        rules = "\n".join(f"- {rule}" for rule in analytics.catalogue()["rules"])  # type: ignore[attr-defined]
        return f"# The metric catalogue\n\n{rules}\n\n{markdown()}"

    def sales_review(
        period: Annotated[str, Field(description="a year (2026), a quarter (2026-Q1) or a month (2026-01)")],
    ) -> str:
        return sales_review_text(period)

    server.add_prompt(
        CheckedPrompt.from_function(
            sales_review,
            title="Sales review",
            description="Walk the usual questions of a sales review for a year, quarter or month with the metrics "
            "tools: the trend, a chart, the categories that grew and why revenue moved.",
        )
    )

    @server.declare(
        READ,
        READS_DATA,
        "The metric catalogue: every metric with its exact definition and unit, every dimension with its value "
        "format and the metrics it applies to, and the rules (counted orders, windows). Read it first.",
    )
    def list_metrics() -> dict[str, Any]:
        return structured(analytics.catalogue(), dict)

    @server.declare(
        READ,
        READS_DATA,
        "Ask the sales data a question with governed metrics, computed exactly in the database: "
        f"{short_list()}. Group by dimensions, filter, pick a window (start_date/end_date inclusive), order "
        "(order_by '-revenue' with limit for a top-N) and compare with the previous period or year. Answers "
        "{rows: one per group, totals, total_rows, truncated, as_of}; truncated=true when groups were left out.",
    )
    def query_metrics(
        metrics: MetricNames,
        group_by: Dimensions | None = None,
        filters: Filters | None = None,
        start_date: StartDate | None = None,
        end_date: EndDate | None = None,
        order_by: OrderBy = None,
        limit: Limit = None,
        compare: Compare = None,
        show_sql: Annotated[bool, Field(description="also return the SQL that ran")] = False,
    ) -> dict[str, Any]:
        answer = analytics.query_metrics(
            store, metrics=metrics, group_by=group_by, filters=filters, start_date=start_date, end_date=end_date,
            order_by=order_by, limit=limit, compare=compare, show_sql=show_sql,
        )  # fmt: skip
        return structured(answer, dict)

    @server.declare(
        READ,
        READS_DATA,
        "The values one dimension has in the data, with their number of orders (most first); search keeps those "
        "containing it, ignoring case ('amst' finds Amsterdam). Use it before filtering on a name you are not "
        "sure of.",
    )
    def dimension_values(
        dimension: Annotated[str, Field(description=f"one of: {', '.join(DIMENSIONS)}")],
        search: Annotated[str | None, Field(description="part of a value, any case")] = None,
        limit: Limit = None,
    ) -> dict[str, Any]:
        return structured(analytics.dimension_values(store, dimension, search, limit), dict)

    @server.declare(
        READ,
        READS_DATA,
        "Why a metric moved between a window and the one before it (or a year earlier): the total change, the "
        "values of one dimension that moved it most (largest change first) and the rest, which add up to the "
        "change exactly; for revenue also the part from the number of orders and the part from their average "
        f"value. Metrics: {', '.join(ADDITIVE)}.",
    )
    def explain_change(
        metric: Annotated[str, Field(description=f"one of: {', '.join(ADDITIVE)}")],
        start_date: StartDate,
        end_date: EndDate,
        by: Annotated[str, Field(description=f"the dimension to split the change by: one of {', '.join(DIMENSIONS)}")],
        compare: Annotated[
            Literal["previous_period", "previous_year"], Field(description="the earlier window")
        ] = "previous_period",
        limit: Annotated[
            int | None,
            Field(description=f"contributors to list (default {DEFAULT_CONTRIBUTORS}, at most {MAX_CONTRIBUTORS})"),
        ] = None,
    ) -> dict[str, Any]:
        return structured(explain_change_service(store, metric, start_date, end_date, compare, by, limit), dict)

    @server.declare(
        READ,
        READS_DATA,
        "The answer to a query_metrics question drawn as a chart: a PNG image (a line over time, bars for "
        "categories), the charted rows as short text, and a Vega-Lite spec in the structured content so any client "
        "can draw it again. Same arguments as query_metrics, plus chart ('line' or 'bar') and title; with a time "
        f"dimension and a second one, the second's top {10} values are drawn as lines.",
    )
    def chart_metrics(
        metrics: MetricNames,
        group_by: Dimensions | None = None,
        filters: Filters | None = None,
        start_date: StartDate | None = None,
        end_date: EndDate | None = None,
        order_by: OrderBy = None,
        limit: Limit = None,
        chart: Annotated[Literal["line", "bar"] | None, Field(description="default: line over time, else bar")] = None,
        title: Annotated[str | None, Field(description="the chart's title (default: made from the names)")] = None,
    ) -> dict[str, Any]:
        drawn, answer = chart_service(
            store, chart, title, metrics=metrics, group_by=group_by, filters=filters, start_date=start_date,
            end_date=end_date, order_by=order_by, limit=limit,
        )  # fmt: skip
        data = {"vega_lite": drawn.vega_lite, "total_rows": answer["total_rows"], "truncated": answer["truncated"]}
        image = ImageContent(type="image", data=base64.b64encode(drawn.png).decode("ascii"), mime_type="image/png")
        return CallToolResult(  # type: ignore[return-value]  # a tool may answer with its own result
            content=[image, TextContent(type="text", text=drawn.summary)],
            structured_content=json.loads(json.dumps(data)),
        )
