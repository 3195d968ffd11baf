"""Catalogue reads (seed 002): products, orders, and one order with its items, payment and shipment.

The rules of these reads live here: the page rule shared with the customer list, dates (ISO or
yyyymmdd, ``from`` not after ``to``), statuses, and 404 for an unknown order. The REST views (and
later MCP tools) only translate.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from salesmcp.dates import parse_date
from salesmcp.errors import InvalidInput, NotFound
from salesmcp.models import Money, plain_schema, plain_schema_of
from salesmcp.services.customers import DEFAULT_PAGE, page_window
from salesmcp.store import products_orders as queries
from salesmcp.store.schema import ORDER_STATUSES
from salesmcp.store.sql_store import SqlStore

OrderStatus = Literal["PLACED", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"]
MAX_ORDER_ID = 2**63 - 1  # the largest BIGINT: no order can have a larger id
_FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _utc(value: dt.datetime) -> dt.datetime:
    """Timestamps are stored as naive UTC; they leave with their zone (``...Z``)."""
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


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


class OrderDetail(OrderOut):
    items: Annotated[list[OrderItemOut], WithJsonSchema(plain_schema_of(list[OrderItemOut]))]
    payment: Annotated[PaymentOut | None, WithJsonSchema(plain_schema_of(PaymentOut | None))]
    shipment: Annotated[ShipmentOut | None, WithJsonSchema(plain_schema_of(ShipmentOut | None))]


class ProductPage(_Out):
    products: Annotated[list[ProductOut], WithJsonSchema(plain_schema_of(list[ProductOut]))]
    total: int = Field(description="products matching the filters, on all pages")
    limit: int
    offset: int
    truncated: bool = Field(description="true when more products match than this page shows")


class OrderPage(_Out):
    orders: Annotated[list[OrderOut], WithJsonSchema(plain_schema_of(list[OrderOut]))]
    total: int = Field(description="orders matching the filters, on all pages")
    limit: int
    offset: int
    truncated: bool = Field(description="true when more orders match than this page shows")


def list_products(
    store: SqlStore, category: Any = None, active: Any = None, limit: Any = DEFAULT_PAGE, offset: Any = 0
) -> ProductPage:
    """A page of products in id order, optionally one category (ignoring case) or only (in)active ones."""
    limit, offset = page_window(limit, offset)
    rows, total = queries.product_page(store, _text(category, "category"), _flag(active, "active"), limit, offset)
    return ProductPage(
        products=[ProductOut.model_validate(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
        truncated=offset + len(rows) < total,
    )


def list_orders(
    store: SqlStore,
    start: Any = None,
    end: Any = None,
    status: Any = None,
    customer: Any = None,
    limit: Any = DEFAULT_PAGE,
    offset: Any = 0,
) -> OrderPage:
    """A page of orders in id order; ``start``/``end`` (parameters ``from``/``to``) are inclusive and
    either may be left out; ``status`` is one of ORDER_STATUSES; ``customer`` is a custid."""
    limit, offset = page_window(limit, offset)
    wanted = queries.OrderFilter(
        start=_date(start, "from"),
        end=_date(end, "to"),
        status=_status(status),
        custid=_text(customer, "customer"),
    )
    if wanted.start and wanted.end and wanted.start > wanted.end:
        raise InvalidInput("from", f"must not be after to ({wanted.start.isoformat()} > {wanted.end.isoformat()})")
    rows, total = queries.order_page(store, wanted, limit, offset)
    return OrderPage(
        orders=[OrderOut.model_validate(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
        truncated=offset + len(rows) < total,
    )


def get_order(store: SqlStore, order_id: Any) -> OrderDetail:
    """One order with its customer's custid, items, payment and shipment (null when none)."""
    order_id = _order_id(order_id)
    row = queries.order_detail(store, order_id)
    if row is None:
        raise NotFound(f"no order with id {order_id}", field="id")
    return OrderDetail.model_validate(row)


def _order_id(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput("id", "must be a whole number")
    if not 1 <= value <= MAX_ORDER_ID:
        raise InvalidInput("id", f"must be between 1 and {MAX_ORDER_ID}; got {value}")
    return value


def _date(value: Any, field: str) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_date(value, field)


def _status(value: Any) -> str | None:
    text = _text(value, "status")
    if text is None:
        return None
    if text.upper() not in ORDER_STATUSES:
        raise InvalidInput("status", f"must be one of {', '.join(ORDER_STATUSES)}; got {text!r}")
    return text.upper()


def _text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    return value.strip() or None


def _flag(value: Any, field: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, str) and value.strip().lower() in _FLAGS:
        return _FLAGS[value.strip().lower()]
    raise InvalidInput(field, "must be true or false")
