"""Server-owned typing indicators: forward composing, emit idle on expiry, send or end (contract 3)."""

from __future__ import annotations

from parley.clock import Clock
from parley.domain import events
from parley.domain.interactions import EntityType, Interaction
from parley.domain.typing import Typist
from parley.service.interactions import InteractionBook
from parley.service.ports import EventEngine


def _recipients(interaction: Interaction, typist: Typist, sender: str) -> list[str]:
    # A supervisor's typing is a whisper too: the contact never sees it.
    contact = typist.entity_type is not EntityType.MONITOR
    return events.audience(interaction, contact=contact, exclude=sender)


class Typing:
    def __init__(self, engine: EventEngine, clock: Clock, book: InteractionBook) -> None:
        self.engine = engine
        self.clock = clock
        self.book = book

    async def composing(self, interaction: Interaction, sender: str, typist: Typist, expires_after: int) -> None:
        now = self.clock.now()
        key = (interaction.interaction_id, sender)
        if await self.engine.typing_composing(key, expires_after, now, typist):
            await self.engine.publish(
                interaction.org_id,
                _recipients(interaction, typist, sender),
                events.NOTIFICATION,
                events.typing_payload(
                    interaction.interaction_id, typist, "composing", expires_after, now + expires_after
                ),
            )

    async def stopped(self, interaction: Interaction, sender: str) -> None:
        typist = await self.engine.typing_stop((interaction.interaction_id, sender))
        if typist is not None:
            await self._idle(interaction, sender, typist)

    async def interaction_ended(self, interaction: Interaction) -> None:
        for (_, sender), typist in await self.engine.typing_stop_interaction(interaction.interaction_id):
            await self._idle(interaction, sender, typist)

    async def tick(self) -> None:
        for (interaction_id, sender), typist in await self.engine.typing_expire(self.clock.now()):
            interaction = await self.book.get(typist.org_id, interaction_id)
            await self._idle(interaction, sender, typist)

    async def _idle(self, interaction: Interaction, sender: str, typist: Typist) -> None:
        await self.engine.publish(
            interaction.org_id,
            _recipients(interaction, typist, sender),
            events.NOTIFICATION,
            events.typing_payload(interaction.interaction_id, typist, "idle"),
        )
