"""The engine is chosen by the URL's scheme."""

from __future__ import annotations

import pytest

from parley.adapters.bus import open_event_engine
from parley.adapters.bus.memory import MemoryEventEngine
from parley.adapters.bus.redis import RedisEventEngine
from tests.clock import FakeClock


async def test_the_url_scheme_picks_the_engine() -> None:
    memory = open_event_engine("memory://", FakeClock(), queue_limit=5)
    assert isinstance(memory, MemoryEventEngine)
    assert memory.queue_limit == 5
    shared = open_event_engine("redis://127.0.0.1:6379/0", FakeClock())
    assert isinstance(shared, RedisEventEngine)
    await shared.close()
    with pytest.raises(ValueError, match="unsupported event engine URL"):
        open_event_engine("kafka://localhost", FakeClock())
