"""Wait for one event on a stream, keeping the stream usable for the next wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

from parley_client import BaseEvent

E = TypeVar("E", bound=BaseEvent)


def matches(event: BaseEvent, kind: type[E], payload: dict[str, Any]) -> bool:
    body = getattr(event, "payload", None)
    return isinstance(event, kind) and all(getattr(body, k, None) == v for k, v in payload.items())


async def next_of(stream: AsyncIterator[BaseEvent], kind: type[E], timeout: float = 10, **payload: Any) -> E:
    async with asyncio.timeout(timeout):
        async for event in stream:
            if matches(event, kind, payload):
                assert isinstance(event, kind)
                return event
    raise AssertionError(f"the stream ended before a {kind.__name__}")


def next_of_sync(stream: Iterator[BaseEvent], kind: type[E], timeout: float = 10, **payload: Any) -> E:
    deadline = time.monotonic() + timeout
    for event in stream:
        if matches(event, kind, payload):
            assert isinstance(event, kind)
            return event
        assert time.monotonic() < deadline, f"no {kind.__name__} {payload} within {timeout} s"
    raise AssertionError(f"the stream ended before a {kind.__name__}")
