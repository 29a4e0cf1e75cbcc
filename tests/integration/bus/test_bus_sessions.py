"""Session lifetime: lookup, the queue bound, inactivity sweeps, deletion (contract section 4)."""

from __future__ import annotations

import asyncio

import pytest

from parley.service.ports import EventEngine, SessionDropped
from tests.clock import FakeClock
from tests.integration.bus.bus_helpers import MakeEngine, stream_session


async def publish_n(engine: EventEngine, count: int) -> None:
    for n in range(count):
        await engine.publish("org1", ["user:u1"], "messaging.Text", {"n": n})


async def test_a_created_session_is_found_by_id_and_owner(engine: EventEngine) -> None:
    session = stream_session("s1", ack=True, delay=30)
    await engine.create_session(session)
    await engine.create_session(stream_session("s2"))
    await engine.create_session(stream_session("s3", owner="contact:c1"))
    assert await engine.get_session("s1") == session
    assert sorted(await engine.sessions_of("org1", "user:u1")) == ["s1", "s2"]
    assert await engine.sessions_of("org2", "user:u1") == []


async def test_an_unknown_session_is_refused_everywhere(engine: EventEngine) -> None:
    for call in (
        engine.get_session("nope"),
        engine.touch("nope"),
        engine.next_events("nope", 1, 0),
        engine.acknowledge("nope", 1),
    ):
        with pytest.raises(SessionDropped, match="unknown session"):
            await call
    assert await engine.delete_session("nope") is None


async def test_a_session_that_falls_behind_is_dropped_with_the_reason(make_engine: MakeEngine) -> None:
    engine = await make_engine(queue_limit=3)
    await engine.create_session(stream_session("slow"))
    await engine.create_session(stream_session("fast"))
    await publish_n(engine, 3)
    assert len(await engine.next_events("fast", 10, 0)) == 3
    await publish_n(engine, 1)
    with pytest.raises(SessionDropped, match="fell more than 3 events behind; re-read transcripts"):
        await engine.next_events("slow", 10, 0)
    assert await engine.sessions_of("org1", "user:u1") == ["fast"]
    assert len(await engine.next_events("fast", 10, 0)) == 1


async def test_unacknowledged_events_count_toward_the_bound(make_engine: MakeEngine) -> None:
    engine = await make_engine(queue_limit=2)
    await engine.create_session(stream_session("s1", ack=True))
    await publish_n(engine, 2)
    await engine.next_events("s1", 10, 0)
    poll = asyncio.create_task(engine.next_events("s1", 10, 5, after=2))
    await asyncio.sleep(0.05)
    await publish_n(engine, 1)
    with pytest.raises(SessionDropped, match="fell more than 2 events behind"):
        await asyncio.wait_for(poll, 2)
    with pytest.raises(SessionDropped, match="fell more than 2 events behind"):
        await engine.get_session("s1")


async def test_an_idle_session_is_swept_after_its_inactivity_delay(engine: EventEngine, clock: FakeClock) -> None:
    session = stream_session("s1", delay=10)
    await engine.create_session(session)
    clock.advance(5)
    await engine.touch("s1")
    clock.advance(8)
    await engine.next_events("s1", 1, 0)
    clock.advance(10)
    assert await engine.sweep() == []
    clock.advance(1)
    assert await engine.sweep() == [session]
    assert await engine.sweep() == []
    with pytest.raises(SessionDropped, match="session expired after 10 s without a poll"):
        await engine.get_session("s1")
    assert await engine.sessions_of("org1", "user:u1") == []


async def test_an_expired_session_refuses_polls_before_the_sweep(engine: EventEngine, clock: FakeClock) -> None:
    session = stream_session("s1", delay=10)
    await engine.create_session(session)
    clock.advance(11)
    with pytest.raises(SessionDropped, match="expired after 10 s"):
        await engine.next_events("s1", 1, 0)
    assert await engine.sweep() == [session]


async def test_a_waiting_poll_keeps_its_session_alive(engine: EventEngine, clock: FakeClock) -> None:
    await engine.create_session(stream_session("s1", delay=10))
    poll = asyncio.create_task(engine.next_events("s1", 10, 3))
    await asyncio.sleep(0.05)
    clock.advance(11)
    assert await engine.sweep() == []
    await publish_n(engine, 1)
    assert len(await asyncio.wait_for(poll, 2)) == 1


async def test_deleting_a_session_wakes_its_waiting_poll(engine: EventEngine) -> None:
    session = stream_session("s1")
    await engine.create_session(session)
    poll = asyncio.create_task(engine.next_events("s1", 10, 5))
    await asyncio.sleep(0.05)
    assert await engine.delete_session("s1") == session
    with pytest.raises(SessionDropped, match="session deleted"):
        await asyncio.wait_for(poll, 2)
    assert await engine.delete_session("s1") is None
    with pytest.raises(SessionDropped, match="session deleted"):
        await engine.get_session("s1")
    await publish_n(engine, 1)


async def test_closing_the_engine_ends_waiting_polls_empty(make_engine: MakeEngine) -> None:
    engine = await make_engine()
    await engine.create_session(stream_session("s1"))
    poll = asyncio.create_task(engine.next_events("s1", 10, 5))
    await asyncio.sleep(0.05)
    await engine.close()
    assert await asyncio.wait_for(poll, 2) == []


async def test_a_cancelled_poll_stops_keeping_its_session_alive(engine: EventEngine, clock: FakeClock) -> None:
    session = stream_session("s1", delay=10)
    await engine.create_session(session)
    poll = asyncio.create_task(engine.next_events("s1", 10, 2))
    await asyncio.sleep(0.05)
    poll.cancel()
    with pytest.raises(asyncio.CancelledError):
        await poll
    clock.advance(13)
    assert await engine.sweep() == [session]


async def test_a_session_opened_later_with_a_shorter_delay_is_swept_on_its_own_time(
    engine: EventEngine, clock: FakeClock
) -> None:
    await engine.create_session(stream_session("long", delay=60))
    assert await engine.sweep() == []
    clock.advance(5)
    short = stream_session("short", delay=10)
    await engine.create_session(short)
    clock.advance(11)
    assert await engine.sweep() == [short]


async def test_a_session_is_swept_its_delay_after_its_last_poll_ended(engine: EventEngine, clock: FakeClock) -> None:
    session = stream_session("s1", delay=10)
    await engine.create_session(session)
    poll = asyncio.create_task(engine.next_events("s1", 10, 3))
    await asyncio.sleep(0.05)
    clock.advance(9)
    assert await engine.sweep() == []
    clock.advance(2)
    assert await engine.sweep() == []  # waiting: it cannot expire now
    await publish_n(engine, 1)
    assert len(await asyncio.wait_for(poll, 2)) == 1
    clock.advance(10)
    assert await engine.sweep() == []
    clock.advance(1)
    assert await engine.sweep() == [session]
