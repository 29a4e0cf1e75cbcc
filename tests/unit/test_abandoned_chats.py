"""Chats nobody is there for: a customer gone from a waiting or active chat, and the queue timeout."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from parley.domain.interactions import InteractionState
from parley.service.ports import StreamSession
from parley.service.streaming import CONTACT_INACTIVITY
from tests.clock import FakeClock
from tests.unit.world import Contact, World, opened_world

DISCONNECTED = "engagementCenter.Disconnected"
TEXT = "messaging.Text"
QUEUE_TIMEOUT = 120.0
SORRY = "Nobody is free now; we will write to you by email."


async def pass_time(world: World, seconds: float, *polling: StreamSession) -> None:
    """Let ``seconds`` go by in steps, the given sessions polling in between (so they stay live)."""
    while seconds > 0:
        step = min(seconds, 1.0)
        for session in polling:
            await world.parley.engine.touch(session.session_id)  # a poll, leaving its events to read later
        await world.pass_time(step)
        seconds -= step


async def leave(world: World, contact: Contact) -> None:
    """The customer's page goes away: its streaming session ends."""
    await world.parley.streaming.close(contact.session)


async def state_of(world: World, contact: Contact) -> InteractionState:
    return (await world.interaction(contact.interaction.interaction_id)).state


async def test_a_queued_chat_whose_customer_left_ends_after_the_inactivity_delay(world: World) -> None:
    contact = await world.chat()
    await leave(world, contact)
    await pass_time(world, CONTACT_INACTIVITY - 5)
    assert await state_of(world, contact) is InteractionState.QUEUED
    await pass_time(world, 10)
    ended = await world.interaction(contact.interaction.interaction_id)
    assert (ended.state, ended.ended_by, ended.end_reason) == (InteractionState.ENDED, "Contact", "contactLeft")


async def test_a_customer_whose_session_expired_is_gone_as_well(world: World) -> None:
    contact = await world.chat()  # and never polls again
    await pass_time(world, 2 * CONTACT_INACTIVITY + 10)
    assert await state_of(world, contact) is InteractionState.ENDED


async def test_a_customer_back_within_the_delay_keeps_the_waiting_chat(world: World) -> None:
    contact = await world.chat()
    await leave(world, contact)
    await pass_time(world, CONTACT_INACTIVITY - 20)
    page = await world.parley.streaming.open_for_contact(world.org_id, contact.contact_id)  # a reload
    await pass_time(world, CONTACT_INACTIVITY * 3, page)
    assert await state_of(world, contact) is InteractionState.QUEUED


@pytest.fixture
async def patient_world(clock: FakeClock) -> AsyncIterator[World]:
    """Offers wait longer than a customer's absence takes to count."""
    async with opened_world(clock, offer_timeout_seconds=10 * CONTACT_INACTIVITY) as w:
        yield w


async def test_an_offered_chat_whose_customer_left_is_withdrawn_from_the_agent(patient_world: World) -> None:
    world = patient_world
    agent = await world.user("Ada")
    desk = await world.session(agent)
    await world.ready(agent)
    contact = await world.chat()
    assert (await world.offer_of(desk))["interactionId"] == contact.interaction.interaction_id
    await leave(world, contact)
    await pass_time(world, CONTACT_INACTIVITY + 5, desk)
    [gone] = [e.payload for e in await world.events(desk) if e.event_type == DISCONNECTED]
    assert gone == {
        "interactionId": contact.interaction.interaction_id,
        "disconnectedBy": "Contact",
        "reason": "contactLeft",
    }
    assert world.parley.engagement.availability(world.org_id, agent.user_id).handling == 0


async def test_an_active_chat_tells_its_agent_once_that_the_customer_left_and_stays_open(world: World) -> None:
    agent = await world.user("Ada")
    interaction_id, desk, contact = await world.handled_chat(agent)
    await leave(world, contact)
    await pass_time(world, CONTACT_INACTIVITY * 3, desk)
    told = [e.payload for e in await world.events(desk) if e.event_type == TEXT]
    assert [(t["entityType"], t["entityName"]) for t in told] == [("System", "System")]
    assert "Carol left the chat" in told[0]["text"]
    assert "userId" not in told[0]
    assert await state_of(world, contact) is InteractionState.ACTIVE
    transcript = await world.parley.messaging.transcript(world.org_id, interaction_id)
    assert [m.body for m in transcript[1]] == [told[0]["text"]]

    page = await world.parley.streaming.open_for_contact(world.org_id, contact.contact_id)
    await pass_time(world, 5, desk, page)
    back = [e.payload["text"] for e in await world.events(desk) if e.event_type == TEXT]
    assert back == ["Carol is back"]
    assert [e.event_type for e in await world.events(page)] == []  # the customer is not told either


@pytest.fixture
async def queue_world(clock: FakeClock) -> AsyncIterator[World]:
    async with opened_world(clock, queue_timeout_seconds=QUEUE_TIMEOUT, queue_timeout_message=SORRY) as w:
        yield w


async def test_a_chat_waiting_past_the_queue_timeout_ends_with_the_configured_message(queue_world: World) -> None:
    world = queue_world
    contact = await world.chat()
    await pass_time(world, QUEUE_TIMEOUT - 5, contact.session)
    assert await state_of(world, contact) is InteractionState.QUEUED
    await world.events(contact.session)
    await pass_time(world, 10, contact.session)
    seen = [(e.event_type, e.payload) for e in await world.events(contact.session)]
    assert [kind for kind, _ in seen] == [TEXT, DISCONNECTED]
    assert (seen[0][1]["entityType"], seen[0][1]["text"]) == ("System", SORRY)
    assert (seen[1][1]["disconnectedBy"], seen[1][1]["reason"]) == ("System", "queueTimeout")


async def test_the_queue_timeout_also_ends_a_chat_still_offered(clock: FakeClock) -> None:
    async with opened_world(clock, queue_timeout_seconds=QUEUE_TIMEOUT, offer_timeout_seconds=1000) as world:
        agent = await world.user("Ada")
        desk = await world.session(agent)
        await world.ready(agent)
        contact = await world.chat()
        await world.offer_of(desk)
        await pass_time(world, QUEUE_TIMEOUT + 5, desk, contact.session)
        assert DISCONNECTED in await world.kinds(desk)
        assert await state_of(world, contact) is InteractionState.ENDED


async def test_an_accepted_chat_is_not_ended_by_the_queue_timeout(queue_world: World) -> None:
    agent = await queue_world.user("Ada")
    _, desk, contact = await queue_world.handled_chat(agent)
    await pass_time(queue_world, QUEUE_TIMEOUT * 2, desk, contact.session)
    assert await state_of(queue_world, contact) is InteractionState.ACTIVE


async def test_without_a_queue_timeout_a_chat_may_wait_for_an_hour(world: World) -> None:
    contact = await world.chat()
    await pass_time(world, 3600, contact.session)
    assert await state_of(world, contact) is InteractionState.QUEUED
