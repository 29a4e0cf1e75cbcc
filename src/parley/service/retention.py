"""PARLEY_RETENTION_DAYS: ended interactions older than that go, with their messages (contract 13).

The purge runs in small batches (each one short transaction) with a pause between them, so the
server's own writes, which share the store's one writer, wait behind a batch at most.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from parley.clock import Clock
from parley.service.ports import Store

log: Final = logging.getLogger("parley.retention")

DAY: Final = 86_400.0
INTERACTIONS_PER_BATCH: Final = 100
MESSAGES_PER_BATCH: Final = 1_000
PAUSE_SECONDS: Final = 0.05


class Retention:
    def __init__(self, store: Store, clock: Clock, days: float, pause: float = PAUSE_SECONDS) -> None:
        self.store = store
        self.clock = clock
        self.days = days
        self.pause = pause

    async def purge(self) -> tuple[int, int]:
        """Purge everything that is due now; returns (interactions, messages) deleted."""
        cutoff = self.clock.now() - self.days * DAY
        interactions = messages = 0
        while True:
            gone, deleted = await self.store.purge_ended_interactions(
                cutoff, INTERACTIONS_PER_BATCH, MESSAGES_PER_BATCH
            )
            interactions += gone
            messages += deleted
            if not gone and not deleted:
                break
            await asyncio.sleep(self.pause)
        if interactions or messages:
            log.info(
                "retention: purged %d ended interactions and %d messages older than %g days",
                interactions,
                messages,
                self.days,
                extra={"event": "retention.purged", "interactions": interactions, "messages": messages},
            )
        return interactions, messages

    async def run_daily(self) -> None:
        """Purge now, then once a day, until cancelled; a failed purge is logged and retried the next day."""
        while True:
            try:
                await self.purge()
            except Exception:
                log.exception("retention: the purge failed; it runs again in a day")
            await asyncio.sleep(DAY)
