"""Retention's purge on every store: ended interactions older than the cutoff go with their
messages, in bounded batches; recent and open ones stay (contract 13, PARLEY_RETENTION_DAYS)."""

from __future__ import annotations

from parley.domain.interactions import EntityType
from parley.service.ports import Store
from tests.integration.storage import storage_samples as s


async def add(store: Store, interaction_id: str, messages: int, ended_at: float | None) -> None:
    interaction = s.interaction(interaction_id)
    await store.add_interaction(interaction)
    for seq in range(1, messages + 1):
        await store.add_message(s.message(seq, interaction_id))
    if ended_at is not None:
        interaction.end(EntityType.AGENT, "agentDisconnected", ended_at)
        await store.save_interaction(interaction)


async def test_old_ended_interactions_go_with_their_messages_in_bounded_batches(store: Store) -> None:
    await add(store, "int_old", 5, ended_at=10.0)
    await add(store, "int_older", 2, ended_at=5.0)
    await add(store, "int_recent", 3, ended_at=500.0)
    await add(store, "int_open", 4, ended_at=None)

    first = await store.purge_ended_interactions(100.0, interactions=10, messages=4)
    assert first[1] == 4  # no more messages than asked, even if that leaves an interaction for later
    rest = await store.purge_ended_interactions(100.0, interactions=10, messages=4)
    done = await store.purge_ended_interactions(100.0, interactions=10, messages=4)

    assert first[0] + rest[0] == 2 and first[1] + rest[1] == 7 and done == (0, 0)
    for gone in ("int_old", "int_older"):
        assert await store.get_interaction(s.ORG, gone) is None
        assert await store.transcript(s.ORG, gone) == []
    assert len(await store.transcript(s.ORG, "int_recent")) == 3
    assert len(await store.transcript(s.ORG, "int_open")) == 4
    assert [i.interaction_id for i in await store.open_interactions()] == ["int_open"]
