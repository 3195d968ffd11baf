"""``--partition k/n``: which share of a run a process makes."""

from __future__ import annotations

import pytest

from salesmcp.errors import InvalidInput
from salesmcp.services.generator import parse_partition


@pytest.mark.parametrize(("text", "expected"), [("1/1", (1, 1)), ("2/3", (2, 3)), ("3/3", (3, 3)), (" 4/9", (4, 9))])
def test_a_partition_is_k_of_n(text, expected):
    assert parse_partition(text) == expected


@pytest.mark.parametrize("text", ["0/2", "3/2", "x", "1/", "/2", "1/0", "-1/2", "1.5/2", "1/2/3"])
def test_a_bad_partition_is_invalid_input_naming_partition(text):
    with pytest.raises(InvalidInput) as caught:
        parse_partition(text)
    assert caught.value.field == "partition"
    assert repr(text) in caught.value.message
