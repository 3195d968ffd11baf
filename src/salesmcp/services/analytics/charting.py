"""``chart_metrics``: a ``query_metrics`` answer drawn as a chart. With a time dimension and a second one, the
chart shows the second dimension's top values over the whole window (by the first metric), each as a series
over every period, rather than whatever groups came first."""

from __future__ import annotations

from typing import Any

from salesmcp.errors import InvalidInput
from salesmcp.services.analytics.catalogue import DIMENSIONS
from salesmcp.services.analytics.charts import Chart, ChartKind, render_chart
from salesmcp.services.analytics.query import MAX_LIMIT, query_metrics
from salesmcp.store.sql_store import SqlStore

SERIES = 10  # the most lines one chart shows


def chart_metrics(
    store: SqlStore, chart: object = None, title: object = None, **arguments: Any
) -> tuple[Chart, dict[str, Any]]:
    """The chart of the answer to ``arguments`` (query_metrics' own), and that answer."""
    if chart not in (None, "line", "bar"):
        raise InvalidInput("chart", "must be 'line' or 'bar'")
    if title is not None and (not isinstance(title, str) or len(title) > 200):
        raise InvalidInput("title", "must be text of at most 200 characters")
    group_by = list(arguments.get("group_by") or [])
    if len(group_by) > 2:
        raise InvalidInput("group_by", "a chart shows at most two dimensions (one on the x axis, one as series)")
    times = [name for name in group_by if name in DIMENSIONS and DIMENSIONS[name].time]
    others = [name for name in group_by if name not in times]
    if times and others:
        metrics = arguments.get("metrics")
        first = metrics[0] if isinstance(metrics, list) and metrics else metrics
        top = query_metrics(store, **{**arguments, "group_by": others, "order_by": f"-{first}", "limit": SERIES,
                                      "compare": None, "show_sql": False})  # fmt: skip
        wanted = [row[others[0]] for row in top["rows"]]
        filters = dict(arguments.get("filters") or {})
        if others[0] not in filters and wanted:
            filters[others[0]] = wanted
        arguments = {**arguments, "filters": filters, "limit": MAX_LIMIT}
    answer = query_metrics(store, **arguments)
    kind: ChartKind | None = chart
    return render_chart(answer, kind, title if isinstance(title, str) else None), answer
