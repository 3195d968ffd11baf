"""The page rule and page shape every list shares (customers, products, orders)."""

import json

import pytest
from pydantic import BaseModel

from salesmcp.errors import InvalidInput
from salesmcp.paging import MAX_OFFSET, MAX_PAGE, Page, Window, page_config, page_window
from salesmcp.services.customers import CustomerPage
from salesmcp.services.products_orders import OrderPage, ProductPage


class Note(BaseModel):
    n: int


class NotePage(Page[Note]):
    model_config = page_config("notes")


@pytest.mark.parametrize(
    ("shown", "total", "window", "truncated"),
    [
        (2, 3, Window(2, 0), True),  # one more after this page
        (2, 5, Window(2, 2), True),
        (1, 3, Window(2, 2), False),  # the last page
        (2, 2, Window(2, 0), False),  # ends exactly at the last match
        (0, 3, Window(2, 10), False),  # past the end
        (0, 0, Window(50, 0), False),
    ],
)
def test_a_page_is_truncated_only_when_more_match_than_it_and_the_pages_before_show(shown, total, window, truncated):
    page = NotePage.cut([Note(n=i) for i in range(shown)], total, window)
    assert (len(page.items), page.total, page.limit, page.offset) == (shown, total, *window)
    assert page.truncated is truncated


def test_a_kind_of_page_is_a_page_of_its_items_named_on_the_wire():
    page = NotePage.cut([Note(n=1)], 3, Window(1, 0))
    assert page.model_dump() == {"notes": [{"n": 1}], "total": 3, "limit": 1, "offset": 0, "truncated": True}
    assert (
        NotePage.model_validate({"notes": [{"n": 1}], "total": 3, "limit": 1, "offset": 0, "truncated": True}) == page
    )


@pytest.mark.parametrize(
    ("model", "key"), [(CustomerPage, "customers"), (ProductPage, "products"), (OrderPage, "orders")]
)
def test_each_kind_of_page_shows_its_items_under_its_own_name_first(model, key):
    page = model.cut([], 7, Window(5, 10))
    assert list(page.model_dump(mode="json")) == [key, "total", "limit", "offset", "truncated"]
    assert json.loads(page.model_dump_json()) == {key: [], "total": 7, "limit": 5, "offset": 10, "truncated": False}
    assert model.model_validate(page.model_dump(mode="json")) == page  # the wire form reads back


@pytest.mark.parametrize(
    ("model", "key"), [(CustomerPage, "customers"), (ProductPage, "products"), (OrderPage, "orders")]
)
def test_each_kind_of_page_has_a_plain_schema_named_after_it(model, key):
    schema = model.model_json_schema(mode="serialization")
    assert schema["title"] == model.__name__
    assert schema["required"] == [key, "total", "limit", "offset", "truncated"]
    assert schema["properties"]["total"]["description"] == f"{key} matching the filters, on all pages"
    assert schema["properties"]["truncated"]["description"] == f"true when more {key} match than this page shows"
    assert "$ref" not in json.dumps(schema) and "$defs" not in schema


def test_the_page_window_takes_numbers_and_their_text():
    assert page_window() == Window(50, 0)
    assert page_window(" 20 ", "40") == (20, 40)
    assert page_window(MAX_PAGE, MAX_OFFSET) == (MAX_PAGE, MAX_OFFSET)


@pytest.mark.parametrize(
    ("limit", "offset", "field", "rule"),
    [
        (0, 0, "limit", "must be between 1 and 500; got 0"),
        (MAX_PAGE + 1, 0, "limit", "must be between 1 and 500"),
        ("ten", 0, "limit", "must be a whole number"),
        (True, 0, "limit", "must be a whole number"),
        (2.5, 0, "limit", "must be a whole number"),
        (10, -1, "offset", "must be between 0 and"),
        (10, MAX_OFFSET + 1, "offset", "must be between 0 and"),
    ],
)
def test_a_bad_page_window_names_the_parameter_and_its_rule(limit, offset, field, rule):
    with pytest.raises(InvalidInput) as caught:
        page_window(limit, offset)
    assert caught.value.field == field and rule in caught.value.rule
