"""Seed 000's customer routes: unknown ids and cities answer ``{}`` / ``[]`` with 200, by contract."""

from __future__ import annotations

from flask import jsonify
from flask_openapi3 import APIBlueprint, Tag
from pydantic import Field

from salesmcp.api.common import RequestModel, extension
from salesmcp.store.base import CustomerReader

bp = APIBlueprint("seed_customers", __name__, abp_tags=[Tag(name="customers (seed 000)")])


class CustomerPath(RequestModel):
    custid: str = Field(description="customer id exactly as in customers.csv, e.g. 011")


class CityPath(RequestModel):
    city: str = Field(description="city name; case-insensitive, surrounding spaces ignored")


def _customers() -> CustomerReader:
    return extension("customers")


@bp.get("/customer/<custid>", summary="One customer by custid ({} if unknown)")
def get_customer(path: CustomerPath):
    customer = _customers().customer(path.custid)
    return jsonify(customer.as_dict() if customer else {})


@bp.get("/customers/city/<city>", summary="Customers of a city, sorted by custid ([] if none)")
def customers_in_city(path: CityPath):
    return jsonify([c.as_dict() for c in _customers().customers_in_city(path.city)])
