"""Against a real server: streams survive broken connections without losing or repeating events."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from parley_client import (
    ActiveEvent,
    AsyncClient,
    AsyncWebChatClient,
    OfferedEvent,
    ResetEvent,
    StreamMode,
    TextEvent,
)
from tests.sdk.conftest import Org
from tests.sdk.network import LosingTransport, Proxy
from tests.sdk.waiting import next_of


async def connected(org: Org, agent: AsyncClient, **session: Any) -> tuple[AsyncWebChatClient, str]:
    """A customer whose chat the agent accepted; the agent's session has seen Offered and Active."""
    user = org.user("Ada")
    await agent.start_session(user.user_id, **session)
    await agent.ready()
    carla = org.async_customer()
    interaction = await carla.start_chat("Carla")
    setup = agent.events(poll_timeout=2)
    offer = await next_of(setup, OfferedEvent)
    await agent.accept(interaction, offer.payload.ehub_session_id)
    await next_of(setup, ActiveEvent)
    await setup.aclose()
    return carla, interaction


async def texts_from(stream: Any, count: int, timeout: float = 10) -> list[TextEvent]:
    got: list[TextEvent] = []
    async with asyncio.timeout(timeout):
        async for event in stream:
            if isinstance(event, TextEvent) and event.payload.entity_type == "Contact":
                got.append(event)
                if len(got) == count:
                    return got
    raise AssertionError("the stream ended")


@pytest.mark.parametrize(("mode", "ack"), [("poll", True), ("sse", False), ("websocket", False), ("sse", True)])
async def test_a_cut_connection_is_resumed_without_loss_or_repeats(org: Org, mode: StreamMode, ack: bool) -> None:
    async with Proxy(org.server.base_url) as proxy, org.async_client(proxy.url) as agent:
        carla, _ = await connected(org, agent, require_acknowledgement=ack)
        stream = agent.events(mode=mode, poll_timeout=2)
        for n in range(1, 4):
            await carla.send_text(f"text {n}")
        first = await texts_from(stream, 3)
        proxy.cut()
        for n in range(4, 9):
            await carla.send_text(f"text {n}")
            if n == 5:
                proxy.cut()
        rest = await texts_from(stream, 5)
        await stream.aclose()
        await carla.aclose()
    assert [e.payload.text for e in first + rest] == [f"text {n}" for n in range(1, 9)]
    seqs = [e.sequence_number for e in first + rest]
    assert seqs == list(range(seqs[0], seqs[0] + 8))
    assert proxy.cuts >= 2


async def test_a_lost_long_poll_answer_is_asked_again_after_the_last_sequence_number(org: Org) -> None:
    polls: list[httpx.URL] = []

    def lose_the_first_answer_with_texts(request: httpx.Request) -> bool:
        if "/streaming/events" in request.url.path and armed:
            polls.append(request.url)
            return len(polls) == 1
        return False

    armed = False
    transport = LosingTransport(lose_the_first_answer_with_texts)
    async with org.async_client(transport=transport) as agent:
        carla, _ = await connected(org, agent)
        for n in range(1, 4):
            await carla.send_text(f"text {n}")
        armed = True
        stream = agent.events(max_events=2, poll_timeout=1)
        got = await texts_from(stream, 3)
        await stream.aclose()
        await carla.aclose()
    assert len(transport.lost) == 1
    assert [e.payload.text for e in got] == ["text 1", "text 2", "text 3"]
    # the same cursor again (?after=N), not a replay over Server-Sent Events
    assert all(url.path.endswith("/streaming/events") for url in polls)
    assert polls[0].params["after"] == polls[1].params["after"]


async def test_a_gap_in_long_polls_is_filled_from_what_the_server_retains(org: Org) -> None:
    async with org.async_client() as agent:
        carla, _ = await connected(org, agent)
        await carla.send_text("text 1")
        peek = await agent.poll(max_events=10, timeout=2)  # handed out, never shown to the stream
        assert [e.event_type for e in peek.events][-1] == "messaging.Text"
        stream = agent.events(poll_timeout=1, resume_after=peek.events[0].sequence_number - 1)
        await carla.send_text("text 2")
        got = await texts_from(stream, 2)
        await stream.aclose()
        await carla.aclose()
    assert [e.payload.text for e in got] == ["text 1", "text 2"]


async def test_auto_ack_acknowledges_what_was_taken_unless_handling_failed(org: Org) -> None:
    async with org.async_client() as agent:
        carla, _ = await connected(org, agent, require_acknowledgement=True)
        for n in range(1, 5):
            await carla.send_text(f"text {n}")
        async with agent.events(poll_timeout=1) as stream:
            first = await texts_from(stream, 2)
        failed: list[TextEvent] = []

        async def fail_to_handle_one() -> None:
            async with agent.events(poll_timeout=1) as stream:
                failed.extend(await texts_from(stream, 1))
                raise RuntimeError("handler failed")

        with pytest.raises(RuntimeError, match="handler failed"):
            await fail_to_handle_one()
        async with agent.events(mode="websocket") as stream:
            again = await texts_from(stream, 2)
        async with agent.events(poll_timeout=1) as stream:
            await carla.send_text("text 5")
            last = await texts_from(stream, 1)
        await carla.aclose()
    assert [e.payload.text for e in first] == ["text 1", "text 2"]
    assert [e.payload.text for e in failed] == ["text 3"]
    assert [e.payload.text for e in again] == ["text 3", "text 4"]
    assert [e.payload.text for e in last] == ["text 5"]


async def test_resuming_from_before_what_the_server_retains_starts_with_a_reset(org: Org) -> None:
    async with org.async_client() as agent:
        carla, _ = await connected(org, agent, require_acknowledgement=True)
        for n in range(1, 4):
            await carla.send_text(f"text {n}")
        stream = agent.events(poll_timeout=1)
        taken = await texts_from(stream, 3)
        await agent.acknowledge(taken[-1].sequence_number)
        await stream.aclose()
        await carla.send_text("text 4")
        replay = agent.events(mode="sse", resume_after=0)
        reset = await next_of(replay, ResetEvent, timeout=5)
        assert reset.payload.oldest_available == taken[-1].sequence_number + 1
        after = await texts_from(replay, 1)
        await replay.aclose()
        await carla.aclose()
    assert after[0].payload.text == "text 4"


async def test_a_send_whose_answer_was_lost_is_delivered_once(org: Org) -> None:
    transport = LosingTransport(lambda r: r.url.path.endswith("/sendText") and not transport.lost)
    async with org.async_client(transport=transport) as agent:
        carla, interaction = await connected(org, agent)
        message_id = await agent.send_text(interaction, "only once")
        transcript = await agent.transcript(interaction)
        await carla.aclose()
    assert len(transport.lost) == 1
    assert [(m.message_id, m.text) for m in transcript.messages] == [(message_id, "only once")]


@pytest.mark.parametrize("mode", ["poll", "websocket"])
async def test_a_rejected_token_is_replaced_over_http_and_websocket(org: Org, mode: StreamMode) -> None:
    async with org.async_client() as agent:
        carla, _ = await connected(org, agent)
        assert agent.credentials is not None
        agent.credentials._token = "forged"
        stream = agent.events(mode=mode, poll_timeout=1)
        await carla.send_text("hello")
        assert (await texts_from(stream, 1))[0].payload.text == "hello"
        assert agent.credentials.cached() not in (None, "forged")
        await stream.aclose()
        await carla.aclose()


async def test_a_lost_session_is_replaced_and_what_it_held_is_caught_up_from_the_transcript(org: Org) -> None:
    async with org.async_client() as agent:
        carla, interaction = await connected(org, agent)
        stream = agent.events(poll_timeout=1)
        await carla.send_text("text 1")
        first = await texts_from(stream, 1)
        lost = agent.session_id
        async with org.async_client() as other:  # the server forgets the session, as Redis without persistence
            other.session_id, other.user_id = lost, agent.user_id
            await other.end_session()
        await carla.send_text("text 2")  # held by no session of the agent
        await carla.send_text("text 3")
        caught_up = await texts_from(stream, 2)
        assert agent.session_id not in (None, lost)
        await carla.send_text("text 4")
        rest = await texts_from(stream, 1)
        await stream.aclose()
        await carla.aclose()
    texts = [e.payload.text for e in first + caught_up + rest]
    assert texts == ["text 1", "text 2", "text 3", "text 4"]
    assert {e.payload.interaction_id for e in caught_up} == {interaction}
    assert [e.sequence_number for e in caught_up] == [0, 0] and rest[0].sequence_number > 0
