"""Seed 000's customer routes: unknown ids and cities answer ``{}`` / ``[]`` with 200, by contract."""

from __future__ import annotations

from flask import jsonify
from flask_openapi3 import APIBlueprint, Tag

from salesmcp.api.common import COMMON_ERRORS, RequestModel, error_responses, extension, json_response
from salesmcp.store.base import CustomerReader
from salesmcp.validation import text

bp = APIBlueprint(
    "seed_customers",
    __name__,
    abp_tags=[Tag(name="customers (seed 000)")],
    abp_responses=error_responses(*COMMON_ERRORS),
)


class CustomerPath(RequestModel):
    custid: text(description="customer id exactly as in customers.csv, e.g. 011")


class CityPath(RequestModel):
    city: text(description="city name; case-insensitive, surrounding spaces ignored")


CUSTOMER = {
    "type": "object",
    "properties": {"custid": {"type": "string"}, "custname": {"type": "string"}, "city": {"type": "string"}},
}


def _customers() -> CustomerReader:
    return extension("customers")


@bp.get(
    "/customer/<custid>",
    summary="One customer by custid ({} if unknown)",
    responses=json_response("The customer, or {} when the custid is unknown", CUSTOMER),
)
def get_customer(path: CustomerPath):
    customer = _customers().customer(path.custid)
    return jsonify(customer.as_dict() if customer else {})


@bp.get(
    "/customers/city/<city>",
    summary="Customers of a city, sorted by custid ([] if none)",
    responses=json_response("The city's customers", {"type": "array", "items": CUSTOMER}),
)
def customers_in_city(path: CityPath):
    return jsonify([c.as_dict() for c in _customers().customers_in_city(path.city)])
