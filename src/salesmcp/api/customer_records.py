"""Customer management over REST (seed 001's capabilities): 404 / 400 / 409 with a JSON error body."""

from __future__ import annotations

from typing import Literal

from flask import jsonify, url_for
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field

from salesmcp.api.common import RequestModel, extension
from salesmcp.services import customers as service
from salesmcp.services.customers import CustomerChanges, NewCustomer
from salesmcp.store.sql_store import SqlStore

bp = APIBlueprint("customer_records", __name__, abp_tags=[Tag(name="customers")])


class CustomerPath(RequestModel):
    custid: str


class ListQuery(RequestModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["active", "disabled"] | None = None
    city: str | None = None
    limit: int = Field(service.DEFAULT_PAGE, description=f"page size, 1-{service.MAX_PAGE}")
    offset: int = Field(0, description="customers to skip")


def _store() -> SqlStore:
    return extension("records")


def _json(model: BaseModel, status: int = 200):
    return jsonify(model.model_dump(mode="json")), status


@bp.get("/customers", summary="Customers in custid order, filtered by status or city, one page at a time")
def list_customers(query: ListQuery):
    return _json(service.list_customers(_store(), query.status, query.city, query.limit, query.offset))


@bp.post("/customers", summary="Create a customer (custid assigned when not given)")
def add_customer(body: NewCustomer):
    customer = service.add_customer(_store(), body.model_dump(exclude_unset=True))
    response, status = _json(customer, 201)
    response.headers["Location"] = url_for("customer_records.get_customer", custid=customer.custid)
    return response, status


@bp.get("/customers/<custid>", summary="One customer")
def get_customer(path: CustomerPath):
    return _json(service.get_customer(_store(), path.custid))


@bp.patch("/customers/<custid>", summary="Change some fields of a customer; unknown fields are rejected")
def update_customer(path: CustomerPath, body: CustomerChanges):
    return _json(service.update_customer(_store(), path.custid, body.model_dump(exclude_unset=True)))


@bp.post("/customers/<custid>/disable", summary="Disable a customer (no error if already disabled)")
def disable_customer(path: CustomerPath):
    return _json(service.set_status(_store(), path.custid, "disabled"))


@bp.post("/customers/<custid>/activate", summary="Activate a customer (no error if already active)")
def activate_customer(path: CustomerPath):
    return _json(service.set_status(_store(), path.custid, "active"))
