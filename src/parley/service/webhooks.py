"""Outbound webhooks (contract 14): an organization's subscriptions, and the deliveries an
event owes them, made before the event's message is stored so both commit together.

Every instance keeps the subscriptions in memory (read again from storage every few seconds,
so one made on another instance is seen here too): a message of an organization without any
costs one set lookup.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

import msgspec

from parley.clock import Clock, iso
from parley.domain.errors import NotFound, RuleViolation
from parley.domain.ids import new_id
from parley.domain.webhooks import (
    ROTATION_OVERLAP_SECONDS,
    SECRET_BYTES,
    Delivery,
    DeliveryStatus,
    Webhook,
    check_event_types,
    check_target_url,
    new_secret,
)
from parley.service.ports import Store

log = logging.getLogger("parley.webhooks")

REFRESH_SECONDS: Final = 2.0
_encode: Final = msgspec.json.Encoder().encode


class Webhooks:
    def __init__(self, store: Store, clock: Clock, allow_private: bool) -> None:
        self.store = store
        self.clock = clock
        self.allow_private = allow_private
        self._by_org: dict[str, list[Webhook]] = {}
        self.subscribed_orgs: set[str] = set()  # read per message: keep it a plain set
        self.on_enqueued: list[Callable[[Iterable[str]], None]] = []  # told the webhook ids
        self._next_refresh = 0.0

    # -- subscriptions -----------------------------------------------------------------------------
    async def create(self, org_id: str, url: str, event_types: list[str], description: str) -> Webhook:
        webhook = Webhook(
            new_id("whk"),
            org_id,
            check_target_url(url, self.allow_private),
            check_event_types(event_types),
            description,
            new_secret(os.urandom(SECRET_BYTES)),
            self.clock.now(),
        )
        await self.store.add_webhook(webhook)
        self._remember(webhook)
        log.info("webhook %s created for %s", webhook.webhook_id, org_id)
        return webhook

    async def of_org(self, org_id: str) -> list[Webhook]:
        await self.refresh()
        return list(self._by_org.get(org_id, ()))

    async def get(self, org_id: str, webhook_id: str) -> Webhook:
        for webhook in await self.of_org(org_id):
            if webhook.webhook_id == webhook_id:
                return webhook
        raise NotFound.of("webhookId", "notFound", f"webhook {webhook_id} does not exist")

    async def delete(self, org_id: str, webhook_id: str) -> None:
        if not await self.store.delete_webhook(org_id, webhook_id):
            raise NotFound.of("webhookId", "notFound", f"webhook {webhook_id} does not exist")
        self._forget(webhook_id)
        log.info("webhook %s deleted", webhook_id)

    async def rotate_secret(self, org_id: str, webhook_id: str) -> Webhook:
        webhook = await self.get(org_id, webhook_id)
        now = self.clock.now()
        rotated = dataclasses.replace(
            webhook,
            secret=new_secret(os.urandom(SECRET_BYTES)),
            previous_secret=webhook.secret,
            previous_until=now + ROTATION_OVERLAP_SECONDS,
        )
        await self.store.save_webhook(rotated)
        self._remember(rotated)
        log.info("webhook %s: secret rotated", webhook_id)
        return rotated

    async def deliveries(
        self, org_id: str, webhook_id: str, status: DeliveryStatus | None, limit: int
    ) -> list[Delivery]:
        await self.get(org_id, webhook_id)
        return await self.store.list_deliveries(webhook_id, status, limit)

    async def retry(self, org_id: str, webhook_id: str, delivery_id: str) -> None:
        await self.get(org_id, webhook_id)
        if not await self.store.retry_delivery(webhook_id, delivery_id, self.clock.now()):
            known = {d.delivery_id: d for d in await self.store.list_deliveries(webhook_id, None, 10_000)}
            if delivery_id in known:
                raise RuleViolation.of("deliveryId", "deliveryPending", f"delivery {delivery_id} is still pending")
            raise NotFound.of("deliveryId", "notFound", f"delivery {delivery_id} does not exist")
        for listener in self.on_enqueued:
            listener((webhook_id,))

    # -- what deliveries and events need ---------------------------------------------------------------
    def webhook(self, webhook_id: str) -> Webhook | None:
        for webhooks in self._by_org.values():
            for webhook in webhooks:
                if webhook.webhook_id == webhook_id:
                    return webhook
        return None

    def all(self) -> list[Webhook]:
        return [w for webhooks in self._by_org.values() for w in webhooks]

    def for_event(self, org_id: str, event_type: str, order_key: str, payload: dict[str, Any]) -> list[Delivery]:
        """The deliveries an event owes the organization's webhooks (none stored yet)."""
        wanting = [w for w in self._by_org.get(org_id, ()) if w.wants(event_type)]
        if not wanting:
            return []
        now = self.clock.now()
        event_id = new_id("evt")
        envelope = {"eventId": event_id, "eventType": event_type, "eventTime": iso(now), "orgId": org_id}
        return [
            Delivery(
                new_id("dlv"),
                w.webhook_id,
                org_id,
                event_id,
                event_type,
                order_key,
                _encode({**envelope, "webhookId": w.webhook_id, "payload": payload}),
                DeliveryStatus.PENDING,
                0,
                now,
                now,
                now,
            )
            for w in wanting
        ]

    def enqueued(self, deliveries: Sequence[Delivery]) -> None:
        """Deliveries were stored: let the deliverer know without waiting for its next scan."""
        webhook_ids = {d.webhook_id for d in deliveries}
        for listener in self.on_enqueued:
            listener(webhook_ids)

    async def refresh(self, force: bool = True) -> None:
        """Read the subscriptions again (every few seconds, or now when ``force``)."""
        now = self.clock.monotonic()
        if not force and now < self._next_refresh:
            return
        self._next_refresh = now + REFRESH_SECONDS
        by_org: dict[str, list[Webhook]] = {}
        for webhook in await self.store.all_webhooks():
            by_org.setdefault(webhook.org_id, []).append(webhook)
        self._by_org = by_org
        self.subscribed_orgs.clear()
        self.subscribed_orgs.update(by_org)

    def _remember(self, webhook: Webhook) -> None:
        webhooks = [w for w in self._by_org.get(webhook.org_id, []) if w.webhook_id != webhook.webhook_id]
        self._by_org[webhook.org_id] = sorted([*webhooks, webhook], key=lambda w: (w.created_at, w.webhook_id))
        self.subscribed_orgs.add(webhook.org_id)

    def _forget(self, webhook_id: str) -> None:
        for org_id, webhooks in list(self._by_org.items()):
            kept = [w for w in webhooks if w.webhook_id != webhook_id]
            if kept:
                self._by_org[org_id] = kept
            else:
                del self._by_org[org_id]
                self.subscribed_orgs.discard(org_id)
