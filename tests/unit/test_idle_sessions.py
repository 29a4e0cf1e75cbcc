"""Idle sessions cost nothing: the timers' sweep looks at none of them until one can expire."""

from __future__ import annotations

import time

from parley.adapters.bus.memory import MemoryEventEngine
from parley.clock import FakeClock
from parley.service.ports import StreamSession

SESSIONS = 20_000
SWEEPS = 1_000  # a hundred seconds of the timers' ticks


async def test_sweeping_many_idle_sessions_before_any_can_expire_takes_no_time() -> None:
    clock = FakeClock()
    engine = MemoryEventEngine(clock)
    for n in range(SESSIONS):
        await engine.create_session(StreamSession(f"ses_{n}", "org1", f"user:u{n}", clock.now(), 600, False))
    assert await engine.sweep() == []
    started = time.process_time()
    for _ in range(SWEEPS):
        clock.advance(0.1)
        assert await engine.sweep() == []
    # Looking at every session on every sweep takes seconds here (twenty million checks).
    assert time.process_time() - started < 0.1
    clock.advance(600)
    assert len(await engine.sweep()) == SESSIONS
