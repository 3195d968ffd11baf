"""The metrics layer over REST: the catalogue, questions asked of it, and the values of a dimension."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Response, jsonify
from pydantic import BeforeValidator, ConfigDict, Field, StrictBool

from salesmcp.api.common import PERIOD_RULE, Blueprint, RequestModel, error_responses, extension, json_response
from salesmcp.dates import DATE_PATTERN, OPTIONAL_DATE_PATTERN
from salesmcp.scopes import READ
from salesmcp.services import analytics
from salesmcp.services.analytics.catalogue import DIMENSIONS, METRICS
from salesmcp.services.analytics.charting import chart_metrics
from salesmcp.services.analytics.explain import ADDITIVE, MAX_CONTRIBUTORS, explain_change
from salesmcp.store.sql_store import SqlStore
from salesmcp.validation import text

bp = Blueprint("analytics", __name__, "analytics")


def _not_a_boolean(value: object) -> object:
    if isinstance(value, bool):  # lax mode would read true as 1
        raise ValueError("must be a whole number, not true or false")
    return value


# A whole number as JSON Schema means it (19 and 19.0 alike), never true or false.
WholeNumber = Annotated[int, BeforeValidator(_not_a_boolean)]
DATE: dict[str, Any] = {"json_schema_extra": {"pattern": OPTIONAL_DATE_PATTERN}}
ORDER_BY = f"^-?({'|'.join([*METRICS, *DIMENSIONS])})$"
FilterValue = text(100) | None


class Question(RequestModel):
    """What query_metrics and chart_metrics both take: the metrics, how to group and filter them, the window."""

    model_config = ConfigDict(extra="forbid")

    metrics: list[Literal[tuple(METRICS)]] = Field(  # type: ignore[valid-type]
        min_length=1, max_length=9, description="metric names"
    )
    group_by: list[Literal[tuple(DIMENSIONS)]] | None = Field(None, max_length=3)  # type: ignore[valid-type]
    filters: dict[Literal[tuple(DIMENSIONS)], FilterValue | list[FilterValue]] | None = Field(  # type: ignore[valid-type]
        None, description="dimension → a value or a list of values (ignoring case); null means none"
    )
    start_date: str | None = Field(None, description="first day, inclusive: yyyymmdd or YYYY-MM-DD", **DATE)
    end_date: str | None = Field(None, description="last day, inclusive: yyyymmdd or YYYY-MM-DD", **DATE)
    order_by: str | None = Field(
        None, pattern=ORDER_BY, description="one of this query's metrics or group_by dimensions, '-' for descending"
    )
    limit: WholeNumber | None = Field(None, ge=1, le=analytics.MAX_LIMIT, description="groups to return")


class MetricsQuery(Question):
    """The arguments of the query_metrics tool."""

    compare: Literal["previous_period", "previous_year"] | None = None
    show_sql: StrictBool = False


class ChartQuery(Question):
    """The arguments of the chart_metrics tool: a chart shows at most two dimensions."""

    group_by: list[Literal[tuple(DIMENSIONS)]] | None = Field(None, max_length=2)  # type: ignore[valid-type]
    chart: Literal["line", "bar"] | None = Field(None, description="default: a line over time, else bars")
    title: text(200) | None = None  # type: ignore[valid-type]


class ChartFormat(RequestModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["png", "vega"] = Field("png", description="png: the image; vega: the Vega-Lite spec (JSON)")


class DimensionPath(RequestModel):
    name: Literal[tuple(DIMENSIONS)] = Field(description="a dimension")  # type: ignore[valid-type]


class ValuesQuery(RequestModel):
    model_config = ConfigDict(extra="forbid")

    search: text(100) | None = Field(None, description="part of a value, any case")  # type: ignore[valid-type]
    limit: int | None = Field(None, ge=1, le=analytics.MAX_LIMIT, description="values to return")


# Rules between fields that a schema cannot state, answered with this documented 400.
ANALYTICS_RULES = {
    400: {
        **PERIOD_RULE[400],
        "description": "Invalid input, naming the field and its rule; also for rules between fields: start_date "
        "after end_date, order_by not among the query's metrics or group_by, a metric that cannot be grouped or "
        "filtered by a dimension (revenue by category: ask net_sales), metrics of two levels, compare without "
        "both dates",
    }
}


class ExplainQuery(RequestModel):
    """The arguments of the explain_change tool."""

    model_config = ConfigDict(extra="forbid")

    metric: Literal[ADDITIVE] = Field(description="the metric whose change to explain")  # type: ignore[valid-type]
    start_date: str = Field(description="first day, inclusive: yyyymmdd or YYYY-MM-DD", pattern=DATE_PATTERN)
    end_date: str = Field(description="last day, inclusive: yyyymmdd or YYYY-MM-DD", pattern=DATE_PATTERN)
    by: Literal[tuple(DIMENSIONS)] = Field(description="the dimension to split the change by")  # type: ignore[valid-type]
    compare: Literal["previous_period", "previous_year"] = "previous_period"
    limit: WholeNumber | None = Field(None, ge=1, le=MAX_CONTRIBUTORS, description="contributors to list")


def _store() -> SqlStore:
    return extension("records")


@bp.get("/analytics/metrics", scope=READ, summary="The metric catalogue", responses=json_response("The catalogue"))
def list_metrics():
    return jsonify(analytics.catalogue())


@bp.post(
    "/analytics/query",
    scope=READ,
    summary="Ask the data with governed metrics (the query_metrics tool's arguments and answer)",
    responses={
        **json_response("One row per group, totals, total_rows, truncated, as_of"),
        **ANALYTICS_RULES,
        **error_responses(503),
    },
)
def query(body: MetricsQuery):
    return jsonify(analytics.query_metrics(_store(), **body.model_dump()))


@bp.get(
    "/analytics/dimensions/<name>/values",
    scope=READ,
    summary="The values a dimension has, with their number of orders; search ignores case",
    responses=json_response("The values"),
)
def dimension_values(path: DimensionPath, query: ValuesQuery):
    return jsonify(analytics.dimension_values(_store(), path.name, query.search, query.limit))


@bp.post(
    "/analytics/explain",
    scope=READ,
    summary="Why a metric moved: the values of a dimension that moved it most, and the rest (the explain_change tool)",
    responses={**json_response("The change, its contributors and the rest"), **ANALYTICS_RULES, **error_responses(503)},
)
def explain(body: ExplainQuery):
    arguments = body.model_dump()
    return jsonify(explain_change(_store(), arguments.pop("metric"), arguments.pop("start_date"),
                                  arguments.pop("end_date"), **arguments))  # fmt: skip


PNG = {200: {"description": "The chart (image/png), or with format=vega its Vega-Lite spec (JSON)",
             "content": {"image/png": {"schema": {"type": "string", "format": "binary"}},
                         "application/json": {"schema": {"type": "object"}}}}}  # fmt: skip


@bp.post(
    "/analytics/chart",
    scope=READ,
    summary="A query_metrics answer drawn as a chart: PNG, or ?format=vega for the Vega-Lite spec",
    responses={**PNG, **ANALYTICS_RULES, **error_responses(503)},
)
def chart(body: ChartQuery, query: ChartFormat):
    arguments = body.model_dump()
    drawn, _ = chart_metrics(_store(), arguments.pop("chart"), arguments.pop("title"), **arguments)
    if query.format == "vega":
        return jsonify(drawn.vega_lite)
    return Response(drawn.png, mimetype="image/png")
