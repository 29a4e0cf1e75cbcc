"""The open interactions, kept in memory for the hot path and written through to the store."""

from __future__ import annotations

from parley.domain.errors import NotFound
from parley.domain.interactions import Interaction
from parley.service import lifecycle
from parley.service.ports import Store


class InteractionBook:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._open: dict[tuple[str, str], Interaction] = {}

    async def load(self) -> list[Interaction]:
        found = await self.store.open_interactions()
        for interaction in found:
            # Messages commit without rewriting their interaction, so its stored counter may lag.
            messages = await self.store.transcript(interaction.org_id, interaction.interaction_id)
            interaction.last_seq = max([interaction.last_seq, *(m.seq for m in messages)])
            self._open[(interaction.org_id, interaction.interaction_id)] = interaction
        return found

    def open_in(self, org_id: str) -> list[Interaction]:
        return [i for (org, _), i in self._open.items() if org == org_id]

    def all_open(self) -> list[Interaction]:
        return list(self._open.values())

    async def add(self, interaction: Interaction) -> None:
        await self.store.add_interaction(interaction)
        self._open[(interaction.org_id, interaction.interaction_id)] = interaction
        lifecycle.created(interaction)

    async def save(self, interaction: Interaction) -> None:
        key = (interaction.org_id, interaction.interaction_id)
        if interaction.is_ended:
            self._open.pop(key, None)
        await self.store.save_interaction(interaction)

    async def get(self, org_id: str, interaction_id: str) -> Interaction:
        """The interaction, open or ended; NotFound if this org has no such interaction."""
        interaction = self._open.get((org_id, interaction_id))
        if interaction is None:
            interaction = await self.store.get_interaction(org_id, interaction_id)
        if interaction is None:
            raise NotFound.of("interactionId", "notFound", f"interaction {interaction_id} does not exist")
        return interaction

    async def get_for_contact(self, org_id: str, interaction_id: str, contact_id: str) -> Interaction:
        interaction = await self.get(org_id, interaction_id)
        if interaction.contact_id != contact_id:
            # Another customer's interaction is indistinguishable from a missing one.
            raise NotFound.of("interactionId", "notFound", f"interaction {interaction_id} does not exist")
        return interaction
