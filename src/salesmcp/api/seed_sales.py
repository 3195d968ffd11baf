"""Seed 000's sales route, plus a per-customer revenue summary so clients need not fetch every sale."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from itertools import islice
from typing import Any

from flask import Response, current_app, jsonify, stream_with_context
from pydantic import ConfigDict, Field, field_validator, model_validator

from salesmcp.api.common import PERIOD_RULE, Blueprint, RequestModel, extension, json_response
from salesmcp.dates import DateParam, check_period
from salesmcp.errors import InvalidInput
from salesmcp.malloc_tuning import release_free_memory
from salesmcp.models import money_json
from salesmcp.scopes import READ
from salesmcp.store.base import SalesReader
from salesmcp.validation import text

bp = Blueprint("seed_sales", __name__, "sales (seed 000)")
MAX_CUSTIDS = 5000
STREAM_CHUNK = 10_000


class SalesQuery(RequestModel):
    start_date: DateParam = Field(description="first day, inclusive: yyyymmdd or YYYY-MM-DD")
    end_date: DateParam = Field(description="last day, inclusive: yyyymmdd or YYYY-MM-DD")
    custid: list[text(min_length=1, description="a custid, or several separated by commas")] = Field(  # type: ignore[valid-type]  # text() builds an Annotated type
        default_factory=list, description="only these customers (repeat the parameter or separate by commas)"
    )

    @field_validator("custid", mode="before")
    @classmethod
    def _split_commas(cls, values: Any) -> Any:
        # Before the text rule, so that it applies to each custid and a long list gets the count's message.
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
            return values  # the type check reports it
        if any(not value.strip() for value in values):  # as documented: every custid value has a character
            raise InvalidInput("custid", "must not be empty: name a custid, or leave the parameter out")
        custids = [part.strip() for value in values for part in value.split(",") if part.strip()]
        if len(custids) > MAX_CUSTIDS:
            raise InvalidInput("custid", f"at most {MAX_CUSTIDS} customers per request")
        return custids

    @model_validator(mode="after")
    def _ordered(self) -> SalesQuery:
        check_period(self.start_date, self.end_date)
        return self

    @property
    def period(self) -> tuple[dt.date, dt.date]:
        return self.start_date, self.end_date


class RevenueQuery(SalesQuery):
    """As SalesQuery, but custid is required (checked in the view, where the error names it)."""

    model_config = ConfigDict(
        json_schema_extra=lambda schema: schema.update(required=[*schema.get("required", []), "custid"])
    )


SALE = {
    "type": "object",
    "properties": {
        "ordid": {"type": "integer"},
        "custid": {"type": "string"},
        "orddate": {"type": "string", "description": "yyyymmdd"},
        "ordamount": {"type": "number"},
    },
    "required": ["ordid", "custid", "orddate", "ordamount"],
}
REVENUE_LINE = {
    "type": "object",
    "properties": {"custid": {"type": "string"}, "revenue": {"type": "number"}, "sales_count": {"type": "integer"}},
    "required": ["custid", "revenue", "sales_count"],
}


def _sales() -> SalesReader:
    return extension("sales")


@bp.get(
    "/sales",
    scope=READ,
    summary="Sales in an inclusive date range, sorted by date then ordid",
    responses={**json_response("The sales", {"type": "array", "items": SALE}), **PERIOD_RULE},
)
def sales(query: SalesQuery):
    sales = iter(_sales().sales_between(*query.period, query.custid or None))
    first = [sale.as_dict() for sale in islice(sales, STREAM_CHUNK)]
    if len(first) < STREAM_CHUNK:
        return jsonify(first)
    # A large range is written in chunks as the sales are read, so neither the sales nor the
    # JSON text of a year sit in memory at once.
    encode = current_app.json.dumps

    def chunks() -> Iterator[str]:
        try:
            yield "[" + encode(first)[1:-1]
            while chunk := [sale.as_dict() for sale in islice(sales, STREAM_CHUNK)]:
                yield "," + encode(chunk)[1:-1]
            yield "]\n"
        finally:
            release_free_memory()

    return Response(stream_with_context(chunks()), mimetype="application/json")


@bp.get(
    "/sales/revenue",
    scope=READ,
    summary="Revenue and sales count per customer in an inclusive date range (customers with sales only)",
    responses={**json_response("Revenue per customer", {"type": "array", "items": REVENUE_LINE}), **PERIOD_RULE},
)
def revenue(query: RevenueQuery):
    if not query.custid:
        raise InvalidInput("custid", "is required: name the customers to summarise")
    summary = _sales().revenue_by_customer(*query.period, query.custid)
    # money_json here rather than in the JSON encoder's fallback: a big city is hundreds of rows.
    rows = [{"custid": c, "revenue": money_json(r.amount), "sales_count": r.count} for c, r in summary.items()]
    return jsonify(rows)
