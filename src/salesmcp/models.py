"""Typed records shared by every layer, and the JSON form of money."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from typing import Annotated, Any, NotRequired, TypeVar

from pydantic import Field, PlainSerializer, TypeAdapter, WithJsonSchema
from typing_extensions import TypedDict


def money_json(amount: Decimal) -> int | float:
    """Money leaves as a JSON number without float noise: 14, 19.99 (never "14" or 19.990000001)."""
    if amount == amount.to_integral_value():
        return int(amount)
    return float(amount)


T = TypeVar("T")


@cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def json_ready(kind: type[T], value: T) -> Any:
    """``value`` as plain JSON types (money as numbers), shaped and checked by its declared type."""
    # A class is hashable; mypy doesn't see it for type[T] (python/mypy#11470).
    return _adapter(kind).dump_python(value, mode="json")  # type: ignore[arg-type]


def compact_json(data: Any) -> str:
    """The text of an answer as a model reads it: compact JSON, non-ASCII characters as they are."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def plain_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema without $ref and with ``type: [X, "null"]`` for optional values.

    pydantic writes nested models as $defs/$ref and optional fields as anyOf; clients validate
    every result against the output schema, and both cost a Python client (jsonschema) dearly on
    a page of hundreds of rows (a third of the time). The meaning is unchanged.
    """
    definitions = schema.get("$defs", {})

    def plain(node: Any) -> Any:
        if isinstance(node, list):
            return [plain(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return plain(
                {**definitions[node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
            )
        options = node.get("anyOf")
        if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
            other = next(option for option in options if option != {"type": "null"})
            if set(other) <= {"type", "format"} and isinstance(other.get("type"), str):
                rest = {k: v for k, v in node.items() if k != "anyOf"}
                return plain({**rest, **other, "type": [other["type"], "null"]})
        return {key: plain(value) for key, value in node.items() if key != "$defs"}

    return plain(schema)


def plain_schema_of(kind: Any) -> dict[str, Any]:
    return plain_schema(TypeAdapter(kind).json_schema(mode="serialization"))


Money = Annotated[
    Decimal,
    PlainSerializer(money_json, return_type=Any, when_used="json"),
    WithJsonSchema({"type": "number"}),
]


@lru_cache(maxsize=8192)
def compact_date(day: dt.date) -> str:
    """Seed 000's ``yyyymmdd`` form of a date (cached: a million sales have a few hundred dates)."""
    return day.strftime("%Y%m%d")


@dataclass(frozen=True, slots=True)
class Customer:
    custid: str
    custname: str
    city: str

    def as_dict(self) -> dict[str, str]:
        return {"custid": self.custid, "custname": self.custname, "city": self.city}


@dataclass(frozen=True, slots=True)
class Sale:
    ordid: int
    custid: str
    orddate: dt.date
    ordamount: Decimal

    def as_dict(self) -> dict[str, object]:
        return {
            "ordid": self.ordid,
            "custid": self.custid,
            "orddate": compact_date(self.orddate),
            "ordamount": self.ordamount,
        }


@dataclass(frozen=True, slots=True)
class Revenue:
    """Revenue of one customer over a period: the sum of the amounts and how many sales made it."""

    amount: Decimal = Decimal(0)
    count: int = 0


@dataclass(frozen=True, slots=True)
class CityRevenuePage:
    """A city's customers and revenue in a period: totals for the whole city, and the part of its list asked for."""

    city: str | None  # as stored, for the city's customer with the lowest custid; None: the city has none
    customer_count: int
    total: Revenue  # every customer of the city
    lines: list[tuple[Customer, Revenue]]  # the customers asked for (order, limit, offset), in that order


class CustomerRevenue(TypedDict, total=False):
    """Revenue of one customer in a period; empty (``{}``) when the customer is unknown."""

    custid: str
    custname: str
    city: str
    revenue: Money
    sales_count: int


class CustomerRevenueLine(TypedDict):
    custid: str
    custname: str
    revenue: Money
    sales_count: int


# Inlined rather than a $ref: clients validate every result against the schema, and resolving a
# reference per list item costs a Python client (jsonschema) about a third more for a large city.
_LINES_SCHEMA = plain_schema_of(list[CustomerRevenueLine])


class CityRevenue(TypedDict):
    """Revenue of every customer of a city in a period, customers without sales included with 0."""

    city: str
    total_revenue: Money
    customer_count: int
    # Only when the list is cut (the totals still cover the whole city), and before the list: a model reads them first.
    truncated: NotRequired[
        Annotated[bool, Field(description="true: customers lists only part of the city (shown of customer_count)")]
    ]
    shown: NotRequired[Annotated[int, Field(description="how many customers the list holds")]]
    offset: NotRequired[Annotated[int, Field(description="how many customers, in the list's order, come before it")]]
    customers: Annotated[list[CustomerRevenueLine], WithJsonSchema(_LINES_SCHEMA)]
