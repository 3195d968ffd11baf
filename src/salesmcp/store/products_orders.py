"""Catalogue reads (seed 002): pages of products and orders, and one order with all that belongs to it.

Every list is one page cut by the database (``LIMIT``/``OFFSET`` in primary-key order) plus a
``COUNT`` of the same filter; a date filter on orders uses the index on ``orders(order_date)``.
Nothing reads more than a page of rows into Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, func, select

from salesmcp.store.schema import (
    OrderStatus,
    customers,
    order_items,
    orders,
    payments,
    products,
    returns,
    shipments,
)
from salesmcp.store.sql_store import SqlStore

Row = dict[str, Any]
"""A row as column name → value."""
PRODUCT_COLUMNS = (
    products.c.id, products.c.sku, products.c.name, products.c.category, products.c.price, products.c.stock,
    products.c.active, products.c.created_at,
)  # fmt: skip
ORDER_COLUMNS = (
    orders.c.id, orders.c.customer_id, orders.c.order_date, orders.c.status, orders.c.subtotal, orders.c.tax,
    orders.c.shipping_fee, orders.c.total,
)  # fmt: skip
ITEM_COLUMNS = (
    order_items.c.id, order_items.c.product_id, products.c.sku, products.c.name, order_items.c.quantity,
    order_items.c.unit_price, order_items.c.line_total,
)  # fmt: skip
PAYMENT_COLUMNS = (
    payments.c.id, payments.c.method, payments.c.amount, payments.c.currency, payments.c.paid_at, payments.c.txn_ref,
)  # fmt: skip
SHIPMENT_COLUMNS = (
    shipments.c.id, shipments.c.carrier, shipments.c.tracking_no, shipments.c.shipped_at, shipments.c.delivered_at,
    shipments.c.status,
)  # fmt: skip

RETURN_COLUMNS = (
    returns.c.id, returns.c.order_id, returns.c.order_item_id, returns.c.product_id, returns.c.quantity,
    returns.c.refund, returns.c.reason, returns.c.returned_at, returns.c.refunded_at,
)  # fmt: skip


@dataclass(frozen=True)
class OrderFilter:
    """Which orders a list shows; every part is optional and the dates are inclusive."""

    start: dt.date | None = None
    end: dt.date | None = None
    status: OrderStatus | None = None
    custid: str | None = None


def _page(
    connection: Connection,
    table: Table,
    columns: Sequence[ColumnElement[Any]],
    conditions: list[ColumnElement[bool]],
    limit: int,
    offset: int,
) -> tuple[list[Row], int]:
    """One page of ``table``'s rows that meet ``conditions``, in id order, and how many meet them.

    With a filter, the count also finds the first matching id, and the page starts its walk of the
    primary key there. Without it a database walks the key from the start and skips every row that
    does not match: generated order ids rise with the order date, so a page of last month's orders
    would pass over every older order first (measured on PostgreSQL: 134 ms instead of 0.1 ms for
    a month of a million orders over two years).
    """
    key = table.c.id
    total, first = connection.execute(select(func.count(), func.min(key)).where(*conditions)).one()
    if offset >= total:
        return [], int(total)
    if conditions:
        conditions = [*conditions, key >= first]
    rows = connection.execute(select(*columns).where(*conditions).order_by(key).limit(limit).offset(offset)).all()
    return [dict(row._mapping) for row in rows], int(total)


def product_page(
    store: SqlStore, category: str | None, active: bool | None, limit: int, offset: int
) -> tuple[list[Row], int]:
    """Products in id order, optionally of one category (ignoring case) or only (in)active ones."""
    conditions: list[ColumnElement[bool]] = []
    if category is not None:
        conditions.append(func.lower(products.c.category) == category.lower())
    if active is not None:
        conditions.append(products.c.active == active)
    with store.reading() as connection:
        return _page(connection, products, PRODUCT_COLUMNS, conditions, limit, offset)


def order_page(store: SqlStore, wanted: OrderFilter, limit: int, offset: int) -> tuple[list[Row], int]:
    """Orders in id order with their customer's custid.

    The page is cut from ``orders`` alone and only its rows are joined to their customers, so a
    large offset does not join the rows it skips.
    """
    with store.reading() as connection:
        conditions: list[ColumnElement[bool]] = []
        if wanted.custid is not None:
            customer_id = connection.execute(select(customers.c.id).where(customers.c.custid == wanted.custid)).scalar()
            if customer_id is None:
                return [], 0
            conditions.append(orders.c.customer_id == customer_id)
        if wanted.start is not None:
            conditions.append(orders.c.order_date >= wanted.start)
        if wanted.end is not None:
            conditions.append(orders.c.order_date <= wanted.end)
        if wanted.status is not None:
            conditions.append(orders.c.status == wanted.status)
        rows, total = _page(connection, orders, ORDER_COLUMNS, conditions, limit, offset)
        custids = _custids(connection, {row["customer_id"] for row in rows})
    return [{**row, "custid": custids[row["customer_id"]]} for row in rows], total


def _custids(connection: Connection, customer_ids: set[int]) -> dict[int, str]:
    if not customer_ids:
        return {}
    query = select(customers.c.id, customers.c.custid).where(customers.c.id.in_(sorted(customer_ids)))
    return {row.id: row.custid for row in connection.execute(query)}


def order_detail(store: SqlStore, order_id: int) -> Row | None:
    """The order with its customer's custid, its items (with each product's sku and name), its
    payment and its shipment (``None`` when it has none; the first by id if it has several)."""
    with store.reading() as connection:
        row = connection.execute(
            select(*ORDER_COLUMNS, customers.c.custid)
            .join(customers, customers.c.id == orders.c.customer_id)
            .where(orders.c.id == order_id)
        ).first()
        if row is None:
            return None
        items = connection.execute(
            select(*ITEM_COLUMNS)
            .join(products, products.c.id == order_items.c.product_id)
            .where(order_items.c.order_id == order_id)
            .order_by(order_items.c.id)
        ).all()
        payment = connection.execute(
            select(*PAYMENT_COLUMNS).where(payments.c.order_id == order_id).order_by(payments.c.id).limit(1)
        ).first()
        shipment = connection.execute(
            select(*SHIPMENT_COLUMNS).where(shipments.c.order_id == order_id).order_by(shipments.c.id).limit(1)
        ).first()
        sent_back = connection.execute(
            select(*RETURN_COLUMNS).where(returns.c.order_id == order_id).order_by(returns.c.id)
        ).all()
    return {
        **row._mapping,
        "items": [dict(item._mapping) for item in items],
        "payment": dict(payment._mapping) if payment else None,
        "shipment": dict(shipment._mapping) if shipment else None,
        "returns": [dict(item._mapping) for item in sent_back],
    }


def return_page(
    store: SqlStore, start: dt.date | None, end: dt.date | None, reason: str | None, limit: int, offset: int
) -> tuple[list[Row], int]:
    """Returns in id order, optionally received within ``start`` … ``end`` (dates, inclusive) or of one reason."""
    conditions: list[ColumnElement[bool]] = []
    if start is not None:
        conditions.append(returns.c.returned_at >= dt.datetime.combine(start, dt.time()))
    if end is not None:
        conditions.append(returns.c.returned_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
    if reason is not None:
        conditions.append(returns.c.reason == reason)
    with store.reading() as connection:
        return _page(connection, returns, RETURN_COLUMNS, conditions, limit, offset)
