"""Catalogue reads (seed 002): products, orders, one order with its items, payment, shipment and returns, and
the returns.

The rules of these reads live here: statuses, 404 for an unknown order, and the shared rules they
apply (the page rule of every list, salesmcp.paging; dates and periods, salesmcp.dates). The REST
views (and later MCP tools) only translate.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from salesmcp.dates import check_period, parse_optional_date
from salesmcp.errors import InvalidInput, NotFound
from salesmcp.models import Money, plain_schema, plain_schema_of
from salesmcp.paging import DEFAULT_PAGE, Page, WholeNumber, page_config, page_window
from salesmcp.store import products_orders as queries
from salesmcp.store.schema import ORDER_STATUSES, RETURN_REASONS, OrderStatus
from salesmcp.store.sql_store import SqlStore

OrderId = int | str
"""An order id as callers give it: a number, or its digits (a path's, a query string's)."""
MAX_ORDER_ID = 2**63 - 1  # the largest BIGINT: no order can have a larger id
_FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _utc(value: dt.datetime) -> dt.datetime:
    """Timestamps are stored as naive UTC; they leave with their zone (``...Z``)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


Timestamp = Annotated[dt.datetime, AfterValidator(_utc)]


class _Out(BaseModel):
    """An output model whose JSON schema is plain (no $ref, ``type: [X, "null"]``), as MCP clients like."""

    model_config = ConfigDict(json_schema_extra=lambda schema: schema.update(plain_schema(schema)))


class ProductOut(_Out):
    id: int
    sku: str
    name: str
    category: str | None
    price: Money
    stock: int
    active: bool
    created_at: Timestamp


class OrderOut(_Out):
    id: int
    custid: str = Field(description="the customer's public id")
    order_date: dt.date
    status: OrderStatus
    subtotal: Money
    tax: Money
    shipping_fee: Money
    total: Money


class OrderItemOut(_Out):
    id: int
    product_id: int
    sku: str
    name: str
    quantity: int
    unit_price: Money
    line_total: Money


class PaymentOut(_Out):
    id: int
    method: str
    amount: Money
    currency: str
    paid_at: Timestamp | None
    txn_ref: str | None


class ShipmentOut(_Out):
    id: int
    carrier: str | None
    tracking_no: str | None
    shipped_at: Timestamp | None
    delivered_at: Timestamp | None
    status: str


class ReturnOut(_Out):
    id: int
    order_id: int
    order_item_id: int = Field(description="the order line sent back (at most one return per line)")
    product_id: int
    quantity: int = Field(description="units sent back")
    refund: Money = Field(description="the goods sent back and their tax, rounded down to the cent; never shipping")
    reason: str = Field(description=f"one of {', '.join(RETURN_REASONS)}")
    returned_at: Timestamp
    refunded_at: Timestamp | None = Field(description="null: received, not refunded yet")


class OrderDetail(OrderOut):
    items: Annotated[list[OrderItemOut], WithJsonSchema(plain_schema_of(list[OrderItemOut]))]
    payment: Annotated[PaymentOut | None, WithJsonSchema(plain_schema_of(PaymentOut | None))]
    shipment: Annotated[ShipmentOut | None, WithJsonSchema(plain_schema_of(ShipmentOut | None))]
    returns: Annotated[list[ReturnOut], WithJsonSchema(plain_schema_of(list[ReturnOut]))]


class ProductPage(Page[ProductOut]):
    # A page of products in id order. (No docstring: it would become the schema's description.)
    model_config = page_config("products")


class OrderPage(Page[OrderOut]):
    # A page of orders in id order. (No docstring: it would become the schema's description.)
    model_config = page_config("orders")


class ReturnPage(Page[ReturnOut]):
    # A page of returns in id order. (No docstring: it would become the schema's description.)
    model_config = page_config("returns")


def list_products(
    store: SqlStore,
    category: str | None = None,
    active: bool | str | None = None,
    limit: WholeNumber = DEFAULT_PAGE,
    offset: WholeNumber = 0,
) -> ProductPage:
    """A page of products in id order, optionally one category (ignoring case) or only (in)active ones;
    ``active`` may be given as text (true/false, 1/0, yes/no)."""
    window = page_window(limit, offset)
    rows, total = queries.product_page(store, _text(category, "category"), _flag(active, "active"), *window)
    return ProductPage.cut([ProductOut.model_validate(row) for row in rows], total, window)


def list_orders(
    store: SqlStore,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    status: str | None = None,
    customer: str | None = None,
    limit: WholeNumber = DEFAULT_PAGE,
    offset: WholeNumber = 0,
) -> OrderPage:
    """A page of orders in id order; ``start``/``end`` (parameters ``from``/``to``) are inclusive and
    either may be left out; ``status`` is one of ORDER_STATUSES (any case); ``customer`` is a custid."""
    window = page_window(limit, offset)
    wanted = queries.OrderFilter(
        start=parse_optional_date(start, "from"),
        end=parse_optional_date(end, "to"),
        status=_status(status),
        custid=_text(customer, "customer"),
    )
    check_period(wanted.start, wanted.end, "from", "to")
    rows, total = queries.order_page(store, wanted, *window)
    return OrderPage.cut([OrderOut.model_validate(row) for row in rows], total, window)


def list_returns(
    store: SqlStore,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    reason: str | None = None,
    limit: WholeNumber = DEFAULT_PAGE,
    offset: WholeNumber = 0,
) -> ReturnPage:
    """A page of returns in id order; ``start``/``end`` (parameters ``from``/``to``) are inclusive dates of
    ``returned_at`` and either may be left out; ``reason`` is one of RETURN_REASONS (any case)."""
    window = page_window(limit, offset)
    first, last = parse_optional_date(start, "from"), parse_optional_date(end, "to")
    check_period(first, last, "from", "to")
    rows, total = queries.return_page(store, first, last, _reason(reason), *window)
    return ReturnPage.cut([ReturnOut.model_validate(row) for row in rows], total, window)


def get_order(store: SqlStore, order_id: OrderId) -> OrderDetail:
    """One order with its customer's custid, items, payment and shipment (null when none) and returns."""
    order_id = _order_id(order_id)
    row = queries.order_detail(store, order_id)
    if row is None:
        raise NotFound(f"no order with id {order_id}", field="id")
    return OrderDetail.model_validate(row)


def _order_id(value: object) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput("id", "must be a whole number")
    if not 1 <= value <= MAX_ORDER_ID:
        raise InvalidInput("id", f"must be between 1 and {MAX_ORDER_ID}; got {value}")
    return value


def _status(value: object) -> OrderStatus | None:
    text = _text(value, "status")
    if text is None:
        return None
    for status in ORDER_STATUSES:
        if text.upper() == status:
            return status
    raise InvalidInput("status", f"must be one of {', '.join(ORDER_STATUSES)}; got {text!r}")


def _reason(value: object) -> str | None:
    text = _text(value, "reason")
    if text is None:
        return None
    if text.lower() not in RETURN_REASONS:
        raise InvalidInput("reason", f"must be one of {', '.join(RETURN_REASONS)}; got {text!r}")
    return text.lower()


def _text(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    return value.strip() or None


def _flag(value: object, field: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, str) and value.strip().lower() in _FLAGS:
        return _FLAGS[value.strip().lower()]
    raise InvalidInput(field, "must be true or false")
