"""Ordering, waking, acknowledgement and resume (contract section 4)."""

from __future__ import annotations

import asyncio
import time

from parley.clock import iso
from parley.service.ports import Envelope, EventEngine, Reset
from tests.clock import FakeClock
from tests.integration.bus.bus_helpers import MakeEngine, stream_session


def seqs(batch: list[Envelope | Reset]) -> list[int]:
    return [e.sequence_number for e in batch if isinstance(e, Envelope)]


def numbers(batch: list[Envelope | Reset]) -> list[int]:
    return [e.payload["n"] for e in batch if isinstance(e, Envelope)]


async def publish_n(engine: EventEngine, count: int, owners: tuple[str, ...] = ("user:u1",)) -> None:
    for n in range(1, count + 1):
        await engine.publish("org1", owners, "messaging.Text", {"n": n})


async def test_events_reach_every_session_of_every_owner_in_order_with_gapless_numbers(
    engine: EventEngine,
) -> None:
    for sid, owner in [("a1", "user:a"), ("a2", "user:a"), ("b1", "user:b"), ("c1", "user:c")]:
        await engine.create_session(stream_session(sid, owner))
    await engine.create_session(stream_session("other-org", "user:a", org_id="org2"))
    for n in range(1, 7):
        owners = ["user:a"] if n % 2 else ["user:b", "user:a"]
        await engine.publish("org1", owners, "messaging.Text", {"n": n})

    for sid in ("a1", "a2"):
        batch = await engine.next_events(sid, 100, 0)
        assert seqs(batch) == [1, 2, 3, 4, 5, 6]
        assert numbers(batch) == [1, 2, 3, 4, 5, 6]
    b1 = await engine.next_events("b1", 100, 0)
    assert seqs(b1) == [1, 2, 3]
    assert numbers(b1) == [2, 4, 6]
    assert await engine.next_events("c1", 100, 0) == []
    assert await engine.next_events("other-org", 100, 0) == []


async def test_an_owner_named_twice_receives_one_copy(engine: EventEngine) -> None:
    await engine.create_session(stream_session("s1"))
    await engine.publish("org1", ["user:u1", "user:u1"], "messaging.Text", {"n": 1})
    assert seqs(await engine.next_events("s1", 10, 0)) == [1]


async def test_in_a_large_audience_each_owner_receives_one_copy(engine: EventEngine) -> None:
    await engine.create_session(stream_session("s1"))
    owners = [f"user:u{n % 7}" for n in range(30)]  # u1 named four or five times
    await engine.publish("org1", owners, "messaging.Text", {"n": 1})
    await engine.publish("org1", ["user:u1", "user:u2", "user:u1"], "messaging.Text", {"n": 2})
    assert seqs(await engine.next_events("s1", 10, 0)) == [1, 2]


async def test_envelope_carries_id_type_and_clock_time(engine: EventEngine, clock: FakeClock) -> None:
    await engine.create_session(stream_session("s1"))
    await engine.publish("org1", ["user:u1"], "messaging.Url", {"url": "https://example.org"})
    [event] = await engine.next_events("s1", 10, 0)
    assert isinstance(event, Envelope)
    assert event.event_id.startswith("evt_")
    assert len(event.event_id) == 36
    assert event.event_type == "messaging.Url"
    assert event.event_time == iso(clock.now())
    assert event.payload == {"url": "https://example.org"}


async def test_a_waiting_poll_returns_the_moment_an_event_arrives(engine: EventEngine) -> None:
    await engine.create_session(stream_session("s1"))
    poll = asyncio.create_task(engine.next_events("s1", 10, 5))
    await asyncio.sleep(0.05)
    assert not poll.done()
    started = time.monotonic()
    await publish_n(engine, 1)
    batch = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 0.5
    assert seqs(batch) == [1]


async def test_a_poll_with_nothing_to_deliver_times_out_empty(engine: EventEngine) -> None:
    await engine.create_session(stream_session("s1"))
    started = time.monotonic()
    assert await engine.next_events("s1", 10, 0.1) == []
    assert 0.09 <= time.monotonic() - started < 1


async def test_without_acknowledgement_each_event_is_handed_out_once(engine: EventEngine) -> None:
    await engine.create_session(stream_session("s1"))
    await publish_n(engine, 5)
    assert seqs(await engine.next_events("s1", 2, 0)) == [1, 2]
    assert seqs(await engine.next_events("s1", 2, 0)) == [3, 4]
    assert seqs(await engine.next_events("s1", 2, 0)) == [5]
    assert await engine.next_events("s1", 2, 0) == []


async def test_unacknowledged_events_are_handed_out_again(engine: EventEngine) -> None:
    await engine.create_session(stream_session("s1", ack=True))
    await publish_n(engine, 3)
    assert seqs(await engine.next_events("s1", 2, 0)) == [1, 2]
    assert seqs(await engine.next_events("s1", 10, 0)) == [1, 2, 3]
    await engine.acknowledge("s1", 2)
    assert seqs(await engine.next_events("s1", 10, 0)) == [3]
    await engine.acknowledge("s1", 3)
    assert await engine.next_events("s1", 10, 0) == []


async def test_acknowledgement_is_cumulative_and_clamped_to_what_was_handed_out(
    engine: EventEngine,
) -> None:
    await engine.create_session(stream_session("s1", ack=True))
    await publish_n(engine, 5)
    assert seqs(await engine.next_events("s1", 3, 0)) == [1, 2, 3]
    await engine.acknowledge("s1", 2)
    await engine.acknowledge("s1", 1)
    assert seqs(await engine.next_events("s1", 10, 0)) == [3, 4, 5]
    await publish_n(engine, 2)
    await engine.acknowledge("s1", 100)
    assert seqs(await engine.next_events("s1", 10, 0)) == [6, 7]


async def test_resume_replays_retained_events_after_n(engine: EventEngine) -> None:
    await engine.create_session(stream_session("s1"))
    await publish_n(engine, 5)
    assert seqs(await engine.next_events("s1", 10, 0)) == [1, 2, 3, 4, 5]
    assert seqs(await engine.next_events("s1", 10, 0, after=2)) == [3, 4, 5]
    assert seqs(await engine.next_events("s1", 2, 0, after=0)) == [1, 2]


async def test_resume_older_than_retained_starts_with_a_reset(make_engine: MakeEngine) -> None:
    engine = await make_engine(retain_delivered=2)
    await engine.create_session(stream_session("s1"))
    await publish_n(engine, 5)
    assert seqs(await engine.next_events("s1", 10, 0)) == [1, 2, 3, 4, 5]
    batch = await engine.next_events("s1", 10, 0, after=1)
    assert batch[0] == Reset(4)
    assert seqs(batch) == [4, 5]
    assert seqs(await engine.next_events("s1", 10, 0, after=3)) == [4, 5]
    assert (await engine.next_events("s1", 10, 0, after=3))[0] != Reset(4)


async def test_undelivered_events_are_retained_beyond_the_delivered_window(
    make_engine: MakeEngine,
) -> None:
    engine = await make_engine(retain_delivered=1)
    await engine.create_session(stream_session("s1"))
    await publish_n(engine, 5)
    assert seqs(await engine.next_events("s1", 2, 0)) == [1, 2]
    assert seqs(await engine.next_events("s1", 10, 0, after=0)) == [2, 3, 4, 5]
    assert (await engine.next_events("s1", 10, 0, after=0))[0] == Reset(5)


async def test_resume_with_acknowledgement_retains_only_unacknowledged_events(
    engine: EventEngine,
) -> None:
    await engine.create_session(stream_session("s1", ack=True))
    await publish_n(engine, 5)
    await engine.next_events("s1", 10, 0)
    await engine.acknowledge("s1", 3)
    batch = await engine.next_events("s1", 10, 0, after=1)
    assert batch[0] == Reset(4)
    assert seqs(batch) == [4, 5]
    assert seqs(await engine.next_events("s1", 10, 0, after=3)) == [4, 5]


async def test_resume_advances_the_delivered_cursor(engine: EventEngine) -> None:
    await engine.create_session(stream_session("s1"))
    await publish_n(engine, 3)
    assert seqs(await engine.next_events("s1", 10, 0, after=0)) == [1, 2, 3]
    assert await engine.next_events("s1", 10, 0) == []


async def test_resume_at_the_last_event_waits_for_the_next(engine: EventEngine) -> None:
    await engine.create_session(stream_session("s1"))
    await publish_n(engine, 2)
    poll = asyncio.create_task(engine.next_events("s1", 10, 5, after=2))
    await asyncio.sleep(0.05)
    assert not poll.done()
    await engine.publish("org1", ["user:u1"], "messaging.Text", {"n": 3})
    batch = await asyncio.wait_for(poll, 2)
    assert seqs(batch) == [3]
    assert numbers(batch) == [3]
