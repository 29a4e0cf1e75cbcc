"""Texts, URLs, whispers and server-owned typing through the messaging service (contract 3 and 5)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from parley.api.http import Response
from parley.api.idempotency import Claim, Idempotency, posted
from parley.clock import iso
from parley.domain.errors import Gone, RuleViolation
from parley.domain.interactions import CHAT_TEXT_LIMIT, EntityType, MessageKind
from parley.service.messaging import Post
from parley.service.ports import StreamSession
from tests.unit.world import Contact, World

TEXT = "messaging.Text"
URL = "messaging.Url"
NOTIFICATION = "messaging.Notification"
DISCONNECTED = "engagementCenter.Disconnected"


@dataclass
class Chat:
    world: World
    interaction_id: str
    ada_id: str
    sue_id: str
    ada_desks: tuple[StreamSession, StreamSession]
    sue_desk: StreamSession
    contact: Contact

    @property
    def everyone(self) -> list[StreamSession]:
        return [*self.ada_desks, self.sue_desk, self.contact.session]

    async def ada_says(
        self, text: str, kind: MessageKind = MessageKind.TEXT, as_: EntityType = EntityType.AGENT
    ) -> str:
        post = Post(self.interaction_id, kind, text, as_, "Ada")
        message = await self.world.parley.messaging.user_post(self.world.org_id, self.ada_id, post, None)
        return message.message_id

    async def sue_whispers(self, text: str) -> None:
        post = Post(self.interaction_id, MessageKind.TEXT, text, EntityType.MONITOR, "Sue")
        await self.world.parley.messaging.user_post(self.world.org_id, self.sue_id, post, None)

    async def carol_says(self, text: str) -> None:
        await self.world.parley.messaging.contact_post(
            self.world.org_id, self.contact.contact_id, self.interaction_id, MessageKind.TEXT, text, None
        )

    async def ada_types(self, expires_after: int = 10) -> None:
        await self.world.parley.messaging.user_typing(
            self.world.org_id, self.ada_id, self.interaction_id, EntityType.AGENT, "Ada", expires_after
        )

    async def sue_types(self) -> None:
        await self.world.parley.messaging.user_typing(
            self.world.org_id, self.sue_id, self.interaction_id, EntityType.MONITOR, "Sue", 10
        )

    async def carol_types(self, expires_after: int = 10) -> None:
        await self.world.parley.messaging.contact_typing(
            self.world.org_id, self.contact.contact_id, self.interaction_id, expires_after
        )

    async def seen_by_carol(self) -> list[tuple[str, str]]:
        """(event type, text or typing state) of what reached the contact."""
        return [
            (e.event_type, e.payload.get("text") or e.payload.get("url") or e.payload.get("state") or "")
            for e in await self.world.events(self.contact.session)
        ]

    async def drain(self) -> None:
        for session in self.everyone:
            await self.world.events(session)


@pytest.fixture
async def chat(world: World) -> Chat:
    """Ada (on two desks) has accepted Carol's chat; Sue monitors it."""
    ada, sue = await world.user("Ada"), await world.user("Sue", "supervisor")
    desks = (await world.session(ada), await world.session(ada))
    sue_desk = await world.session(sue)
    await world.ready(ada)
    contact = await world.chat()
    offer = await world.offer_of(desks[0])
    await world.parley.engagement.accept(ada, offer["interactionId"], offer["ehubSessionId"])
    await world.parley.engagement.monitor(sue, offer["interactionId"])
    c = Chat(world, offer["interactionId"], ada.user_id, sue.user_id, desks, sue_desk, contact)
    await c.drain()
    return c


async def test_a_text_reaches_every_participant_including_every_desk_of_its_sender(chat: Chat) -> None:
    message_id = await chat.ada_says("hello")
    for session in chat.everyone:
        [event] = await chat.world.events(session)
        assert event.event_type == TEXT
        assert (event.payload["messageId"], event.payload["text"], event.payload["userId"]) == (
            message_id,
            "hello",
            chat.ada_id,
        )


async def test_a_url_is_delivered_as_a_url_event(chat: Chat) -> None:
    await chat.ada_says("https://example.com/help", MessageKind.URL, EntityType.SYSTEM)
    [event] = await chat.world.events(chat.contact.session)
    assert (event.event_type, event.payload["url"], event.payload["entityType"]) == (
        URL,
        "https://example.com/help",
        "System",
    )


async def test_a_whisper_reaches_the_users_but_never_the_contact(chat: Chat) -> None:
    await chat.sue_whispers("offer the discount")
    for session in (*chat.ada_desks, chat.sue_desk):
        [event] = await chat.world.events(session)
        assert (event.event_type, event.payload["entityType"]) == (TEXT, "Monitor")
    assert await chat.world.events(chat.contact.session) == []


async def test_a_contact_text_reaches_the_users_and_echoes_to_the_contact(chat: Chat) -> None:
    await chat.carol_says("hi")
    for session in chat.everyone:
        [event] = await chat.world.events(session)
        assert event.payload["entityType"] == "Contact"
        assert "userId" not in event.payload


async def test_a_chat_text_longer_than_4096_characters_is_refused(chat: Chat) -> None:
    await chat.ada_says("x" * CHAT_TEXT_LIMIT)
    with pytest.raises(RuleViolation) as caught:
        await chat.ada_says("x" * (CHAT_TEXT_LIMIT + 1))
    assert caught.value.reason == "textTooLong"
    assert "4096" in caught.value.problems[0].message
    _, messages = await chat.world.parley.messaging.transcript(chat.world.org_id, chat.interaction_id)
    assert len(messages) == 1


async def test_composing_reaches_the_others_but_not_the_typist(chat: Chat) -> None:
    now = chat.world.clock.now()
    await chat.ada_types(expires_after=7)
    for desk in chat.ada_desks:
        assert await chat.world.events(desk) == []
    for session in (chat.sue_desk, chat.contact.session):
        [event] = await chat.world.events(session)
        assert event.event_type == NOTIFICATION
        assert event.payload == {
            "interactionId": chat.interaction_id,
            "entityName": "Ada",
            "entityType": "Agent",
            "userId": chat.ada_id,
            "state": "composing",
            "expiresAfterSeconds": 7,
            "expiresTime": iso(now + 7),
        }


async def test_a_renewal_within_a_second_is_absorbed_and_one_after_it_is_forwarded(chat: Chat) -> None:
    await chat.ada_types()
    chat.world.clock.advance(0.5)
    await chat.ada_types()
    assert await chat.seen_by_carol() == [(NOTIFICATION, "composing")]
    chat.world.clock.advance(0.5)
    await chat.ada_types()
    assert await chat.seen_by_carol() == [(NOTIFICATION, "composing")]


async def test_typing_turns_idle_when_its_time_passes_and_only_once(chat: Chat) -> None:
    await chat.ada_types(expires_after=5)
    await chat.drain()
    await chat.world.pass_time(4.9)
    assert await chat.seen_by_carol() == []
    await chat.world.pass_time(0.1)
    [idle] = await chat.world.events(chat.contact.session)
    assert idle.payload == {
        "interactionId": chat.interaction_id,
        "entityName": "Ada",
        "entityType": "Agent",
        "userId": chat.ada_id,
        "state": "idle",
    }
    assert [e.payload["state"] for e in await chat.world.events(chat.sue_desk)] == ["idle"]
    assert await chat.world.events(chat.ada_desks[0]) == []
    await chat.world.pass_time(60)
    assert await chat.seen_by_carol() == []


async def test_an_absorbed_renewal_still_extends_the_expiry(chat: Chat) -> None:
    await chat.ada_types(expires_after=5)
    chat.world.clock.advance(0.5)
    await chat.ada_types(expires_after=5)
    await chat.drain()
    await chat.world.pass_time(4.5)
    assert await chat.seen_by_carol() == []
    await chat.world.pass_time(0.5)
    assert await chat.seen_by_carol() == [(NOTIFICATION, "idle")]


async def test_the_typists_text_ends_its_typing_right_after_the_text(chat: Chat) -> None:
    await chat.ada_types()
    await chat.ada_says("done")
    assert await chat.seen_by_carol() == [(NOTIFICATION, "composing"), (TEXT, "done"), (NOTIFICATION, "idle")]
    await chat.world.pass_time(30)
    assert await chat.seen_by_carol() == []


async def test_someone_elses_text_does_not_end_the_typing(chat: Chat) -> None:
    await chat.carol_types()
    await chat.ada_says("hello")
    kinds = [e.event_type for e in await chat.world.events(chat.ada_desks[0])]
    assert kinds == [NOTIFICATION, TEXT]


async def test_a_text_without_typing_emits_no_idle(chat: Chat) -> None:
    await chat.ada_says("hello")
    assert await chat.seen_by_carol() == [(TEXT, "hello")]


async def test_ending_the_interaction_ends_the_typing_before_the_disconnect(chat: Chat) -> None:
    await chat.carol_types()
    await chat.drain()
    user = await chat.world.parley.accounts.require_user(chat.world.org_id, chat.ada_id)
    await chat.world.parley.engagement.disconnect_user(user, chat.interaction_id)
    kinds = [(e.event_type, e.payload.get("state")) for e in await chat.world.events(chat.ada_desks[0])]
    assert kinds == [(NOTIFICATION, "idle"), (DISCONNECTED, None)]
    await chat.world.pass_time(30)
    assert await chat.world.events(chat.ada_desks[0]) == []


async def test_a_supervisors_typing_is_a_whisper_too(chat: Chat) -> None:
    await chat.sue_types()
    await chat.world.pass_time(10)
    assert await chat.seen_by_carol() == []
    states = [e.payload["state"] for e in await chat.world.events(chat.ada_desks[1])]
    assert states == ["composing", "idle"]


async def test_a_contacts_typing_reaches_the_users_without_a_user_id(chat: Chat) -> None:
    await chat.carol_types()
    [event] = await chat.world.events(chat.sue_desk)
    assert (event.payload["entityType"], event.payload["entityName"]) == ("Contact", "Carol")
    assert "userId" not in event.payload
    assert await chat.world.events(chat.contact.session) == []


async def test_typing_in_an_ended_interaction_is_gone(chat: Chat) -> None:
    user = await chat.world.parley.accounts.require_user(chat.world.org_id, chat.ada_id)
    await chat.world.parley.engagement.disconnect_user(user, chat.interaction_id)
    with pytest.raises(Gone):
        await chat.ada_types()
    with pytest.raises(Gone):
        await chat.ada_says("still there?")


async def test_the_transcript_keeps_the_accepted_order_whispers_included(chat: Chat) -> None:
    await chat.carol_says("one")
    await chat.ada_says("two")
    await chat.sue_whispers("three")
    await chat.ada_says("https://example.com/four", MessageKind.URL)
    interaction, messages = await chat.world.parley.messaging.transcript(chat.world.org_id, chat.interaction_id)
    assert interaction.interaction_id == chat.interaction_id
    assert [(m.body, m.entity_type.value, m.user_id) for m in messages] == [
        ("one", "Contact", None),
        ("two", "Agent", chat.ada_id),
        ("three", "Monitor", chat.sue_id),
        ("https://example.com/four", "Agent", chat.ada_id),
    ]
    assert [m.seq for m in messages] == [1, 2, 3, 4]


async def test_a_post_with_an_idempotency_key_stores_its_answer_with_the_message(chat: Chat) -> None:
    idem = Claim("key_1", "retry-1", "fingerprint")
    post = Post(chat.interaction_id, MessageKind.TEXT, "once", EntityType.AGENT, "Ada")
    message = await chat.world.parley.messaging.user_post(chat.world.org_id, chat.ada_id, post, idem)

    assert idem.stored
    record = await chat.world.parley.store.get_idempotency("key_1", "retry-1")
    assert record is not None
    assert (record.status, record.headers, record.body, record.fingerprint) == (
        202,
        (("x-message-id", message.message_id),),
        b"",
        "fingerprint",
    )
    assert record.created_at == chat.world.clock.now()


async def test_a_retry_with_the_same_key_replays_and_delivers_nothing_twice(chat: Chat) -> None:
    """The retry finds no record when it looks, but another process commits the key first."""
    post = Post(chat.interaction_id, MessageKind.TEXT, "once", EntityType.AGENT, "Ada")
    messaging = chat.world.parley.messaging
    firsts = []

    async def retry_after_another_process_posted() -> Response:
        firsts.append(await messaging.user_post(chat.world.org_id, chat.ada_id, post, Claim("key_1", "retry-1", "fp")))
        await chat.drain()
        return posted(await messaging.user_post(chat.world.org_id, chat.ada_id, post, Claim("key_1", "retry-1", "fp")))

    idempotency = Idempotency(chat.world.parley.store, chat.world.clock)
    answer = await idempotency.run(Claim("key_1", "retry-1", "fp"), retry_after_another_process_posted)
    [first] = firsts
    assert answer.headers == [("x-message-id", first.message_id)]
    assert await chat.seen_by_carol() == []
    _, messages = await chat.world.parley.messaging.transcript(chat.world.org_id, chat.interaction_id)
    assert [m.message_id for m in messages] == [first.message_id]
