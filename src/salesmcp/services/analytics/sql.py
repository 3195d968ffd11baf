"""The SQL of the catalogue, per dialect (SQLite, MySQL/MariaDB, PostgreSQL, and DuckDB for the columnar copy of
``store/replica.py``), built with SQLAlchemy Core.

Money is summed as integer cents (``round(x * 100)``), so every database answers the same to the cent (SQLite
keeps NUMERIC as REAL). Ratios are divided in Python (``query.py``), exactly, from the two sums.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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
    select,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause
from sqlalchemy.sql.visitors import replacement_traverse

from salesmcp.services.analytics.catalogue import ITEM, Level
from salesmcp.store.replica import copy_first_orders, copy_lines, copy_orders
from salesmcp.store.schema import counted_orders, customers, order_items, orders, payments, products, shipments

Expression = ColumnElement  # a SQL expression
o, c, p, i, pay, s = orders, customers, products, order_items, payments, shipments


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
}  # fmt: skip


def _strftime(dialect: str, sqlite: str, postgresql: str, mysql: str) -> ColumnElement:
    day = o.c.order_date
    if dialect == "postgresql":
        return func.to_char(day, postgresql)
    if dialect == "mysql":
        return func.date_format(day, mysql)
    if dialect == "duckdb":
        return func.strftime(day, sqlite)
    return func.strftime(sqlite, day)


def _sqlite_weekday(day: ColumnElement) -> ColumnElement:
    return (cast(func.strftime("%w", day), Integer) + 6) % 7  # 0 = Monday


def _week(dialect: str) -> ColumnElement:
    """The ISO 8601 week, YYYY-Www: the week (Monday first) that holds the date's Thursday."""
    if dialect == "postgresql":
        return func.to_char(o.c.order_date, 'IYYY-"W"IW')
    if dialect == "mysql":
        return func.date_format(o.c.order_date, "%x-W%v")
    if dialect == "duckdb":
        return func.strftime(o.c.order_date, "%G-W%V")
    thursday = func.date(o.c.order_date, cast(3 - _sqlite_weekday(o.c.order_date), String) + " days")
    number = (cast(func.strftime("%j", thursday), Integer) - 1) // 7 + 1
    return func.strftime("%Y", thursday) + "-W" + func.printf("%02d", number)


def _quarter(dialect: str) -> ColumnElement:
    if dialect == "postgresql":
        return func.to_char(o.c.order_date, 'YYYY-"Q"Q')
    if dialect in ("mysql", "duckdb"):
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

    def value(self, dialect: str) -> ColumnElement:
        """The value; on MySQL/MariaDB compared byte for byte, as SQLite and PostgreSQL do (their default
        collations would make 'Marienberg' and 'Mariënberg', or 'Amsterdam' and 'amsterdam', one group)."""
        value = self.read(dialect)
        return value.collate("utf8mb4_bin") if self.text and dialect == "mysql" else value


DIMENSION_SQL: dict[str, DimensionSql] = {
    "day": DimensionSql(lambda d: o.c.order_date),
    "week": DimensionSql(_week),
    "month": DimensionSql(lambda d: _strftime(d, "%Y-%m", "YYYY-MM", "%Y-%m")),
    "quarter": DimensionSql(_quarter),
    "year": DimensionSql(lambda d: _strftime(d, "%Y", "YYYY", "%Y")),
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
    return moved


def cast_select(value: object) -> Select:
    assert isinstance(value, Select)
    return value


def on_copy(statement: Select, level: Level) -> Select:
    """The statement with the database's columns replaced by the columnar copy's."""
    moved = _copy_columns(level)
    replaced = replacement_traverse(statement, {}, lambda element: moved.get(element))  # type: ignore[call-overload]
    return cast_select(replaced)


def grouped(columns: list[ColumnElement], source: FromClause, where: list[ColumnElement]) -> Select:
    return select(*columns).select_from(source).where(*where)
