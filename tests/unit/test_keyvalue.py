"""KEY=VALUE arguments, as claude-config --env and generate --set take them."""

import pytest

from salesmcp.keyvalue import split_pair


def test_a_pair_splits_at_the_first_equals_sign_keeping_the_value_as_written():
    assert split_pair("X=a=b") == ("X", "a=b")
    assert split_pair(" LOG_LEVEL =DEBUG ") == ("LOG_LEVEL", "DEBUG ")
    assert split_pair("EMPTY=") == ("EMPTY", "")


@pytest.mark.parametrize("text", ["LOG_LEVEL", "=value", "  =value", ""])
def test_a_text_without_a_key_and_an_equals_sign_is_refused_in_the_callers_words(text):
    with pytest.raises(ValueError, match="is not KEY=VALUE"):
        split_pair(text)
    with pytest.raises(ValueError, match="is not name=value"):
        split_pair(text, "name=value")
