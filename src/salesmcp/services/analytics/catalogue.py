"""The metric catalogue: every governed metric and dimension, declared once, as data.

The SQL (``sql.py``), the tool descriptions, ``list_metrics``, REST's ``/analytics/metrics`` and the docs page
(``docs/analytics.md``, checked by a test) all come from these declarations.

"Counted orders" are orders whose status is not CANCELLED (the rule revenue uses everywhere). Every metric is
dated by the order's ``order_date``; a window includes both its ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Level = Literal["order", "item"]
ORDER: Level = "order"
ITEM: Level = "item"
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class Metric:
    """A number computed from the orders: ``numerator`` (÷ ``denominator`` when it is a ratio) of named SQL
    aggregates (``sql.PARTS``), times ``scale``, rounded half up to ``decimals`` places."""

    name: str
    label: str
    unit: str
    level: Level
    definition: str
    numerator: str
    denominator: str | None = None
    scale: Decimal = Decimal(1)
    decimals: int | None = None  # None: a whole number
    rounding: str = "—"


@dataclass(frozen=True)
class Dimension:
    """A way to group and filter: its values' format, and the levels (order, item) it applies to."""

    name: str
    label: str
    values: str
    example: str
    levels: tuple[Level, ...] = (ORDER, ITEM)
    time: bool = False
    name_field: str | None = None  # a readable name that accompanies each value (customer_name, product_name)


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric("revenue", "Revenue", "EUR", ORDER, "sum of `orders.total` over counted orders (tax and shipping "
               "included)", "counted_cents", scale=CENTS, decimals=2, rounding="cents"),
        Metric("orders", "Orders", "orders", ORDER, "number of counted orders", "counted_orders"),
        Metric("average_order_value", "Average order value", "EUR", ORDER, "revenue / orders", "counted_cents",
               "counted_orders", scale=CENTS, decimals=2, rounding="cents"),
        Metric("customers", "Customers", "customers", ORDER, "distinct customers with at least one counted order",
               "customers"),
        Metric("new_customers", "New customers", "customers", ORDER, "customers whose first counted order ever "
               "falls in the group (the window, and the group's values for that first order)", "new_customers"),
        Metric("net_sales", "Net sales", "EUR", ITEM, "sum of `order_items.line_total` over lines of counted "
               "orders (no tax, no shipping)", "line_cents", scale=CENTS, decimals=2, rounding="cents"),
        Metric("units", "Units", "units", ITEM, "sum of `order_items.quantity` over lines of counted orders",
               "units"),
        Metric("net_revenue", "Net revenue", "EUR", ORDER, "revenue less the refunds given for the counted orders' "
               "returns (a return not refunded yet takes nothing off)", "net_cents", scale=CENTS, decimals=2,
               rounding="cents"),
        Metric("refunds", "Refunds", "EUR", ITEM, "sum of `returns.refund` (the goods sent back and their tax, "
               "never shipping) over refunded returns of lines of counted orders", "refund_cents", scale=CENTS,
               decimals=2, rounding="cents"),
        Metric("returned_units", "Returned units", "units", ITEM, "sum of `returns.quantity` over returns of "
               "lines of counted orders, refunded or not", "returned_units"),
        Metric("return_rate", "Return rate", "fraction", ITEM, "returned_units / units", "returned_units", "units",
               decimals=4, rounding="4 decimals, a fraction"),
        Metric("cancellation_rate", "Cancellation rate", "fraction", ORDER, "cancelled orders / all orders",
               "cancelled_orders", "all_orders", decimals=4, rounding="4 decimals, a fraction"),
        Metric("average_delivery_days", "Average delivery days", "days", ORDER, "mean calendar days from "
               "`order_date` to the date of `delivered_at`, over counted orders with a delivered shipment",
               "delivery_days", "delivered_orders", decimals=2, rounding="2 decimals"),
    )
}  # fmt: skip

ITEM_METRICS = tuple(name for name, metric in METRICS.items() if metric.level == ITEM)

TIME_GRAINS = ("day", "week", "month", "quarter", "year")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DIMENSIONS: dict[str, Dimension] = {
    dimension.name: dimension
    for dimension in (
        Dimension("day", "Day", "the order date, YYYY-MM-DD", "2025-01-31", time=True),
        Dimension("week", "Week", "the ISO 8601 week of the ISO year, YYYY-Www", "2025-W05", time=True),
        Dimension("month", "Month", "YYYY-MM", "2025-01", time=True),
        Dimension("quarter", "Quarter", "YYYY-Qn", "2025-Q1", time=True),
        Dimension("year", "Year", "YYYY", "2025", time=True),
        Dimension("weekday", "Weekday", "Monday … Sunday", "Monday"),
        Dimension("customer", "Customer", "the custid (with customer_name)", "011", name_field="customer_name"),
        Dimension("city", "City", "the customer's city", "Eindhoven"),
        Dimension("country", "Country", "the customer's country", "Netherlands"),
        Dimension("category", "Category", "the product's category", "Books", levels=(ITEM,)),
        Dimension("product", "Product", "the product's SKU (with product_name)", "SKU-000123", levels=(ITEM,),
                  name_field="product_name"),
        Dimension("status", "Status", "the order's status: PLACED, PAID, SHIPPED, DELIVERED or CANCELLED",
                  "DELIVERED"),
        Dimension("payment_method", "Payment method", "the order's payment method; null when it has none", "card"),
        Dimension("carrier", "Carrier", "the order's shipment carrier; null when it has none", "DHL"),
    )
}  # fmt: skip


def catalogue() -> dict[str, object]:
    """The catalogue as ``list_metrics`` answers it: each metric with its definition and unit, each dimension
    with its value format and the metrics it applies to."""
    metrics = [
        {"name": m.name, "label": m.label, "unit": m.unit, "level": m.level, "definition": m.definition,
         "rounding": m.rounding}
        for m in METRICS.values()
    ]  # fmt: skip
    dimensions = [
        {"name": d.name, "label": d.label, "values": d.values, "example": d.example,
         "metrics": [m.name for m in METRICS.values() if m.level in d.levels]}
        for d in DIMENSIONS.values()
    ]  # fmt: skip
    return {
        "metrics": metrics,
        "dimensions": dimensions,
        "rules": [
            "Counted orders are orders whose status is not CANCELLED.",
            "Every metric is dated by the order's order_date (a return and its refund too: by the order they "
            "came from); start_date and end_date include both ends (yyyymmdd or YYYY-MM-DD).",
            "Order-level metrics cannot be grouped or filtered by category or product (an order has many "
            f"lines): use {', '.join(ITEM_METRICS)}. One query asks for metrics of one level.",
            "Text filters compare ignoring case; a filter takes one value or a list.",
        ],
    }


def markdown() -> str:
    """The docs page's tables (docs/analytics.md holds exactly this between its markers; a test checks)."""
    lines = ["| metric | unit | definition | rounding |", "|---|---|---|---|"]
    lines += [f"| **{m.name}** | {m.unit} | {m.definition} | {m.rounding} |" for m in METRICS.values()]
    lines += ["", "| dimension | values | example | metrics |", "|---|---|---|---|"]
    for d in DIMENSIONS.values():
        applies = (
            "all" if len(d.levels) == 2 else ", ".join(f"`{m.name}`" for m in METRICS.values() if m.level in d.levels)
        )
        lines.append(f"| **{d.name}** | {d.values} | `{d.example}` | {applies} |")
    return "\n".join(lines) + "\n"


def short_list() -> str:
    """Metric and dimension names for tool descriptions."""
    return (f"metrics: {', '.join(METRICS)}; dimensions: {', '.join(DIMENSIONS)} "
            f"(category and product only with {', '.join(ITEM_METRICS)})")  # fmt: skip
