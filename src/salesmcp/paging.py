"""Pages of a list (customers, products, orders): one window rule, one page shape, one ``truncated`` rule.

Every list answers ``{"<kind>": [...], "total", "limit", "offset", "truncated"}``: the items under the
kind's own key (``customers``, ``products``, ``orders``), ``total`` counting every match on all pages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Generic, NamedTuple, Self, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import JsonDict

from salesmcp.errors import InvalidInput
from salesmcp.models import plain_schema, plain_schema_of

MAX_PAGE = 500
DEFAULT_PAGE = 50
MAX_OFFSET = 2**63 - 1  # the largest OFFSET every database takes (SQLite's, PostgreSQL's bigint)
WholeNumber = int | str
"""A limit or an offset as callers give it: a number, or its text (a query string's, a command line's)."""

ItemT = TypeVar("ItemT")


class Window(NamedTuple):
    """Which rows a page shows: ``limit`` rows after the first ``offset`` (in the list's order)."""

    limit: int
    offset: int


def page_window(limit: WholeNumber = DEFAULT_PAGE, offset: WholeNumber = 0) -> Window:
    """The page rule of every list: limit 1-MAX_PAGE, offset from 0 to MAX_OFFSET; errors name the parameter."""
    return Window(_whole(limit, "limit", 1, MAX_PAGE), _whole(offset, "offset", 0, MAX_OFFSET))


def _whole(value: object, field: str, least: int, most: int) -> int:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # not a number: reported just below
            value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(field, "must be a whole number")
    if not least <= value <= most:
        raise InvalidInput(field, f"must be between {least} and {most}; got {value}")
    return value


class Page(BaseModel, Generic[ItemT]):
    """One page of a list. A kind's page is a subclass with ``model_config = page_config("<kind>")``,
    which names the items on the wire and in the JSON schema (``items`` in Python)."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True, validate_by_alias=True)

    items: list[ItemT]
    total: int
    limit: int
    offset: int
    truncated: bool

    @classmethod
    def cut(cls, items: Sequence[ItemT], total: int, window: Window) -> Self:
        """The page of ``items`` shown through ``window`` out of ``total`` matches.

        ``truncated`` is true when more rows match than this page and the ones before it show.
        """
        return cls(
            items=list(items),
            total=total,
            limit=window.limit,
            offset=window.offset,
            truncated=window.offset + len(items) < total,
        )


def page_config(key: str) -> ConfigDict:
    """A kind's page: its items under ``key`` (e.g. ``"customers"``), and the schema's words for them."""

    def schema(document: JsonDict, model: type[Any]) -> None:
        # The items' schema is written in place, without $ref: clients validate every result against it
        # (see plain_schema), and $defs cannot be resolved from here.
        properties: Any = document["properties"]
        properties[key] = {**plain_schema_of(model.model_fields["items"].annotation), "title": properties[key]["title"]}
        properties["total"]["description"] = f"{key} matching the filters, on all pages"
        properties["truncated"]["description"] = f"true when more {key} match than this page shows"
        document.update(plain_schema(document))

    return ConfigDict(alias_generator=lambda name: key if name == "items" else name, json_schema_extra=schema)
