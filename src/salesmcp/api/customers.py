"""Customer management over REST (seed 001's capabilities): 404 / 400 / 409 with a JSON error body."""

from __future__ import annotations

from typing import Literal

from flask import jsonify, url_for
from pydantic import BaseModel, ConfigDict, Field

from salesmcp.api.common import Blueprint, RequestModel, error_responses, extension, json_response
from salesmcp.scopes import READ, WRITE
from salesmcp.services import customers as service
from salesmcp.services.customers import CustomerChanges, CustomerOut, CustomerPage, NewCustomer, StatusChange
from salesmcp.store.sql_store import SqlStore
from salesmcp.validation import Text, text

bp = Blueprint("customers", __name__, "customers")


class CustomerPath(RequestModel):
    custid: text(32, min_length=1, description="the customer's public id, e.g. 011")  # type: ignore[valid-type]  # text() builds an Annotated type


class ListQuery(RequestModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["active", "disabled"] | None = None
    city: Text | None = None
    limit: int = Field(
        service.DEFAULT_PAGE,
        description=f"page size, 1-{service.MAX_PAGE}",
        json_schema_extra={"minimum": 1, "maximum": service.MAX_PAGE},
    )
    offset: int = Field(
        0, description="customers to skip", json_schema_extra={"minimum": 0, "maximum": service.MAX_OFFSET}
    )


def _store() -> SqlStore:
    return extension("records")


def _json(model: BaseModel, status: int = 200):
    return jsonify(model.model_dump(mode="json")), status


ONE = {**json_response("The customer", CustomerOut), **error_responses(404)}
STATUS = {**json_response("The customer and whether its status changed", StatusChange), **error_responses(404)}


@bp.get(
    "/customers",
    scope=READ,
    summary="Customers in custid order, filtered by status or city, one page at a time",
    responses=json_response("A page of customers", CustomerPage),
)
def list_customers(query: ListQuery):
    return _json(service.list_customers(_store(), query.status, query.city, query.limit, query.offset))


@bp.post(
    "/customers",
    scope=WRITE,
    summary="Create a customer (custid assigned when not given)",
    responses={**json_response("The new customer", CustomerOut, 201), **error_responses(409)},
)
def add_customer(body: NewCustomer):
    customer = service.add_customer(_store(), body.model_dump(exclude_unset=True))
    response, status = _json(customer, 201)
    response.headers["Location"] = url_for("customers.get_customer", custid=customer.custid)
    return response, status


@bp.get("/customers/<custid>", scope=READ, summary="One customer", responses=ONE)
def get_customer(path: CustomerPath):
    return _json(service.get_customer(_store(), path.custid))


@bp.patch(
    "/customers/<custid>",
    scope=WRITE,
    summary="Change some fields of a customer; unknown fields are rejected",
    responses={**ONE, **error_responses(409)},
)
def update_customer(path: CustomerPath, body: CustomerChanges):
    return _json(service.update_customer(_store(), path.custid, body.model_dump(exclude_unset=True)))


@bp.post(
    "/customers/<custid>/disable",
    scope=WRITE,
    summary="Disable a customer (no error if already disabled)",
    responses=STATUS,
)
def disable_customer(path: CustomerPath):
    return _json(service.set_status(_store(), path.custid, "disabled"))


@bp.post(
    "/customers/<custid>/activate",
    scope=WRITE,
    summary="Activate a customer (no error if already active)",
    responses=STATUS,
)
def activate_customer(path: CustomerPath):
    return _json(service.set_status(_store(), path.custid, "active"))
