"""Seed 002's reads over REST: products, orders, one order and returns; 400 / 404 with a JSON error body."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from pydantic import ConfigDict, Field

from salesmcp.api.common import PERIOD_RULE, Blueprint, RequestModel, error_responses, extension, json_response
from salesmcp.dates import DATE_RULE
from salesmcp.dates import OPTIONAL_DATE_PATTERN as OPTIONAL_DATE
from salesmcp.paging import DEFAULT_PAGE, MAX_OFFSET, MAX_PAGE
from salesmcp.scopes import READ
from salesmcp.services import products_orders as service
from salesmcp.services.products_orders import MAX_ORDER_ID, OrderDetail, OrderPage, ProductPage, ReturnPage
from salesmcp.store.schema import ORDER_STATUSES, RETURN_REASONS
from salesmcp.store.sql_store import SqlStore
from salesmcp.validation import Text, any_case

bp = Blueprint("catalogue", __name__, "catalogue")


class PageQuery(RequestModel):
    """limit and offset, as on every list; the bounds are checked by the service (one rule for all)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(
        DEFAULT_PAGE, description=f"page size, 1-{MAX_PAGE}", json_schema_extra={"minimum": 1, "maximum": MAX_PAGE}
    )
    offset: int = Field(0, description="rows to skip", json_schema_extra={"minimum": 0, "maximum": MAX_OFFSET})


class ProductQuery(PageQuery):
    category: Text | None = Field(None, description="only this category (ignoring case)")
    active: bool | None = Field(None, description="only active (true) or inactive (false) products")


def _day(description: str, alias: str | None = None) -> Any:
    """An optional date parameter (yyyymmdd or YYYY-MM-DD), inclusive."""
    return Field(None, alias=alias, description=f"{description}, inclusive; {DATE_RULE}",
                 json_schema_extra={"pattern": OPTIONAL_DATE})  # fmt: skip


def _one_of(values: tuple[str, ...], what: str) -> Any:
    """An optional parameter that takes one of ``values`` in any case."""
    return Field(None, description=f"only this {what}: {', '.join(values)}",
                 json_schema_extra={"pattern": rf"^\s*({any_case(values)})?\s*$"})  # fmt: skip


class OrderQuery(PageQuery):
    from_: str | None = _day("first order date", alias="from")
    to: str | None = _day("last order date")
    status: str | None = _one_of(ORDER_STATUSES, "status")
    customer: Text | None = Field(None, description="only this customer's orders (a custid, e.g. 011)")


class ReturnQuery(PageQuery):
    from_: str | None = _day("first day the goods came back (returned_at)", alias="from")
    to: str | None = _day("last day the goods came back")
    reason: str | None = _one_of(RETURN_REASONS, "reason")


class OrderPath(RequestModel):
    id: int = Field(description="order id", json_schema_extra={"minimum": 1, "maximum": MAX_ORDER_ID})


def _store() -> SqlStore:
    return extension("records")


@bp.get(
    "/products",
    scope=READ,
    summary="Products in id order, optionally of one category or only (in)active ones, a page at a time",
    responses=json_response("A page of products", ProductPage),
)
def list_products(query: ProductQuery):
    page = service.list_products(_store(), query.category, query.active, query.limit, query.offset)
    return jsonify(page.model_dump(mode="json"))


@bp.get(
    "/orders",
    scope=READ,
    summary="Orders in id order, optionally in a date range (from/to, inclusive), one page at a time",
    responses={**json_response("A page of orders", OrderPage), **PERIOD_RULE},
)
def list_orders(query: OrderQuery):
    page = service.list_orders(_store(), query.from_, query.to, query.status, query.customer, query.limit, query.offset)
    return jsonify(page.model_dump(mode="json"))


@bp.get(
    "/orders/<id>",
    scope=READ,
    summary="One order with its customer's custid, items, payment, shipment and returns",
    responses={**json_response("The order", OrderDetail), **error_responses(404)},
)
def get_order(path: OrderPath):
    return jsonify(service.get_order(_store(), path.id).model_dump(mode="json"))


@bp.get(
    "/returns",
    scope=READ,
    summary="Returns (order lines sent back, with their refunds) in id order, optionally received in a date range "
    "(from/to, inclusive) or of one reason, one page at a time",
    responses={**json_response("A page of returns", ReturnPage), **PERIOD_RULE},
)
def list_returns(query: ReturnQuery):
    page = service.list_returns(_store(), query.from_, query.to, query.reason, query.limit, query.offset)
    return jsonify(page.model_dump(mode="json"))
