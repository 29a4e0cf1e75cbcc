"""The seed's three messaging use cases, for users and for contacts (contract 3 and 7)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final

from parley.clock import Clock
from parley.domain import events
from parley.domain.errors import RuleViolation
from parley.domain.ids import new_id
from parley.domain.interactions import (
    CHAT_TEXT_LIMIT,
    ChannelType,
    EntityType,
    Interaction,
    Message,
    MessageKind,
)
from parley.domain.typing import Typist
from parley.domain.webhooks import Delivery
from parley.service.counters import COUNTS
from parley.service.interactions import InteractionBook
from parley.service.ports import EventEngine, IdempotentWrite, Store
from parley.service.typing import Typing
from parley.service.webhooks import Webhooks

# An outbound channel (SMS) checks a text or URL before it is stored and delivers it after. A
# check that must look something up (an SMS opt-out) returns an awaitable.
TextCheck = Callable[[Interaction, str], Awaitable[None] | None]
Deliver = Callable[[Interaction, Message], Awaitable[None]]


# Immutable through Final, with __init__ spelled out: see "Values on the hot path" in docs/architecture.md.
@dataclass(slots=True, init=False, unsafe_hash=True)
class Post:
    """What a participant posts: a text or a URL, and who it says it is from."""

    interaction_id: Final[str]
    kind: Final[MessageKind]
    body: Final[str]
    entity_type: Final[EntityType]
    entity_name: Final[str]

    def __init__(
        self, interaction_id: str, kind: MessageKind, body: str, entity_type: EntityType, entity_name: str
    ) -> None:
        self.interaction_id = interaction_id
        self.kind = kind
        self.body = body
        self.entity_type = entity_type
        self.entity_name = entity_name


def check_chat_text(interaction: Interaction, text: str) -> None:
    if len(text) > CHAT_TEXT_LIMIT:
        raise RuleViolation.of(
            "text",
            "textTooLong",
            f"a chat text may have at most {CHAT_TEXT_LIMIT} characters; this has {len(text)}",
        )


class Messaging:
    def __init__(
        self,
        store: Store,
        engine: EventEngine,
        clock: Clock,
        book: InteractionBook,
        typing: Typing,
        webhooks: Webhooks,
    ) -> None:
        self.store = store
        self.engine = engine
        self.clock = clock
        self.book = book
        self.typing = typing
        self.webhooks = webhooks
        # The organizations with a webhook: the one thing a message of any other costs them.
        self.webhook_orgs: Final[set[str]] = webhooks.subscribed_orgs
        self.text_checks: dict[ChannelType, TextCheck] = {ChannelType.CHAT: check_chat_text}
        self.deliverers: dict[ChannelType, Deliver] = {}

    async def user_post(self, org_id: str, user_id: str, post: Post, idem: IdempotentWrite | None) -> Message:
        interaction = await self.book.get(org_id, post.interaction_id)
        interaction.check_user_may_send(user_id, post.entity_type)
        return await self._post(interaction, post, user_id, events.user_owner(user_id), idem)

    async def contact_post(
        self,
        org_id: str,
        contact_id: str,
        interaction_id: str,
        kind: MessageKind,
        body: str,
        idem: IdempotentWrite | None,
    ) -> Message:
        interaction = await self.book.get_for_contact(org_id, interaction_id, contact_id)
        interaction.check_contact_may_send()
        post = Post(interaction_id, kind, body, EntityType.CONTACT, interaction.contact_name)
        return await self._post(interaction, post, None, events.contact_owner(contact_id), idem)

    async def _post(
        self,
        interaction: Interaction,
        post: Post,
        user_id: str | None,
        sender: str,
        idem: IdempotentWrite | None,
    ) -> Message:
        # A whisper never leaves Parley, so chat's rules are the ones that apply to it.
        whisper = post.entity_type is EntityType.MONITOR
        check = check_chat_text if whisper else self.text_checks.get(interaction.channel_type)
        if check is not None:
            pending = check(interaction, post.body)
            if pending is not None:
                await pending
        now = self.clock.now()
        message = Message(
            new_id("msg"),
            interaction.org_id,
            interaction.interaction_id,
            interaction.next_seq(),
            post.kind,
            post.body,
            post.entity_type,
            post.entity_name,
            user_id,
            now,
        )
        # With a key, its replay record commits with the message; a key another request
        # committed first raises AlreadyExists("idempotencyKeyExists") for the edge to replay.
        # The webhook deliveries of its event commit with it too.
        name, payload = events.message_event(message, interaction)
        deliveries: Sequence[Delivery] = ()
        if interaction.org_id in self.webhook_orgs and not message.is_whisper:
            deliveries = self.webhooks.for_event(interaction.org_id, name, interaction.interaction_id, payload)
        await self.store.add_message(message, None if idem is None else idem.record(message), deliveries)
        COUNTS.message(interaction.channel_type.value, message.entity_type.value)
        if deliveries:
            self.webhooks.enqueued(deliveries)
        await self.engine.publish(
            interaction.org_id, events.audience(interaction, contact=not message.is_whisper), name, payload
        )
        await self.typing.stopped(interaction, sender)
        deliver = self.deliverers.get(interaction.channel_type)
        if deliver is not None and not message.is_whisper and post.entity_type is not EntityType.CONTACT:
            await deliver(interaction, message)
        return message

    async def add_text(
        self, interaction: Interaction, text: str, entity_type: EntityType, entity_name: str, to_contact: bool
    ) -> Message:
        """A text no participant's request posts (what Parley itself says, an SMS a handset sent):
        stored in the transcript, then published to the users (and ``to_contact``, the contact)."""
        message = Message(
            new_id("msg"),
            interaction.org_id,
            interaction.interaction_id,
            interaction.next_seq(),
            MessageKind.TEXT,
            text,
            entity_type,
            entity_name,
            None,
            self.clock.now(),
        )
        await self.store.add_message(message, None)
        COUNTS.message(interaction.channel_type.value, entity_type.value)
        name, payload = events.message_event(message, interaction)
        await self.engine.publish(interaction.org_id, events.audience(interaction, contact=to_contact), name, payload)
        return message

    async def user_typing(
        self,
        org_id: str,
        user_id: str,
        interaction_id: str,
        entity_type: EntityType,
        entity_name: str,
        expires_after: int,
    ) -> None:
        interaction = await self.book.get(org_id, interaction_id)
        interaction.check_user_may_send(user_id, entity_type)
        typist = Typist(org_id, entity_type, entity_name, user_id)
        await self.typing.composing(interaction, events.user_owner(user_id), typist, expires_after)

    async def contact_typing(self, org_id: str, contact_id: str, interaction_id: str, expires_after: int) -> None:
        interaction = await self.book.get_for_contact(org_id, interaction_id, contact_id)
        interaction.check_contact_may_send()
        typist = Typist(org_id, EntityType.CONTACT, interaction.contact_name)
        await self.typing.composing(interaction, events.contact_owner(contact_id), typist, expires_after)

    async def transcript(self, org_id: str, interaction_id: str) -> tuple[Interaction, list[Message]]:
        interaction = await self.book.get(org_id, interaction_id)
        return interaction, await self.store.transcript(org_id, interaction_id)
