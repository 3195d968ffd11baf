"""What a generation is asked for: every parameter, its default and its rule, in one model.

The REST route, the MCP tool and the CLI all build a :class:`GenerationRequest`; the fields that
shape the data (not ``mode`` or ``batch_size``) make its fingerprint, so an identical request can
be recognised and reported instead of made twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from salesmcp.dates import DateParam, check_period
from salesmcp.errors import InvalidInput
from salesmcp.validation import invalid_input

DEFAULT_START = dt.date(2025, 1, 1)
DEFAULT_END = dt.date(2026, 12, 31)
MAX_WINDOW_DAYS = 366 * 30
Mode = Literal["once", "append", "replace"]

# name:weight lists, written as "a:3,b:1" (a missing weight is 1).
DEFAULT_LOCALES = "nl_NL:3,de_DE:1"
DEFAULT_PAYMENT_METHODS = "card:50,ideal:20,paypal:18,bank_transfer:8,gift_card:4"
DEFAULT_CARRIERS = "PostNL:45,DHL:30,DPD:15,UPS:10"
MIN_PRODUCTS = 300  # a believable catalogue even for a small dataset (the seed's GET /products?limit=50 fills a page)


def parse_weights(text: str, field: str, known: frozenset[str] | None = None) -> tuple[tuple[str, float], ...]:
    """``"nl_NL:3,de_DE"`` → ``(("nl_NL", 3.0), ("de_DE", 1.0))``; names unique, weights > 0."""
    pairs: list[tuple[str, float]] = []
    for part in str(text).split(","):
        name, _, weight = part.strip().partition(":")
        name = name.strip()
        if not name:
            raise InvalidInput(field, f"must be a comma-separated list of name or name:weight, got {text!r}")
        try:
            value = float(weight) if weight.strip() else 1.0
        except ValueError:
            raise InvalidInput(field, f"the weight of {name!r} must be a number, got {weight!r}") from None
        if not value > 0 or value == float("inf"):
            raise InvalidInput(field, f"the weight of {name!r} must be a positive number")
        if known is not None and name not in known:
            raise InvalidInput(field, f"{name!r} is not a known Faker locale (e.g. nl_NL, de_DE, en_US, fr_FR)")
        if any(name == seen for seen, _ in pairs):
            raise InvalidInput(field, f"{name!r} is named twice")
        pairs.append((name, value))
    return tuple(pairs)


_WEIGHT = r"(?:[0-9]*[1-9][0-9]*(?:\.[0-9]+)?|[0-9]+\.[0-9]*[1-9][0-9]*)"


@cache
def locale_pattern() -> str:
    """The documented rule of ``locale``, as the OpenAPI document states it (and the validator enforces):
    known Faker locales, each with an optional positive decimal weight, separated by commas."""
    names = "|".join(sorted(_faker_locales(), key=lambda name: (-len(name), name)))
    item = f" *(?:{names})(?: *: *{_WEIGHT})? *"
    return f"^{item}(?:,{item})*$"


def _faker_locales() -> frozenset[str]:
    from faker.config import AVAILABLE_LOCALES

    return frozenset(AVAILABLE_LOCALES)


class GenerationRequest(BaseModel):
    """A generation: ``rows`` orders with their customers, products, items, payments, shipments and returns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rows: int = Field(1000, ge=1, description="orders to make (customers and products scale with it)")
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="random seed; default DATA_SEED")
    start_date: DateParam = Field(DEFAULT_START, description="first order date (inclusive)")
    end_date: DateParam = Field(DEFAULT_END, description="last order date (inclusive); also the 'as of' moment")
    locale: str = Field(
        DEFAULT_LOCALES,
        description="Faker locales with weights, e.g. nl_NL:3,de_DE:1 (each named once; a weight is a positive "
        "decimal number)",
        json_schema_extra=lambda schema: schema.update(pattern=locale_pattern()),
    )
    customers_per_order: float = Field(0.1, gt=0, le=1, description="customers made per order (at least 10)")
    products_per_order: float = Field(
        0.002, gt=0, le=1, description=f"products made per order (at least {MIN_PRODUCTS})"
    )
    items_per_order: float = Field(2.5, ge=1, le=20, description="mean order lines per order")
    max_items_per_order: int = Field(8, ge=1, le=20, description="most order lines in one order")
    quantity_mean: float = Field(1.6, ge=1, le=10, description="mean quantity of one order line (geometric)")
    max_quantity: int = Field(10, ge=1, le=100, description="largest quantity of one order line")
    payment_methods: str = Field(DEFAULT_PAYMENT_METHODS, description="payment methods with weights")
    carriers: str = Field(DEFAULT_CARRIERS, description="carriers with weights")
    cancel_rate: float = Field(0.04, ge=0, le=1, description="share of orders CANCELLED (no payment, no shipment)")
    unpaid_rate: float = Field(0.02, ge=0, le=1, description="share of orders left PLACED (never paid)")
    weekend_factor: float = Field(1.3, gt=0, le=10, description="orders on a Saturday or Sunday vs a weekday")
    seasonality: bool = Field(True, description="more orders in November and December, fewer in summer")
    holiday_factor: float = Field(
        0.45, gt=0, le=10, description="orders on a public holiday of the customers' countries vs an ordinary day"
    )
    black_friday: float = Field(3.0, gt=0, le=20, description="orders on Black Friday vs an ordinary day")
    cyber_monday: float = Field(2.2, gt=0, le=20, description="orders on Cyber Monday vs an ordinary day")
    growth: float = Field(0.0, gt=-1, le=10, description="yearly growth of orders per day: 0.15 is +15% a year")
    return_rate: float = Field(
        0.08,
        ge=0,
        le=0.5,
        description="share of delivered order lines sent back within 30 days of delivery "
        "(Clothing's far more often, Grocery's seldom), each refunded a few days later",
    )
    flaws: float = Field(
        0.0, ge=0, le=0.5, description="share of customers and of products given realistic defects (0: clean data)"
    )
    customer_skew: float = Field(
        1.2, gt=0, le=4, description="log-normal spread of orders per customer (higher: a few buy far more)"
    )
    product_skew: float = Field(
        1.5, gt=0, le=4, description="log-normal spread of sales per product (higher: a few sell far more)"
    )
    tax_rate: float = Field(0.21, ge=0, le=1, description="tax on the subtotal")
    shipping_fee: float = Field(4.95, ge=0, le=1000, description="shipping fee below the free-shipping threshold")
    free_shipping_from: float = Field(50, ge=0, description="subtotal from which shipping is free")
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$", description="ISO 4217 currency of payments")
    mode: Mode = Field(
        "once", description="once: an identical request made before is reported, not repeated; "
        "append: add another run after the data there; replace: reset every table first"
    )  # fmt: skip
    batch_size: int | None = Field(
        None, ge=1, le=100_000, description="orders per transaction; default DEFAULT_BATCH_SIZE"
    )

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_and_booleans_apart(cls, value: Any, info: Any) -> Any:
        # pydantic's lax mode would read true as 1 for rows or a rate: a number field takes numbers only.
        kind = cls.model_fields[info.field_name].annotation
        if isinstance(value, bool) and kind in (int, float, int | None):
            raise ValueError("must be a number, not true or false")
        if kind is bool and isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError("must be true or false, not a number")  # lax mode would read 0 and 1
        return value

    @field_validator("locale")
    @classmethod
    def _known_locales(cls, value: str) -> str:
        parse_weights(value, "locale", _faker_locales())
        if not re.fullmatch(locale_pattern(), value):  # what parse_weights reads but the document does not say
            rule = "each locale's weight must be a plain positive decimal number (e.g. nl_NL:3,de_DE:0.5)"
            raise InvalidInput("locale", f"{rule}; got {value!r}")
        return value

    @field_validator("payment_methods", "carriers")
    @classmethod
    def _weights(cls, value: str, info: Any) -> str:
        parse_weights(value, info.field_name)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> GenerationRequest:
        check_period(self.start_date, self.end_date)
        if (self.end_date - self.start_date).days > MAX_WINDOW_DAYS:
            raise InvalidInput("end_date", "the window may span at most 30 years")
        if self.cancel_rate + self.unpaid_rate > 1:
            raise InvalidInput("unpaid_rate", "cancel_rate + unpaid_rate must not exceed 1")
        if self.max_items_per_order < self.items_per_order:
            raise InvalidInput("max_items_per_order", "must be at least items_per_order")
        if self.max_quantity < self.quantity_mean:
            raise InvalidInput("max_quantity", "must be at least quantity_mean")
        return self

    # -- derived ----------------------------------------------------------------------------------

    def data_fields(self) -> dict[str, Any]:
        """The fields that decide the data (the fingerprint's input), as JSON values."""
        return self.model_dump(mode="json", exclude={"mode", "batch_size"})

    def fingerprint(self) -> str:
        """Same data-deciding fields (seed resolved) → same fingerprint."""
        text = json.dumps(self.data_fields(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def locales(self) -> tuple[tuple[str, float], ...]:
        return parse_weights(self.locale, "locale")

    @property
    def n_customers(self) -> int:
        return max(10, round(self.rows * self.customers_per_order))

    @property
    def n_products(self) -> int:
        return max(MIN_PRODUCTS, round(self.rows * self.products_per_order))


def build_request(values: Mapping[str, object], default_seed: int, max_rows: int) -> GenerationRequest:
    """A request from untrusted values (query string, JSON body, tool arguments): errors name the field.

    ``seed`` defaults to ``default_seed`` (DATA_SEED); ``rows`` may not exceed ``max_rows``.
    """
    given = {key: value for key, value in values.items() if value is not None}
    try:
        request = GenerationRequest.model_validate(given)
    except ValidationError as exc:
        raise invalid_input(exc, allowed=list(GenerationRequest.model_fields)) from None
    if request.rows > max_rows:
        raise InvalidInput("rows", f"must be at most {max_rows} (GENERATE_MAX_ROWS)")
    if request.seed is None:
        request = request.model_copy(update={"seed": default_seed})
    return request
