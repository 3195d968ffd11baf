"""The metrics layer's tools: the catalogue, questions asked of it, and the values a dimension has."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Literal

from mcp.types import CallToolResult, ImageContent, TextContent
from pydantic import Field

from salesmcp.mcp.base import READS_DATA, SalesMCPServer
from salesmcp.mcp.results import structured
from salesmcp.mcp.revenue_tools import EndDate, StartDate
from salesmcp.scopes import READ
from salesmcp.services import analytics
from salesmcp.services.analytics.catalogue import DIMENSIONS, METRICS, short_list
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


CONTRIBUTORS = f"contributors to list (default {DEFAULT_CONTRIBUTORS}, at most {MAX_CONTRIBUTORS})"


def register_analytics_tools(server: SalesMCPServer, store: SqlStore) -> None:
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
