"""Sending stored webhook deliveries by the Standard Webhooks specification, with retries.

Each webhook has at most ``per_receiver`` attempts in flight, so a slow or dead receiver holds
only its own slots: sendText only writes rows and never waits on a receiver. Storage hands out
only the oldest pending delivery of each interaction, so an interaction's events arrive in
order, each after the one before succeeded or was dead-lettered. A claimed attempt holds its
delivery for a lease longer than the receiver timeout; if this instance dies, another one
claims the delivery once the lease ends, with the same ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import partial
from typing import Final

from standardwebhooks.webhooks import Webhook as Signer

from parley.clock import Clock
from parley.domain.webhooks import Delivery, DeliveryStatus, Webhook, retry_delay
from parley.service.counters import COUNTS, Histogram
from parley.service.ports import Store, WebhookAnswer, WebhookSender
from parley.service.webhooks import Webhooks

log = logging.getLogger("parley.webhooks")

LEASE_SECONDS: Final = 15.0  # longer than any attempt (the receiver timeout is 10 s)
SCAN_SECONDS: Final = 1.0  # how often storage is searched for retries and others' leftovers
REPAIR_SECONDS: Final = 4.0  # how often deliveries a race between instances left waiting are released
PER_RECEIVER: Final = 8
# From an event being stored to its receiver's 2xx (parley_webhook_delivery_lag_seconds): a first
# attempt's milliseconds up to the retry schedule's hours. Kept here, beside the compiled counters.
DELIVERY_LAG: Final = Histogram((0.01, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0, 3600.0, 21600.0, 86400.0))


def signature_headers(webhook: Webhook, delivery: Delivery, now: float) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt, signed by every secret that signs now."""
    at = datetime.fromtimestamp(now, UTC)
    signatures = [Signer(secret).sign(delivery.event_id, at, delivery.body) for secret in webhook.signing_secrets(now)]
    return {
        "content-type": "application/json",
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(int(now)),
        "webhook-signature": " ".join(signatures),
    }


class WebhookDeliverer:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        webhooks: Webhooks,
        sender: WebhookSender,
        per_receiver: int = PER_RECEIVER,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.store = store
        self.clock = clock
        self.webhooks = webhooks
        self.sender = sender
        self.per_receiver = per_receiver
        self.lease_seconds = lease_seconds
        self._in_flight: dict[str, set[asyncio.Task[None]]] = {}
        self._pumping: set[str] = set()
        self._again: set[str] = set()  # asked to claim again while a claim was running
        self._pumps: set[asyncio.Task[None]] = set()
        self._next_scan = 0.0
        self._next_repair = 0.0
        self._closed = False
        webhooks.on_enqueued.append(self.wake)

    def wake(self, webhook_ids: Iterable[str]) -> None:
        """New deliveries are due for these webhooks: claim them now rather than at the next scan."""
        for webhook_id in webhook_ids:
            self._start_pump(webhook_id)

    async def tick(self) -> None:
        """Every second: claim what is due for every webhook (retries, and deliveries an instance
        that went away left behind)."""
        await self.webhooks.refresh(force=False)
        now = self.clock.monotonic()
        if now < self._next_scan:
            return
        self._next_scan = now + SCAN_SECONDS
        repair = now >= self._next_repair
        if repair:
            self._next_repair = now + REPAIR_SECONDS
        for webhook in self.webhooks.all():
            if repair:
                await self.store.release_waiting(webhook.webhook_id, self.clock.now())
            self._start_pump(webhook.webhook_id)

    def _start_pump(self, webhook_id: str) -> None:
        if self._closed:
            return
        if webhook_id in self._pumping:
            self._again.add(webhook_id)
            return
        self._pumping.add(webhook_id)
        task = asyncio.create_task(self._pump(webhook_id), name=f"webhook-claims-{webhook_id}")
        self._pumps.add(task)
        task.add_done_callback(self._pumps.discard)

    async def _pump(self, webhook_id: str) -> None:
        try:
            while True:
                self._again.discard(webhook_id)
                await self._claim(webhook_id)
                if webhook_id not in self._again or self._closed:
                    break
        except Exception:
            log.exception("webhook %s: claiming deliveries failed", webhook_id)
        finally:
            self._pumping.discard(webhook_id)

    async def _claim(self, webhook_id: str) -> None:
        free = self.per_receiver - len(self._in_flight.get(webhook_id, ()))
        if free <= 0:
            return  # a finishing attempt claims again
        now = self.clock.now()
        for delivery in await self.store.claim_deliveries(webhook_id, now, now + self.lease_seconds, free):
            task = asyncio.create_task(self._attempt(delivery), name=f"webhook-{delivery.delivery_id}")
            self._in_flight.setdefault(webhook_id, set()).add(task)
            task.add_done_callback(partial(self._finished, webhook_id))

    def _finished(self, webhook_id: str, task: asyncio.Task[None]) -> None:
        flying = self._in_flight.get(webhook_id)
        if flying is not None:
            flying.discard(task)
            if not flying:
                del self._in_flight[webhook_id]
        self._start_pump(webhook_id)  # the next of its interaction, or one that waited for a slot

    async def _attempt(self, delivery: Delivery) -> None:
        webhook = self.webhooks.webhook(delivery.webhook_id)
        if webhook is None:
            return  # deleted meanwhile (its deliveries with it)
        try:
            answer = await self.sender.post(
                webhook.url, signature_headers(webhook, delivery, self.clock.now()), delivery.body
            )
        except Exception as exc:  # a fault of ours, not the receiver's: still counted as an attempt
            log.exception("webhook %s: delivery %s failed unexpectedly", webhook.webhook_id, delivery.delivery_id)
            answer = WebhookAnswer(None, f"internal error: {type(exc).__name__}")
        now = self.clock.now()
        if answer.succeeded:
            if await self.store.finish_attempt(delivery, DeliveryStatus.DELIVERED, None, answer.status_code, "", now):
                COUNTS.webhook_delivery("delivered")
                if COUNTS.enabled:
                    DELIVERY_LAG.observe(now - delivery.created_at)
            return
        delay = retry_delay(delivery.attempts)
        if delay is None:
            log.warning(
                "webhook %s: delivery %s dead-lettered after %d attempts: %s",
                webhook.webhook_id,
                delivery.delivery_id,
                delivery.attempts,
                answer.error,
            )
            await self.store.finish_attempt(
                delivery, DeliveryStatus.FAILED, None, answer.status_code, answer.error, now
            )
            COUNTS.webhook_delivery("failed")
            return
        log.info(
            "webhook %s: delivery %s attempt %d failed (%s); retry in %.0f s",
            webhook.webhook_id,
            delivery.delivery_id,
            delivery.attempts,
            answer.error,
            delay,
        )
        await self.store.finish_attempt(
            delivery, DeliveryStatus.PENDING, now + delay, answer.status_code, answer.error, now
        )
        COUNTS.webhook_delivery("retried")

    async def settle(self) -> None:
        """Wait until no claim or attempt is running (tests; shutdown)."""
        while tasks := self._running():
            await asyncio.gather(*tasks, return_exceptions=True)

    def _running(self) -> list[asyncio.Task[None]]:
        return [*self._pumps, *(task for flying in self._in_flight.values() for task in flying)]

    async def close(self, timeout: float = 5.0) -> None:
        """Let attempts in flight finish for up to ``timeout``; storage keeps the rest."""
        self._closed = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.settle(), timeout)
        left = self._running()
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        await self.sender.aclose()
