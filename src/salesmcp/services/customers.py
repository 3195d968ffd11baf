"""Customer management (seed 001): every rule about customers lives here, once.

The REST views, the MCP tools and the CLI call these functions; each write runs in one
transaction, so a failed write leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, TypeVar

import email_validator
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, WithJsonSchema, field_validator
from sqlalchemy import Connection

from salesmcp.errors import Conflict, InvalidInput, NotFound
from salesmcp.models import plain_schema, plain_schema_of
from salesmcp.paging import DEFAULT_PAGE, Page, WholeNumber, page_config, page_window
from salesmcp.paging import MAX_OFFSET as MAX_OFFSET  # named here too: the customer surfaces describe
from salesmcp.paging import MAX_PAGE as MAX_PAGE  # their pages by service.MAX_PAGE and MAX_OFFSET
from salesmcp.store.schema import CUSTOMER_STATUSES, CustomerStatus
from salesmcp.store.schema import customers as customers_table
from salesmcp.store.sql_store import SqlStore
from salesmcp.validation import any_case, invalid_input, text

Status = CustomerStatus
CustId = str | int
"""A custid as callers give it: text, or a whole number taken as its digits (11 is "11", not "011")."""
ModelT = TypeVar("ModelT", bound=BaseModel)
# Surrounding spaces are stripped before the rule applies; the pattern allows them, so it says the same.
PHONE_RULE = r"^\s*\+?[0-9][0-9 ()./-]{2,47}[0-9()./-]\s*$"
if TYPE_CHECKING:  # text() builds its rules at run time; to a type checker they are plain text
    Name = str
    Place = str
else:
    Name = text(200, min_length=1)
    Place = text(100)  # a city or a country
# email-validator refuses the special-use domains (a@b.test, a@localhost): the document says so too.
_RESERVED_DOMAINS = rf"[@.]({any_case(email_validator.SPECIAL_USE_DOMAIN_NAMES)})\.?$"
Email = Annotated[
    EmailStr | None,
    Field(max_length=254),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "email", "maxLength": 254, "not": {"pattern": _RESERVED_DOMAINS}},
                {"type": "string", "pattern": r"^\s*$"},
                {"type": "null"},
            ],
            "description": "an email address; empty or null for none",
        }
    ),
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("email", mode="before", check_fields=False)
    @classmethod
    def _empty_email_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


class NewCustomer(_Input):
    name: Name
    email: Email = None
    phone: str | None = Field(None, pattern=PHONE_RULE)  # at most 50 characters: the pattern says so
    city: Place | None = None
    country: Place | None = None
    custid: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,32}$")


class CustomerChanges(_Input):
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})  # changing nothing is an error

    # May be left out (None here), not removed: null is refused, as the schema (a string) says.
    name: Name = None  # type: ignore[assignment]
    email: Email = None
    phone: str | None = Field(None, pattern=PHONE_RULE)  # at most 50 characters: the pattern says so
    city: Place | None = None
    country: Place | None = None


class CustomerOut(BaseModel):
    """A customer as every surface shows it."""

    model_config = ConfigDict(json_schema_extra=lambda schema: schema.update(plain_schema(schema)))

    custid: str
    name: str
    email: str | None
    phone: str | None
    city: str | None
    country: str | None
    status: Status
    created_at: dt.datetime
    updated_at: dt.datetime

    @field_validator("created_at", "updated_at")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


class CustomerPage(Page[CustomerOut]):
    # A page of customers in custid order. (No docstring: it would become the schema's description.)
    model_config = page_config("customers")


class StatusChange(BaseModel):
    customer: Annotated[CustomerOut, WithJsonSchema(plain_schema_of(CustomerOut))]
    changed: bool
    message: str


def parse(model: type[ModelT], data: Mapping[str, object]) -> ModelT:
    """Validate input with ``model``; the first problem becomes an InvalidInput naming its field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc, model.model_fields) from None


def _custid(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("cust_id", "is required and must be a non-empty string")
    return value.strip()


def _not_found(custid: str) -> NotFound:
    return NotFound(f"no customer with custid {custid!r}", field="cust_id")


def get_customer(store: SqlStore, custid: CustId) -> CustomerOut:
    custid = _custid(custid)
    record = store.get_customer_record(custid)
    if record is None:
        raise _not_found(custid)
    return CustomerOut.model_validate(record)


def list_customers(
    store: SqlStore,
    status: str | None = None,
    city: str | None = None,
    limit: WholeNumber = DEFAULT_PAGE,
    offset: WholeNumber = 0,
) -> CustomerPage:
    """A page of customers in custid order, optionally of one status or one city (ignoring case);
    blank filters are left out."""
    if status not in (None, "", *CUSTOMER_STATUSES):
        raise InvalidInput("status", f"must be {' or '.join(map(repr, CUSTOMER_STATUSES))}")
    window = page_window(limit, offset)
    if city is not None and not isinstance(city, str):
        raise InvalidInput("city", "must be a string")
    rows, total = store.list_customer_records(status or None, (city or "").strip() or None, *window)
    return CustomerPage.cut([CustomerOut.model_validate(r) for r in rows], total, window)


def add_customer(store: SqlStore, data: Mapping[str, object]) -> CustomerOut:
    """Create a customer (active); the custid is assigned when not given and never reused."""
    new = parse(NewCustomer, data)
    values = new.model_dump(exclude_none=True)
    if new.email:
        values["email"] = new.email.lower()
    with store.transaction() as connection:
        if new.custid and store.get_customer_record(new.custid, connection):
            raise Conflict(f"custid {new.custid!r} is already in use", field="custid")
        _check_email_free(store, connection, values.get("email"), None)
        custid = store.insert_customer(connection, {**values, "status": "active"})
        record = store.get_customer_record(custid, connection)
    return CustomerOut.model_validate(record)


def _check_email_free(store: SqlStore, connection: Connection, email: str | None, custid: str | None) -> None:
    if email:
        owner = store.email_owner(connection, email)
        if owner is not None and owner != custid:
            raise Conflict(f"email {email!r} is already used by customer {owner}", field="email")


def update_customer(store: SqlStore, custid: CustId, changes: Mapping[str, object]) -> CustomerOut:
    """Change only the given fields; unknown fields are an error, and so is changing nothing."""
    custid = _custid(custid)
    parsed = parse(CustomerChanges, changes)
    values = parsed.model_dump(exclude_unset=True)
    if not values:
        raise InvalidInput("changes", f"name at least one field to change ({', '.join(CustomerChanges.model_fields)})")
    if values.get("name", "") is None:
        raise InvalidInput("name", "cannot be removed")
    if values.get("email"):
        values["email"] = values["email"].lower()
    with store.transaction() as connection:
        if store.get_customer_record(custid, connection) is None:
            raise _not_found(custid)
        _check_email_free(store, connection, values.get("email"), custid)
        store.update_customer(connection, custid, values)
        record = store.get_customer_record(custid, connection)
    return CustomerOut.model_validate(record)


def set_status(store: SqlStore, custid: CustId, status: Status) -> StatusChange:
    """Disable or activate; doing it twice is no error, and the answer says it was already so."""
    custid = _custid(custid)
    with store.transaction() as connection:
        changed = store.update_customer(
            connection, custid, {"status": status}, only_if=customers_table.c.status != status
        )
        record = store.get_customer_record(custid, connection)
    if record is None:
        raise _not_found(custid)
    verb = "disabled" if status == "disabled" else "active"
    message = f"customer {custid} is now {verb}" if changed else f"customer {custid} was already {verb}"
    return StatusChange(customer=CustomerOut.model_validate(record), changed=bool(changed), message=message)
