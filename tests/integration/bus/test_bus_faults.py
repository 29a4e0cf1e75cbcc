"""The Redis event engine when its Redis hangs or goes away: bounded calls, 503, a circuit, no lost event.

Each test runs a Redis of its own, a child process it stops (SIGSTOP) or kills.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import pytest

from parley.adapters.bus.redis import RedisEventEngine
from parley.domain.errors import Unavailable
from parley.service.ports import Envelope, Reset
from tests.clock import FakeClock
from tests.e2e.own_redis import OwnRedis, own_redis
from tests.integration.bus.bus_helpers import stream_session

pytestmark = pytest.mark.redis

TIMEOUT = 0.5  # the engine's bound on a call, kept short so the tests are


@pytest.fixture
def redis(tmp_path: Path) -> Any:
    with own_redis(tmp_path / "redis", persistent=True) as r:
        yield r


@pytest.fixture
async def engine(redis: OwnRedis) -> AsyncIterator[RedisEventEngine]:
    engine = RedisEventEngine(redis.url, FakeClock(1_790_000_000.0), timeout=TIMEOUT)
    await engine.start()
    yield engine
    await engine.close()


async def timed(call: Awaitable[Any]) -> float:
    """Seconds until ``call`` raised Unavailable (it must not hang past a few seconds)."""
    start = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        async with asyncio.timeout(5):
            await call
    assert caught.value.retry_after >= 1
    return time.monotonic() - start


async def until_recovered(engine: RedisEventEngine, within: float = 5.0) -> float:
    start = time.monotonic()
    while engine.unavailable_since is not None:
        assert time.monotonic() - start < within, f"still unavailable after {within} s"
        await asyncio.sleep(0.02)
    return time.monotonic() - start


def texts(batch: list[Envelope | Reset]) -> list[tuple[int, Any]]:
    return [(e.sequence_number, e.payload["n"]) for e in batch if isinstance(e, Envelope)]


async def test_a_hung_redis_answers_unavailable_within_the_bound_and_then_at_once(
    engine: RedisEventEngine, redis: OwnRedis
) -> None:
    await engine.create_session(stream_session("s1"))
    with redis.hung():
        first = await timed(engine.get_session("s1"))
        assert first < TIMEOUT + 1
        # Known down: later calls do not pay the stall again.
        later = [await timed(engine.get_session("s1")) for _ in range(5)]
        assert max(later) < 0.05, later
    await until_recovered(engine)
    assert (await engine.get_session("s1")).session_id == "s1"


async def test_a_killed_redis_answers_unavailable_and_recovers_once_it_is_back(
    engine: RedisEventEngine, redis: OwnRedis
) -> None:
    await engine.create_session(stream_session("s1"))
    with redis.gone():
        assert await timed(engine.get_session("s1")) < TIMEOUT + 1
        assert await timed(engine.create_session(stream_session("s2"))) < 0.05
    assert await until_recovered(engine) < 5
    assert (await engine.get_session("s1")).session_id == "s1"


async def test_a_poll_that_timed_out_in_a_stall_hands_out_nothing(engine: RedisEventEngine, redis: OwnRedis) -> None:
    """Its take reaches Redis when the stall ends, after the poll gave up: it must not run then."""
    await engine.create_session(stream_session("s1"))
    for n in range(3):
        await engine.publish("org1", ["user:u1"], "test.Event", {"n": n})
    with redis.hung():
        await timed(engine.next_events("s1", 10, 0))
        await asyncio.sleep(TIMEOUT)  # the stall outlasts the deadline the take carried
    await until_recovered(engine)
    assert texts(await engine.next_events("s1", 10, 0)) == [(1, 0), (2, 1), (3, 2)]


async def test_an_event_published_during_a_stall_is_delivered_once_and_in_order(
    engine: RedisEventEngine, redis: OwnRedis
) -> None:
    await engine.create_session(stream_session("s1"))
    await engine.publish("org1", ["user:u1"], "test.Event", {"n": 0})
    with redis.hung():
        start = time.monotonic()
        for n in (1, 2):  # the first waits out the bound; the second is held at once
            await engine.publish("org1", ["user:u1"], "test.Event", {"n": n})
        assert time.monotonic() - start < TIMEOUT + 1
        await asyncio.sleep(TIMEOUT)
    await until_recovered(engine)
    await engine.publish("org1", ["user:u1"], "test.Event", {"n": 3})
    assert texts(await engine.next_events("s1", 10, 0)) == [(1, 0), (2, 1), (3, 2), (4, 3)]
