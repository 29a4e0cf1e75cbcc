"""Every event engine runs the same contract tests; Redis ones share a prefix per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from bus_helpers import MakeEngine

from parley.adapters.bus.memory import MemoryEventEngine
from parley.clock import FakeClock
from parley.service.ports import EventEngine


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory"])
async def make_engine(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[MakeEngine]:
    engines: list[EventEngine] = []

    async def make(queue_limit: int = 10_000, retain_delivered: int = 1000) -> EventEngine:
        engine = MemoryEventEngine(clock, queue_limit, retain_delivered)
        await engine.start()
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        await engine.close()


@pytest.fixture
async def engine(make_engine: MakeEngine) -> EventEngine:
    return await make_engine()
