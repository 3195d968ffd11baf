"""Seed 000's customer routes: unknown ids and cities answer ``{}`` / ``[]`` with 200, by contract."""

from __future__ import annotations

from flask import jsonify

from salesmcp.api.common import Blueprint, RequestModel, extension, json_response
from salesmcp.scopes import READ
from salesmcp.store.base import CustomerReader
from salesmcp.validation import text

bp = Blueprint("seed_customers", __name__, "customers (seed 000)")


class CustomerPath(RequestModel):
    custid: text(description="customer id exactly as in customers.csv, e.g. 011")  # type: ignore[valid-type]  # text() builds an Annotated type


class CityPath(RequestModel):
    city: text(description="city name; case-insensitive, surrounding spaces ignored")  # type: ignore[valid-type]  # text() builds an Annotated type


CUSTOMER = {
    "type": "object",
    "properties": {"custid": {"type": "string"}, "custname": {"type": "string"}, "city": {"type": "string"}},
}


def _customers() -> CustomerReader:
    return extension("customers")


@bp.get(
    "/customer/<custid>",
    scope=READ,
    summary="One customer by custid ({} if unknown)",
    responses=json_response("The customer, or {} when the custid is unknown", CUSTOMER),
)
def get_customer(path: CustomerPath):
    customer = _customers().customer(path.custid)
    return jsonify(customer.as_dict() if customer else {})


@bp.get(
    "/customers/city/<city>",
    scope=READ,
    summary="Customers of a city, sorted by custid ([] if none)",
    responses=json_response("The city's customers", {"type": "array", "items": CUSTOMER}),
)
def customers_in_city(path: CityPath):
    return jsonify([c.as_dict() for c in _customers().customers_in_city(path.city)])
