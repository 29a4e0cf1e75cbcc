"""Several server instances sharing sessions through one Redis (contract section 4)."""

from __future__ import annotations

import asyncio
import time

import pytest

from parley.domain.interactions import EntityType
from parley.domain.typing import Typist
from parley.service.ports import Envelope, SessionDropped
from tests.clock import FakeClock
from tests.integration.bus.bus_helpers import MakeEngine, stream_session

# The engines ``make_engine`` builds in one test share one key prefix: they are instances of one deployment.
pytestmark = [pytest.mark.redis, pytest.mark.parametrize("make_engine", ["redis"], indirect=True)]


async def test_an_event_published_on_one_instance_wakes_a_poll_on_another(
    make_engine: MakeEngine,
) -> None:
    a, b = await make_engine(), await make_engine()
    await a.create_session(stream_session("s1"))
    poll = asyncio.create_task(b.next_events("s1", 10, 5))
    await asyncio.sleep(0.05)
    assert not poll.done()
    started = time.monotonic()
    await a.publish("org1", ["user:u1"], "messaging.Text", {"n": 1})
    [event] = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 0.5
    assert isinstance(event, Envelope)
    assert (event.sequence_number, event.payload) == (1, {"n": 1})


async def test_a_session_created_on_one_instance_is_served_by_another(
    make_engine: MakeEngine,
) -> None:
    a, b = await make_engine(), await make_engine()
    session = stream_session("s1", ack=True)
    await a.create_session(session)
    assert await b.get_session("s1") == session
    await b.publish("org1", ["user:u1"], "messaging.Text", {"n": 1})
    await a.publish("org1", ["user:u1"], "messaging.Text", {"n": 2})
    assert len(await b.next_events("s1", 10, 0)) == 2
    await a.acknowledge("s1", 1)
    [event] = await b.next_events("s1", 10, 0)
    assert isinstance(event, Envelope)
    assert event.sequence_number == 2


async def test_a_session_outlives_the_instance_that_created_it(make_engine: MakeEngine) -> None:
    a = await make_engine()
    await a.create_session(stream_session("s1"))
    await a.publish("org1", ["user:u1"], "messaging.Text", {"n": 1})
    await a.close()
    b = await make_engine()
    assert len(await b.next_events("s1", 10, 0)) == 1


async def test_deleting_on_one_instance_ends_a_poll_on_another(make_engine: MakeEngine) -> None:
    a, b = await make_engine(), await make_engine()
    await a.create_session(stream_session("s1"))
    poll = asyncio.create_task(b.next_events("s1", 10, 5))
    await asyncio.sleep(0.05)
    await a.delete_session("s1")
    with pytest.raises(SessionDropped, match="session deleted"):
        await asyncio.wait_for(poll, 2)


async def test_only_one_instance_reports_a_swept_session(make_engine: MakeEngine, clock: FakeClock) -> None:
    a, b = await make_engine(), await make_engine()
    session = stream_session("s1", delay=10)
    await a.create_session(session)
    clock.advance(11)
    swept = await asyncio.gather(a.sweep(), b.sweep())
    assert sorted(swept, key=len) == [[], [session]]


async def test_typing_state_is_shared(make_engine: MakeEngine) -> None:
    a, b = await make_engine(), await make_engine()
    meta = Typist("org1", EntityType.AGENT, "Alice", "u1")
    assert await a.typing_composing(("i1", "u1"), 10, 100.0, meta)
    assert not await b.typing_composing(("i1", "u1"), 10, 100.5, meta)
    expired = await asyncio.gather(a.typing_expire(111.0), b.typing_expire(111.0))
    assert sorted(expired, key=len) == [[], [(("i1", "u1"), meta)]]
