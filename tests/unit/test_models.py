from decimal import Decimal

from pydantic import BaseModel

from salesmcp.models import money_json, plain_schema_of


def test_money_leaves_as_a_number_without_float_noise():
    assert money_json(Decimal("14.0000")) == 14 and isinstance(money_json(Decimal("14.00")), int)
    assert money_json(Decimal("19.99")) == 19.99
    assert money_json(Decimal("0.10") + Decimal("0.20")) == 0.3


class Inner(BaseModel):
    name: str | None
    size: int


class Outer(BaseModel):
    items: list[Inner]
    note: str | None = None


def test_plain_schema_inlines_references_and_writes_optional_as_a_type_list():
    schema = plain_schema_of(Outer)
    assert "$defs" not in schema
    item = schema["properties"]["items"]["items"]
    assert item["properties"]["name"]["type"] == ["string", "null"]
    assert item["required"] == ["name", "size"]
    assert schema["properties"]["note"]["type"] == ["string", "null"]
