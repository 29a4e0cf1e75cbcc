"""Response header values: nothing a handler puts in one can end the header line."""

from __future__ import annotations

import pytest

from parley.api.connection import check_header_value


@pytest.mark.parametrize("value", ["msg_0190abc", 'W/"x"', "a\tb", "caf\u00e9", "", "1; w=1"])
def test_a_printable_value_or_one_with_a_tab_goes_out(value: str) -> None:
    check_header_value("x-test", value)


@pytest.mark.parametrize("value", ["a\r\nset-cookie: x=1", "a\nb", "a\rb", "a\x00b", "\t\r\n"])
def test_a_value_that_would_split_the_response_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="x-test"):
        check_header_value("x-test", value)
