"""A poll's query string, checked once per distinct string and every time when it carries a cursor."""

from __future__ import annotations

import pytest

from parley.api.http import Request
from parley.api.routes.common import event_query
from parley.domain.errors import InvalidRequest


def poll(raw: bytes) -> Request:
    return Request("GET", "/events", {}, "127.0.0.1", raw_query=raw)


def test_a_repeated_query_is_checked_once_and_read_the_same() -> None:
    first = event_query(poll(b"maxEvents=7&timeout=3"))
    again = event_query(poll(b"maxEvents=7&timeout=3"))
    assert again is first
    assert (again.maxEvents, again.timeout, again.after) == (7, 3, None)


def test_a_cursor_is_read_from_each_poll() -> None:
    assert event_query(poll(b"maxEvents=5&after=3")).after == 3
    assert event_query(poll(b"maxEvents=5&after=4")).after == 4


@pytest.mark.parametrize("raw", [b"maxEvents=0", b"timeout=99", b"maxEvents=x"])
def test_a_bad_query_is_refused_every_time(raw: bytes) -> None:
    for _ in range(2):
        with pytest.raises(InvalidRequest):
            event_query(poll(raw))
