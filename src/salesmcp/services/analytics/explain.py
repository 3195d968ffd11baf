"""``explain_change``: why a metric moved between two windows — which values of a dimension moved it, and for
revenue how much came from the number of orders and how much from their average value. The parts add up to
the change exactly (to the cent)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from salesmcp.dates import check_period, parse_date
from salesmcp.errors import InvalidInput
from salesmcp.models import money_json
from salesmcp.services.analytics.catalogue import DIMENSIONS, ITEM_METRICS, METRICS
from salesmcp.services.analytics.query import COMPARES, MAX_LIMIT, previous_window, query_metrics
from salesmcp.store.sql_store import SqlStore

# Metrics whose groups add up to their total (a customer is in one group of new_customers, but may be in many
# of customers; a ratio does not add at all).
ADDITIVE = ("revenue", "orders", "net_sales", "units", "new_customers", "net_revenue", "refunds", "returned_units")
DEFAULT_CONTRIBUTORS = 10
MAX_CONTRIBUTORS = 50


def _number(value: object) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def _out(value: Decimal, money: bool) -> float | int:
    return money_json(value) if money else int(value)


def _pct(current: Decimal, previous: Decimal) -> float | None:
    if previous == 0:
        return None
    return float(((current - previous) / previous * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def explain_change(
    store: SqlStore,
    metric: object,
    start_date: object,
    end_date: object,
    compare: object = "previous_period",
    by: object = None,
    limit: object = None,
) -> dict[str, Any]:
    """The change of ``metric`` from the earlier window to [start_date, end_date], split by ``by``'s values."""
    if metric not in METRICS:
        raise InvalidInput("metric", f"unknown metric {metric!r}; the metrics are {', '.join(METRICS)}")
    if metric not in ADDITIVE:
        raise InvalidInput("metric", f"{metric} does not add up over groups; explain one of {', '.join(ADDITIVE)}")
    if not isinstance(by, str) or by not in DIMENSIONS:
        raise InvalidInput("by", f"name the dimension to split the change by: one of {', '.join(DIMENSIONS)}")
    if METRICS[metric].level not in DIMENSIONS[by].levels:
        raise InvalidInput("by", f"{metric} cannot be split by {by}: an order has lines of many {by} values; explain "
                           f"{' or '.join(m for m in ITEM_METRICS if m in ADDITIVE)} by {by} instead")  # fmt: skip
    if compare not in COMPARES:
        raise InvalidInput("compare", f"must be one of {', '.join(COMPARES)}")
    start, end = parse_date(start_date, "start_date"), parse_date(end_date, "end_date")
    check_period(start, end)
    if limit is None:
        limit = DEFAULT_CONTRIBUTORS
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_CONTRIBUTORS:
        raise InvalidInput("limit", f"must be a whole number from 1 to {MAX_CONTRIBUTORS}")
    assert isinstance(metric, str) and isinstance(compare, str)
    first, last = previous_window(start, end, compare)
    money = METRICS[metric].decimals is not None
    windows = [
        query_metrics(store, metrics=[metric], group_by=[by], start_date=window_start.isoformat(),
                      end_date=window_end.isoformat(), order_by=f"-{metric}", limit=MAX_LIMIT)
        for window_start, window_end in ((start, end), (first, last))
    ]  # fmt: skip
    now, before = ({row[by]: _number(row[metric]) for row in w["rows"]} for w in windows)
    current, previous = (_number(w["totals"][metric]) for w in windows)
    changes = {value: now.get(value, Decimal(0)) - before.get(value, Decimal(0)) for value in {*now, *before}}
    ranked = sorted(changes, key=lambda value: (-abs(changes[value]), str(value)))[:limit]
    contributors = [
        {by: value, "current": _out(now.get(value, Decimal(0)), money),
         "previous": _out(before.get(value, Decimal(0)), money), "change": _out(changes[value], money)}
        for value in ranked
    ]  # fmt: skip
    shown_now = sum((now.get(value, Decimal(0)) for value in ranked), Decimal(0))
    shown_before = sum((before.get(value, Decimal(0)) for value in ranked), Decimal(0))
    rest_now, rest_before = current - shown_now, previous - shown_before  # from the totals: exact
    answer: dict[str, Any] = {
        "metric": metric,
        "by": by,
        "window": {"start_date": start.isoformat(), "end_date": end.isoformat()},
        "compared_with": {"with": compare, "start_date": first.isoformat(), "end_date": last.isoformat()},
        "current": _out(current, money),
        "previous": _out(previous, money),
        "change": _out(current - previous, money),
        "change_pct": _pct(current, previous),
        "contributors": contributors,
        "rest": {
            "current": _out(rest_now, money),
            "previous": _out(rest_before, money),
            "change": _out(rest_now - rest_before, money),
        },  # fmt: skip
        "groups": max(len(changes), *(int(w["total_rows"]) for w in windows)),
    }
    if any(w["truncated"] for w in windows):  # the contributors are the biggest movers among the largest groups
        answer["considered"] = len(changes)
        answer["note"] = (
            f"{by} has more values than one answer holds: contributors were ranked among the {len(changes)} "
            "values largest in either window; rest holds all the others exactly"
        )
    if metric == "revenue":
        answer["effects"] = _revenue_effects(store, start, end, first, last, current, previous)
    return answer


def _revenue_effects(
    store: SqlStore, start: Any, end: Any, first: Any, last: Any, current: Decimal, previous: Decimal
) -> dict[str, float] | None:
    """Revenue's change as more or fewer orders (at the earlier average value) plus a higher or lower average
    order value (over the orders of now): the two add up to the change."""
    counts = []
    for window_start, window_end in ((start, end), (first, last)):
        answer = query_metrics(store, metrics=["orders"], start_date=window_start.isoformat(),
                               end_date=window_end.isoformat())  # fmt: skip
        counts.append(_number(answer["totals"]["orders"]))
    orders_now, orders_before = counts
    if orders_before == 0:
        return None
    orders_effect = ((orders_now - orders_before) * previous / orders_before).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    return {"orders": money_json(orders_effect), "average_order_value": money_json(current - previous - orders_effect)}
