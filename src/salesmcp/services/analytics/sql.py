"""The SQL of the catalogue, per dialect (SQLite, MySQL/MariaDB, PostgreSQL, and DuckDB for the columnar copy of
``store/replica.py``), built with SQLAlchemy Core.

Money is summed as integer cents (``round(x * 100)``), so every database answers the same to the cent (SQLite
keeps NUMERIC as REAL). Ratios are divided in Python (``query.py``), exactly, from the two sums.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.sql.elements import ColumnElement, Label
from sqlalchemy.sql.selectable import FromClause
from sqlalchemy.sql.visitors import replacement_traverse

from salesmcp.services.analytics.catalogue import ITEM, Level
from salesmcp.store.replica import copy_first_orders, copy_lines, copy_orders
from salesmcp.store.schema import (
    counted_orders,
    customers,
    order_items,
    orders,
    payments,
    products,
    returns,
    shipments,
)

Expression = ColumnElement  # a SQL expression
o, c, p, i, pay, s, r = orders, customers, products, order_items, payments, shipments, returns
# What each order has been refunded, in cents (a return not yet refunded gives nothing back yet).
order_refunds = (
    select(r.c.order_id, func.sum(case((r.c.refunded_at.is_not(None), func.round(r.c.refund * 100)), else_=0))
           .label("refund_cents"))
    .group_by(r.c.order_id)
    .subquery("order_refunds")
)  # fmt: skip


def _delivered() -> ColumnElement[bool]:
    return and_(counted_orders(), s.c.delivered_at.is_not(None))


def _days(dialect: str) -> ColumnElement:
    """Calendar days from the order date to the date of delivery."""
    if dialect in ("postgresql", "duckdb"):
        return cast(s.c.delivered_at, Date) - o.c.order_date
    if dialect == "mysql":
        return func.datediff(s.c.delivered_at, o.c.order_date)
    return cast(func.julianday(func.date(s.c.delivered_at)) - func.julianday(o.c.order_date), Integer)


def _cents(column: ColumnElement) -> ColumnElement:
    return func.round(column * 100)


@dataclass(frozen=True)
class Part:
    """A SQL aggregate a metric is computed from, and the tables it needs beyond the query's base."""

    build: Callable[[str, FromClause | None], ColumnElement]
    needs: frozenset[str] = frozenset()


PARTS: dict[str, Part] = {
    "counted_cents": Part(lambda d, f: func.sum(case((counted_orders(), _cents(o.c.total)), else_=0))),
    "counted_orders": Part(lambda d, f: func.sum(case((counted_orders(), 1), else_=0))),
    "all_orders": Part(lambda d, f: func.count()),
    "cancelled_orders": Part(lambda d, f: func.sum(case((o.c.status == "CANCELLED", 1), else_=0))),
    "customers": Part(lambda d, f: func.count(distinct(case((counted_orders(), o.c.customer_id))))),
    "new_customers": Part(lambda d, f: func.count(f.c.id) if f is not None else literal(0), frozenset({"firsts"})),
    "delivery_days": Part(lambda d, f: func.sum(case((_delivered(), _days(d)), else_=0)), frozenset({"shipments"})),
    "delivered_orders": Part(lambda d, f: func.sum(case((_delivered(), 1), else_=0)), frozenset({"shipments"})),
    "line_cents": Part(lambda d, f: func.sum(case((counted_orders(), _cents(i.c.line_total)), else_=0))),
    "units": Part(lambda d, f: func.sum(case((counted_orders(), i.c.quantity), else_=0))),
    "refund_cents": Part(lambda d, f: func.sum(case((and_(counted_orders(), r.c.refunded_at.is_not(None)),
                                                     _cents(r.c.refund)), else_=0)), frozenset({"returns"})),
    "returned_units": Part(lambda d, f: func.sum(case((and_(counted_orders(), r.c.quantity.is_not(None)),
                                                       r.c.quantity), else_=0)), frozenset({"returns"})),
    "net_cents": Part(lambda d, f: func.sum(case((counted_orders(),
                                                  _cents(o.c.total) - func.coalesce(order_refunds.c.refund_cents, 0)),
                                                 else_=0)), frozenset({"order_refunds"})),
}  # fmt: skip


def _strftime(dialect: str, sqlite: str, postgresql: str, mysql: str) -> ColumnElement:
    day = o.c.order_date
    if dialect == "postgresql":
        return func.to_char(day, postgresql)
    if dialect == "mysql":
        return func.date_format(day, mysql)
    if dialect == "duckdb":
        return func.strftime(_truncated("year" if sqlite == "%Y" else "month", day), sqlite)
    return func.strftime(sqlite, day)


def _truncated(unit: str, day: ColumnElement) -> ColumnElement:
    """DuckDB's first day of the period (the unit written into the SQL, so that a SELECT of the formatted period
    and its GROUP BY of the first day are seen to be the same expression)."""
    return func.date_trunc(literal_column(f"'{unit}'"), day)


def _sqlite_weekday(day: ColumnElement) -> ColumnElement:
    return (cast(func.strftime("%w", day), Integer) + 6) % 7  # 0 = Monday


def _week(dialect: str) -> ColumnElement:
    """The ISO 8601 week, YYYY-Www: the week (Monday first) that holds the date's Thursday."""
    if dialect == "postgresql":
        return func.to_char(o.c.order_date, 'IYYY-"W"IW')
    if dialect == "mysql":
        return func.date_format(o.c.order_date, "%x-W%v")
    if dialect == "duckdb":
        return func.strftime(_truncated("week", o.c.order_date), "%G-W%V")
    thursday = func.date(o.c.order_date, cast(3 - _sqlite_weekday(o.c.order_date), String) + " days")
    number = (cast(func.strftime("%j", thursday), Integer) - 1) // 7 + 1
    return func.strftime("%Y", thursday) + "-W" + func.printf("%02d", number)


def _quarter(dialect: str) -> ColumnElement:
    if dialect == "postgresql":
        return func.to_char(o.c.order_date, 'YYYY-"Q"Q')
    if dialect == "duckdb":
        start = _truncated("quarter", o.c.order_date)
        return func.concat(func.year(start), "-Q", func.quarter(start))
    if dialect == "mysql":
        return func.concat(func.year(o.c.order_date), "-Q", func.quarter(o.c.order_date))
    month = cast(func.strftime("%m", o.c.order_date), Integer)
    return func.strftime("%Y", o.c.order_date) + "-Q" + cast((month + 2) // 3, String)


def _weekday(dialect: str) -> ColumnElement:
    if dialect in ("postgresql", "duckdb"):
        return cast(func.extract("isodow", o.c.order_date), Integer) - 1
    if dialect == "mysql":
        return func.weekday(o.c.order_date)
    return _sqlite_weekday(o.c.order_date)


@dataclass(frozen=True)
class DimensionSql:
    """How a dimension reads: its value, a readable name beside it, and the tables it needs."""

    read: Callable[[str], ColumnElement]
    needs: frozenset[str] = frozenset()
    name: ColumnElement | None = None
    text: bool = False  # a stored text column
    unit: str | None = None  # a period: on DuckDB grouped by the date truncated to it, formatted once per group

    def key(self, dialect: str) -> ColumnElement | None:
        """What to group by when it is not the value itself: on DuckDB a period's first day (a date groups far
        faster than the text made from it for every row)."""
        if dialect == "duckdb" and self.unit is not None:
            return _truncated(self.unit, o.c.order_date)
        return None

    def value(self, dialect: str) -> ColumnElement:
        """The value; on MySQL/MariaDB compared byte for byte, as SQLite and PostgreSQL do (their default
        collations would make 'Marienberg' and 'Mariënberg', or 'Amsterdam' and 'amsterdam', one group)."""
        value = self.read(dialect)
        return value.collate("utf8mb4_bin") if self.text and dialect == "mysql" else value


DIMENSION_SQL: dict[str, DimensionSql] = {
    "day": DimensionSql(lambda d: o.c.order_date),
    "week": DimensionSql(_week, unit="week"),
    "month": DimensionSql(lambda d: _strftime(d, "%Y-%m", "YYYY-MM", "%Y-%m"), unit="month"),
    "quarter": DimensionSql(_quarter, unit="quarter"),
    "year": DimensionSql(lambda d: _strftime(d, "%Y", "YYYY", "%Y"), unit="year"),
    "weekday": DimensionSql(_weekday),
    "customer": DimensionSql(lambda d: c.c.custid, frozenset({"customers"}), c.c.name, text=True),
    "city": DimensionSql(lambda d: c.c.city, frozenset({"customers"}), text=True),
    "country": DimensionSql(lambda d: c.c.country, frozenset({"customers"}), text=True),
    "category": DimensionSql(lambda d: p.c.category, frozenset({"products"}), text=True),
    "product": DimensionSql(lambda d: p.c.sku, frozenset({"products"}), p.c.name, text=True),
    "status": DimensionSql(lambda d: o.c.status, text=True),
    "payment_method": DimensionSql(lambda d: pay.c.method, frozenset({"payments"}), text=True),
    "carrier": DimensionSql(lambda d: s.c.carrier, frozenset({"shipments"}), text=True),
}


def first_orders() -> FromClause:
    """Each customer's first counted order ever (by date, then id): where new customers are counted."""
    ranked = (
        select(
            o.c.id,
            o.c.customer_id,
            func.row_number().over(partition_by=o.c.customer_id, order_by=(o.c.order_date, o.c.id)).label("rank"),
        )
        .where(counted_orders())
        .subquery("ranked")
    )
    return select(ranked.c.id, ranked.c.customer_id).where(ranked.c.rank == 1).subquery("firsts")


@dataclass
class From:
    """The FROM clause of a query of one level, joined with exactly the tables its parts and dimensions need.

    On the columnar copy (dialect "duckdb") orders and lines carry what they would be joined with (see
    ``store/replica.py``): the clause joins only customers, products and each customer's first order, and
    ``on_copy`` points the statement's columns at the copy's."""

    level: Level
    needs: set[str] = field(default_factory=set)
    firsts: FromClause | None = None
    dialect: str = ""

    def clause(self) -> FromClause:
        if self.dialect == "duckdb":
            return self._copy_clause()
        joined: FromClause = i.join(o, i.c.order_id == o.c.id) if self.level == ITEM else o
        if "customers" in self.needs:
            joined = joined.join(c, o.c.customer_id == c.c.id)
        if "products" in self.needs:
            joined = joined.join(p, i.c.product_id == p.c.id)
        if "payments" in self.needs:
            joined = joined.outerjoin(pay, pay.c.order_id == o.c.id)
        if "shipments" in self.needs:
            joined = joined.outerjoin(s, s.c.order_id == o.c.id)
        if "returns" in self.needs:  # at most one per line (a unique key): the lines are not multiplied
            joined = joined.outerjoin(r, r.c.order_item_id == i.c.id)
        if "order_refunds" in self.needs:
            joined = joined.outerjoin(order_refunds, order_refunds.c.order_id == o.c.id)
        if "firsts" in self.needs:
            self.firsts = first_orders()
            joined = joined.outerjoin(self.firsts, self.firsts.c.id == o.c.id)
        return joined

    def _copy_clause(self) -> FromClause:
        base = copy_lines if self.level == ITEM else copy_orders
        joined: FromClause = base
        if "customers" in self.needs:
            joined = joined.join(c, base.c.customer_id == c.c.id)
        if "products" in self.needs:
            joined = joined.join(p, copy_lines.c.product_id == p.c.id)
        if "firsts" in self.needs:
            self.firsts = select(copy_first_orders.c.order_id.label("id")).subquery("firsts")
            order_id = copy_lines.c.order_id if self.level == ITEM else copy_orders.c.id
            joined = joined.outerjoin(self.firsts, self.firsts.c.id == order_id)
        return joined


def _copy_columns(level: Level) -> dict[ColumnElement, ColumnElement]:
    """The database's columns → the copy's, for a query of one level."""
    base = copy_lines if level == ITEM else copy_orders
    moved: dict[ColumnElement, ColumnElement] = {column: base.c[column.name] for column in o.c if column.name in base.c}
    moved.update({pay.c.method: base.c.method, s.c.carrier: base.c.carrier, s.c.delivered_at: base.c.delivered_at})
    if level == ITEM:
        moved.update({column: copy_lines.c[column.name] for column in i.c if column.name in copy_lines.c})
        moved[o.c.id] = copy_lines.c.order_id
        moved.update({r.c.quantity: copy_lines.c.returned_quantity, r.c.refund: copy_lines.c.refund,
                      r.c.refunded_at: copy_lines.c.refunded_at})  # fmt: skip
    else:
        moved[order_refunds.c.refund_cents] = copy_orders.c.refund_cents
    return moved


def on_copy(statement: Select, level: Level) -> Select:
    """The statement with the database's columns replaced by the columnar copy's."""
    replaced = moved_to(statement, _copy_columns(level))  # type: ignore[arg-type]
    assert isinstance(replaced, Select)
    return replaced


TRUNCATED = ("week", "month", "quarter", "year")  # grouped alone, summed per week … year rather than per day
DATED = ("day", "week", "month", "quarter", "year", "weekday")


@dataclass
class PreAggregated:
    """A question on the copy in two steps: its parts summed per key of integers and dates (the date, truncated
    when one period is asked for; the customer; the product; status, method, carrier when asked for) — the bulk
    of the work, on the columns DuckDB groups fastest — then the small tables joined to the groups left, and the
    dimensions formatted over those (grouping 25M lines by product id, then naming 20,000 products, is about 4x
    faster than grouping the lines by name)."""

    clause: FromClause
    parts: dict[str, Label[Any]]
    moved: dict[ColumnElement, ColumnElement]


def pre_aggregated(
    level: Level,
    dimensions: list[str],
    part_names: list[str],
    needs: set[str],
    conditions: list[tuple[str | None, ColumnElement[bool]]],
) -> PreAggregated:
    """Only for parts that add up over groups (``customers``, a distinct count, does not). ``conditions``: the
    window (dimension None) and each filter (its dimension), on the database's columns; all are applied before
    the first step, a filter on a customer's or product's field as the set of their ids."""
    base = copy_lines if level == ITEM else copy_orders
    needs = {table for name in dimensions for table in DIMENSION_SQL[name].needs} | (needs & {"firsts"})
    inner_source = From(level, needs & {"firsts"}, dialect="duckdb")
    inner_from = inner_source.clause()
    keys: dict[str, ColumnElement] = {}
    dated = sorted({name for name in dimensions if name in DATED})
    if dated:
        unit = dated[0] if len(dated) == 1 and dated[0] in TRUNCATED else None
        keys["order_date"] = _truncated(unit, base.c.order_date) if unit else base.c.order_date
    if "customers" in needs:
        keys["customer_id"] = base.c.customer_id
    if "products" in needs:
        keys["product_id"] = copy_lines.c.product_id
    for dimension, column in (("status", "status"), ("payment_method", "method"), ("carrier", "carrier")):
        if dimension in dimensions:
            keys[column] = base.c[column]
    parts = [
        on_copy_element(PARTS[name].build("duckdb", inner_source.firsts), level).label(name) for name in part_names
    ]
    inner = (
        select(*(key.label(name) for name, key in keys.items()), *parts)
        .select_from(inner_from)
        .where(*(_before_grouping(name, condition, base, level) for name, condition in conditions))
        .group_by(*keys.values())
        .subquery("g")
    )
    outer: FromClause = inner
    if "customer_id" in keys:
        outer = outer.join(c, c.c.id == inner.c.customer_id)
    if "product_id" in keys:
        outer = outer.join(p, p.c.id == inner.c.product_id)
    sources = {"order_date": o.c.order_date, "status": o.c.status, "method": pay.c.method, "carrier": s.c.carrier,
               "customer_id": o.c.customer_id, "product_id": i.c.product_id}  # fmt: skip
    moved: dict[ColumnElement, ColumnElement] = {sources[name]: inner.c[name] for name in keys}
    return PreAggregated(outer, {name: func.sum(inner.c[name]).label(name) for name in part_names}, moved)


def _before_grouping(
    dimension: str | None, condition: ColumnElement[bool], base: FromClause, level: Level
) -> ColumnElement[bool]:
    tables = DIMENSION_SQL[dimension].needs if dimension is not None else frozenset()
    if "customers" in tables:
        return base.c.customer_id.in_(select(c.c.id).where(condition))
    if "products" in tables:
        return copy_lines.c.product_id.in_(select(p.c.id).where(condition))
    return on_copy_element(condition, level)


def on_copy_element(element: ColumnElement, level: Level) -> ColumnElement:
    return moved_to(element, _copy_columns(level))


def moved_to(element: ColumnElement, moved: dict[ColumnElement, ColumnElement]) -> ColumnElement:
    """The element with the given columns replaced."""

    def replace(found: Any) -> Any:
        return moved.get(found)

    traverse: Any = replacement_traverse  # its overloads do not cover a plain ColumnElement
    return traverse(element, {}, replace)
