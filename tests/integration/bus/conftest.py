"""Every event engine runs the same contract tests; Redis ones share a prefix per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from parley.adapters.bus.memory import MemoryEventEngine
from parley.adapters.bus.redis import RedisEventEngine
from parley.service.ports import EventEngine
from tests.clock import FakeClock
from tests.integration.bus.bus_helpers import REDIS_URL, MakeEngine, delete_prefix


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def make_engine(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[MakeEngine]:
    """Builds engines; on Redis, every engine of one test shares a fresh key prefix."""
    engines: list[EventEngine] = []
    prefix = f"parley-test:{uuid.uuid4().hex}:"

    async def make(queue_limit: int = 10_000, retain_delivered: int = 1000) -> EventEngine:
        engine: EventEngine
        if request.param == "memory":
            engine = MemoryEventEngine(clock, queue_limit, retain_delivered)
        else:
            engine = RedisEventEngine(REDIS_URL, clock, queue_limit, retain_delivered, prefix=prefix)
        await engine.start()
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        await engine.close()
    if request.param == "redis":
        await delete_prefix(prefix)


@pytest.fixture
async def engine(make_engine: MakeEngine) -> EventEngine:
    return await make_engine()
