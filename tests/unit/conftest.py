from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from parley.clock import FakeClock
from tests.unit.world import World, build_parley


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def world(clock: FakeClock) -> AsyncIterator[World]:
    """A started Parley whose timers run only on ``tick()``, with one organization."""
    parley = build_parley(clock)
    await parley.start(run_timers=False)
    await parley.accounts.create_organization("acme")
    try:
        yield World(parley, clock)
    finally:
        await parley.stop()
