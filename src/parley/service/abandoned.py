"""Chats nobody is there for: the customer has gone, or no agent took the chat in time.

A customer's page keeps a streaming session; once a chat's customer has had no live session
for the contact side's inactivity delay, the page is taken to be gone. A chat still waiting
(queued or offered) then ends, ``Disconnected`` by the Contact with reason ``contactLeft``, so
no agent is offered a chat with nobody in it. An active chat stays open for its agent, who is
told by a System text that the customer left; the chat goes on if the customer comes back
(the agent is told so too). With a queue timeout, a chat waiting longer ends with a System text to the customer
(the configured message) and ``Disconnected`` by System, reason ``queueTimeout``.

Presence is asked of the event engine rather than learnt from session ends, so it holds after a
restart and when another instance swept the session.
"""

from __future__ import annotations

from typing import Final

from parley.clock import Clock
from parley.domain import events
from parley.domain.interactions import ChannelType, EntityType, Interaction, InteractionState
from parley.service.engagement import Engagement
from parley.service.interactions import InteractionBook
from parley.service.messaging import Messaging
from parley.service.ports import EventEngine
from parley.service.streaming import CONTACT_INACTIVITY

CHECK_EVERY_SECONDS: Final = 1.0
WAITING: Final = (InteractionState.QUEUED, InteractionState.OFFERED)
SYSTEM_NAME: Final = "System"  # the entityName of what Parley itself says in a chat


class AbandonedChats:
    def __init__(
        self,
        engine: EventEngine,
        clock: Clock,
        book: InteractionBook,
        engagement: Engagement,
        messaging: Messaging,
        queue_timeout: float,
        queue_timeout_message: str,
        absence_delay: float = CONTACT_INACTIVITY,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.book = book
        self.engagement = engagement
        self.messaging = messaging
        self.queue_timeout = queue_timeout  # 0: a chat may wait for ever
        self.queue_timeout_message = queue_timeout_message
        self.absence_delay = absence_delay
        self._absent_since: dict[tuple[str, str], float] = {}  # (org, contact) -> monotonic
        self._told: set[str] = set()  # active chats whose agent was told the customer left
        self._next_check = 0.0

    async def tick(self) -> None:
        now = self.clock.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + CHECK_EVERY_SECONDS
        chats = [i for i in self.book.all_open() if i.channel_type is ChannelType.CHAT]
        gone = await self._gone_contacts(chats, now)
        for interaction in chats:
            if interaction.is_ended:  # ended by an earlier step of this check
                continue
            key = (interaction.org_id, interaction.contact_id)
            if key in gone:
                await self._contact_left(interaction)
                continue
            if key not in self._absent_since and interaction.interaction_id in self._told:
                self._told.discard(interaction.interaction_id)
                await self._say(interaction, f"{interaction.contact_name} is back", to_contact=False)
            if interaction.state in WAITING and self._waited_too_long(interaction):
                await self._say(interaction, self.queue_timeout_message, to_contact=True)
                await self.engagement.end(interaction, EntityType.SYSTEM, "queueTimeout")
        self._told.intersection_update(i.interaction_id for i in chats if not i.is_ended)

    async def _gone_contacts(self, chats: list[Interaction], now: float) -> set[tuple[str, str]]:
        """The contacts of ``chats`` without a live session for the absence delay."""
        contacts = {(i.org_id, i.contact_id) for i in chats}
        gone: set[tuple[str, str]] = set()
        for org_id, contact_id in contacts:
            key = (org_id, contact_id)
            if await self.engine.sessions_of(org_id, events.contact_owner(contact_id)):
                self._absent_since.pop(key, None)
            elif now - self._absent_since.setdefault(key, now) >= self.absence_delay:
                gone.add(key)
        for key in [k for k in self._absent_since if k not in contacts]:
            del self._absent_since[key]
        return gone

    async def _contact_left(self, interaction: Interaction) -> None:
        if interaction.state in WAITING:
            await self.engagement.end(interaction, EntityType.CONTACT, "contactLeft")
        elif interaction.interaction_id not in self._told:
            self._told.add(interaction.interaction_id)
            text = f"{interaction.contact_name} left the chat (their page has not been connected for a while)"
            await self._say(interaction, text, to_contact=False)

    async def _say(self, interaction: Interaction, text: str, to_contact: bool) -> None:
        await self.messaging.add_text(interaction, text, EntityType.SYSTEM, SYSTEM_NAME, to_contact)

    def _waited_too_long(self, interaction: Interaction) -> bool:
        return self.queue_timeout > 0 and self.clock.now() - interaction.created_at >= self.queue_timeout
