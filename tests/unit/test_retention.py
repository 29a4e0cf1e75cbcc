"""The retention purge runs batch after batch until nothing is due, and says what it did."""

from __future__ import annotations

import logging

import pytest

from parley.adapters.storage.memory import MemoryStore
from parley.domain.interactions import ChannelType, EntityType, Interaction, Message, MessageKind
from parley.service import retention
from parley.service.retention import DAY, Retention
from tests.clock import FakeClock


async def test_everything_due_is_purged_in_batches_and_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(retention, "MESSAGES_PER_BATCH", 3)
    clock = FakeClock()
    store = MemoryStore()
    for n, ended_days_ago in enumerate((40, 31, 29)):
        interaction = Interaction(f"int_{n}", "acme", ChannelType.CHAT, "con_1", "Carl", clock.now())
        await store.add_interaction(interaction)
        for seq in range(1, 5):
            text = Message(
                f"m{n}{seq}",
                "acme",
                interaction.interaction_id,
                seq,
                MessageKind.TEXT,
                "hi",
                EntityType.AGENT,
                "Ann",
                "usr_1",
                clock.now(),
            )
            await store.add_message(text)
        interaction.end(EntityType.AGENT, "agentDisconnected", clock.now() - ended_days_ago * DAY)
        await store.save_interaction(interaction)

    with caplog.at_level(logging.INFO, "parley.retention"):
        purged = await Retention(store, clock, days=30, pause=0).purge()

    assert purged == (2, 8)
    assert await store.get_interaction("acme", "int_2") is not None  # ended 29 days ago: kept
    assert "purged 2 ended interactions and 8 messages older than 30 days" in caplog.text
