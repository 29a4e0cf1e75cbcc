"""The SDK against a real server: a customer and an agent hold a whole conversation."""

from __future__ import annotations

import asyncio

import pytest

from parley_client import (
    ActiveEvent,
    AsyncClient,
    AsyncEventStream,
    AsyncWebChatClient,
    BadRequest,
    DisconnectedEvent,
    Gone,
    InvalidSession,
    NotFound,
    NotificationEvent,
    OfferedEvent,
    StreamMode,
    TextEvent,
    Unauthorized,
    Unprocessable,
    UrlEvent,
)
from tests.sdk.conftest import Org
from tests.sdk.waiting import next_of, next_of_sync


@pytest.mark.parametrize("mode", ["poll", "sse", "websocket"])
async def test_a_customer_and_an_agent_hold_a_whole_conversation(org: Org, mode: StreamMode) -> None:
    ada = org.user("Ada")
    async with org.async_client(entity_name="Ada") as agent, org.async_customer() as carla:
        await agent.start_session(ada.user_id)
        await agent.ready()
        interaction = await carla.start_chat("Carla", contact_email="carla@example.com")
        agent_events = agent.events(mode=mode, poll_timeout=2)
        carla_events = carla.events(mode=mode, poll_timeout=2)

        offer = await next_of(agent_events, OfferedEvent)
        assert (offer.payload.interaction_id, offer.payload.contact_name) == (interaction, "Carla")
        await agent.accept(interaction, offer.payload.ehub_session_id)
        assert (await next_of(agent_events, ActiveEvent)).payload.user_id == ada.user_id
        assert (await next_of(carla_events, ActiveEvent)).payload.entity_name == "Ada"

        await agent.notify_typing(interaction, expires=5)
        composing = await next_of(carla_events, NotificationEvent, state="composing")
        assert (composing.payload.entity_name, composing.payload.expires_after_seconds) == ("Ada", 5)
        message_id = await agent.send_text(interaction, "Hello Carla, how can I help?")
        text = await next_of(carla_events, TextEvent)
        assert (text.payload.message_id, text.payload.text) == (message_id, "Hello Carla, how can I help?")
        assert (text.payload.entity_type, text.payload.user_id) == ("Agent", ada.user_id)
        await next_of(carla_events, NotificationEvent, state="idle")
        assert (await next_of(agent_events, TextEvent)).payload.message_id == message_id  # the sender's echo

        await carla.notify_typing(expires=3)
        assert (await next_of(agent_events, NotificationEvent, state="composing")).payload.entity_type == "Contact"
        await carla.send_text("My order is late")
        got = await next_of(agent_events, TextEvent, entity_type="Contact")
        assert (got.payload.text, got.payload.entity_name, got.payload.user_id) == ("My order is late", "Carla", None)
        await carla.send_url("https://shop.example/orders/42")
        assert (await next_of(agent_events, UrlEvent)).payload.url == "https://shop.example/orders/42"
        await agent.send_url(interaction, "https://help.example/late")
        assert (await next_of(carla_events, UrlEvent, entity_type="Agent")).payload.entity_name == "Ada"

        transcript = await agent.transcript(interaction)
        assert [(m.entity_type, m.text or m.url) for m in transcript.messages] == [
            ("Agent", "Hello Carla, how can I help?"),
            ("Contact", "My order is late"),
            ("Contact", "https://shop.example/orders/42"),
            ("Agent", "https://help.example/late"),
        ]

        await carla.disconnect()
        ended = await next_of(agent_events, DisconnectedEvent)
        assert (ended.payload.interaction_id, ended.payload.disconnected_by) == (interaction, "Contact")
        with pytest.raises(Gone) as caught:
            await agent.send_text(interaction, "still there?")
        assert caught.value.reason == "interactionEnded" and caught.value.request_id

        await agent_events.aclose()
        await carla_events.aclose()
        await agent.end_session()
        assert agent.session is None


def test_the_blocking_clients_hold_a_conversation_too(org: Org) -> None:
    sam = org.user("Sam")
    with org.client(entity_name="Sam") as agent, org.web_chat() as dora:
        agent.start_session(sam.user_id, require_acknowledgement=True)
        agent.ready(max_concurrent=2)
        interaction = dora.start_chat("Dora")
        agent_events = agent.events(poll_timeout=2)
        carla_events = dora.events(mode="sse")
        offer = next_of_sync(agent_events, OfferedEvent)
        agent.accept(interaction, offer.payload.ehub_session_id)
        next_of_sync(carla_events, ActiveEvent)
        with agent.typing(interaction, expires=2) as typing:
            next_of_sync(carla_events, NotificationEvent, state="composing")
        assert typing.error is None
        agent.send_text(interaction, "Hi Dora")
        assert next_of_sync(carla_events, TextEvent).payload.text == "Hi Dora"
        dora.send_text("Thanks!")
        assert next_of_sync(agent_events, TextEvent, entity_type="Contact").payload.text == "Thanks!"
        agent.disconnect(interaction)
        assert next_of_sync(carla_events, DisconnectedEvent).payload.disconnected_by == "Agent"
        agent_events.close()
        carla_events.close()


async def chat_accepted(agent: AsyncClient, user_id: str, carla: AsyncWebChatClient) -> tuple[str, AsyncEventStream]:
    """Carla's chat, accepted by ``agent`` as ``user_id``; the interaction id and the agent's events."""
    await agent.start_session(user_id)
    await agent.ready()
    interaction = await carla.start_chat("Carla")
    agent_events = agent.events(poll_timeout=2)
    offer = await next_of(agent_events, OfferedEvent)
    await agent.accept(interaction, offer.payload.ehub_session_id)
    return interaction, agent_events


async def test_the_typing_heartbeat_keeps_composing_alive_until_the_block_ends(org: Org) -> None:
    ada = org.user("Ada")
    async with org.async_client(entity_name="Ada") as agent, org.async_customer() as carla:
        interaction, agent_events = await chat_accepted(agent, ada.user_id, carla)
        carla_events = carla.events(poll_timeout=2)
        await next_of(carla_events, ActiveEvent)

        async with agent.typing(interaction, expires=1) as typing:
            await next_of(carla_events, NotificationEvent, state="composing")
            # Without the heartbeat the server would say idle after 1 s.
            with pytest.raises(TimeoutError):
                await next_of(carla_events, NotificationEvent, timeout=2.2, state="idle")
            beating = typing.running  # read once: the heartbeat is still going
            assert beating
        await next_of(carla_events, NotificationEvent, timeout=3, state="idle")
        assert not typing.running and typing.error is None
        await asyncio.gather(agent_events.aclose(), carla_events.aclose())


async def test_the_server_refusals_arrive_as_the_error_tree(org: Org) -> None:
    ada = org.user("Ada")
    async with org.async_client() as agent, org.async_customer() as carla:
        await agent.start_session(ada.user_id)
        interaction = await carla.start_chat("Carla")
        with pytest.raises(Unprocessable) as not_active:
            await carla.send_text("anyone?")
        assert not_active.value.reason == "notActive"
        with pytest.raises(BadRequest) as blank:
            await agent.send_text(interaction, "   ")
        assert [e.scope for e in blank.value.errors] == ["text"] and blank.value.request_id
        with pytest.raises(NotFound):
            await agent.transcript("int_missing")
        preview = await agent.sms_preview("Grüße ☺")
        assert (preview.encoding, preview.segments, preview.characters_forcing_ucs2) == ("UCS-2", 1, ["☺"])
        agent.session_id = "ses_missing"
        with pytest.raises(InvalidSession):
            await agent.ready()
    async with org.async_client(api_key="pak_wrong") as stranger:
        with pytest.raises(Unauthorized) as refused:
            await stranger.find_users()
        assert refused.value.reason == "invalidApiKey"


def test_a_renewed_web_token_carries_on_the_chat_and_a_new_one_is_someone_else(org: Org) -> None:
    sam = org.user("Sam")
    with org.client(entity_name="Sam") as agent, org.web_chat() as dora:
        agent.start_session(sam.user_id)
        agent.ready()
        interaction = dora.start_chat("Dora")
        agent_events = agent.events(poll_timeout=2)
        agent.accept(interaction, next_of_sync(agent_events, OfferedEvent).payload.ehub_session_id)

        first = dora.web_token
        renewed = dora.renew_web_token()
        assert dora.web_token == renewed.token_id != first
        dora.send_text("same Dora")
        assert next_of_sync(agent_events, TextEvent, entity_type="Contact").payload.text == "same Dora"

        dora.get_web_token()  # a new identity: the chat is not this customer's
        assert dora.session is None and dora.interaction_id is None
        dora.start_session()
        with pytest.raises(NotFound):
            dora.send_text("who am I?", interaction_id=interaction)
        agent_events.close()


def test_there_is_no_web_token_to_renew_before_the_first(org: Org) -> None:
    with org.web_chat() as dora, pytest.raises(ValueError, match="no web token"):
        dora.renew_web_token()


async def test_a_typing_heartbeat_for_a_chat_that_ended_keeps_the_error_instead_of_raising(org: Org) -> None:
    ada = org.user("Ada")
    async with org.async_client(entity_name="Ada") as agent, org.async_customer() as carla:
        interaction, agent_events = await chat_accepted(agent, ada.user_id, carla)
        await carla.disconnect()
        await next_of(agent_events, DisconnectedEvent)

        async with agent.typing(interaction) as typing:
            pass
        assert isinstance(typing.error, Gone) and not typing.running
        with org.client() as blocking:
            blocking.start_session(ada.user_id)
            with blocking.typing(interaction) as blocking_typing:
                pass
            assert isinstance(blocking_typing.error, Gone)
        await agent_events.aclose()


def test_a_customer_reads_the_transcript_of_their_own_chat_without_whispers(org: Org) -> None:
    sam, sue = org.user("Sam"), org.user("Sue", roles=["agent", "supervisor"])
    with org.client(entity_name="Sam") as agent, org.client() as supervisor, org.web_chat() as dora:
        agent.start_session(sam.user_id)
        agent.ready()
        interaction = dora.start_chat("Dora")
        with agent.events(poll_timeout=2) as agent_events:
            agent.accept(interaction, next_of_sync(agent_events, OfferedEvent).payload.ehub_session_id)
        supervisor.start_session(sue.user_id)
        supervisor.monitor(interaction)
        first = agent.send_text(interaction, "Hello Dora")
        supervisor.send_text(interaction, "psst, offer a voucher", entity_type="Monitor")
        second = dora.send_text("Hi Sam")
        transcript = dora.transcript()
        assert [(m.message_id, m.text) for m in transcript.messages] == [(first, "Hello Dora"), (second, "Hi Sam")]
        with org.web_chat() as stranger:
            stranger.start_chat("Eve")
            with pytest.raises(NotFound):
                stranger.transcript(interaction_id=interaction)
