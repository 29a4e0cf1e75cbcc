"""A stopping server releases its waiting polls, and the engine answers readiness (contracts 11, 13)."""

from __future__ import annotations

import asyncio
import time

from parley.service.ports import Envelope, EventEngine
from tests.integration.bus.bus_helpers import stream_session


async def test_released_polls_return_at_once_and_later_ones_do_not_wait(engine: EventEngine) -> None:
    await engine.create_session(stream_session("s1"))
    waiting = asyncio.create_task(engine.next_events("s1", 10, 30))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    engine.release_waiters()
    async with asyncio.timeout(2):
        assert await waiting == []
    assert await engine.next_events("s1", 10, 30) == []
    assert time.monotonic() - started < 1
    await engine.publish("org1", ["user:u1"], "messaging.Text", {"n": 1})
    delivered = await engine.next_events("s1", 10, 30)
    assert [e.payload for e in delivered if isinstance(e, Envelope)] == [{"n": 1}]  # still delivers


async def test_the_engine_answers_a_ping(engine: EventEngine) -> None:
    async with asyncio.timeout(1):
        await engine.ping()
