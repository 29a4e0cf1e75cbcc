"""Many sessions, cheaply: idle ones cost nothing (the timers' sweep looks at none of them until
one can expire), and a burst of events for one session costs it one answer."""

from __future__ import annotations

import asyncio
import time

from parley.adapters.bus.memory import MemoryEventEngine
from parley.service.ports import Reset, StreamSession
from tests.clock import FakeClock

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


async def test_a_burst_published_while_a_poll_waits_is_one_answer_with_all_of_it() -> None:
    # The messages of one group commit are published in one turn of the loop: the poll they
    # wake runs after the whole burst and takes all of it.
    engine = MemoryEventEngine(FakeClock())
    await engine.create_session(StreamSession("ses_1", "org1", "user:u1", 0.0, 60, False))
    poll = asyncio.create_task(engine.next_events("ses_1", 100, 5))
    await asyncio.sleep(0.01)
    for n in range(5):
        await engine.publish("org1", ["user:u1"], "messaging.Text", {"n": n})
    batch = await asyncio.wait_for(poll, 2)
    assert [e.payload["n"] for e in batch if not isinstance(e, Reset)] == [0, 1, 2, 3, 4]
