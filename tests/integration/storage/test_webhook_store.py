"""Webhook storage: subscriptions and the delivery queue (claims, order per key, outcomes)."""

from __future__ import annotations

import dataclasses

import pytest

from parley.domain.errors import AlreadyExists
from parley.domain.webhooks import Delivery, DeliveryStatus, Webhook
from parley.service.ports import Store
from tests.integration.storage import storage_samples as s
from tests.integration.storage.conftest import OpenStore


def webhook(webhook_id: str = "whk_1", org_id: str = s.ORG) -> Webhook:
    return Webhook(webhook_id, org_id, "https://hooks.example.com/in", ("*",), "crm", "whsec_c2VjcmV0", 1.0)


def delivery(delivery_id: str, key: str = "int_1", webhook_id: str = "whk_1", due: float = 10.0) -> Delivery:
    return Delivery(
        delivery_id,
        webhook_id,
        s.ORG,
        "evt_" + delivery_id,
        "messaging.Text",
        key,
        b'{"eventId": "evt_%s", "text": "Gr\xc3\xbc\xc3\x9fe"}' % delivery_id.encode(),
        DeliveryStatus.PENDING,
        0,
        due,
        5.0,
        5.0,
    )


async def stored_with_messages(store: Store, *deliveries: Delivery) -> None:
    await store.add_organization(s.organization())
    await store.add_interaction(s.interaction())
    for seq, d in enumerate(deliveries, 1):
        await store.add_message(s.message(seq), None, [d])


async def test_webhooks_are_kept_changed_and_deleted_per_organization(store: Store) -> None:
    await store.add_webhook(webhook("whk_1"))
    await store.add_webhook(webhook("whk_2", org_id="other"))
    with pytest.raises(AlreadyExists):
        await store.add_webhook(webhook("whk_1"))
    rotated = dataclasses.replace(webhook("whk_1"), secret="whsec_bmV3", previous_secret="whsec_c2VjcmV0")
    await store.save_webhook(dataclasses.replace(rotated, previous_until=99.5))

    assert await store.all_webhooks() == [dataclasses.replace(rotated, previous_until=99.5), webhook("whk_2", "other")]
    assert not await store.delete_webhook("other", "whk_1")
    assert await store.delete_webhook(s.ORG, "whk_1")
    assert [w.webhook_id for w in await store.all_webhooks()] == ["whk_2"]


async def test_a_delivery_is_stored_with_its_message_or_not_at_all(store: Store) -> None:
    await stored_with_messages(store, delivery("dlv_1"))
    with pytest.raises(AlreadyExists):
        await store.add_message(s.message(1), None, [delivery("dlv_2")])

    assert [d.delivery_id for d in await store.list_deliveries("whk_1", None, 10)] == ["dlv_1"]
    assert (await store.list_deliveries("whk_1", None, 10))[0] == delivery("dlv_1")


async def test_claims_take_the_oldest_due_delivery_of_each_key_once(store: Store) -> None:
    await stored_with_messages(
        store, delivery("dlv_1", "int_1"), delivery("dlv_2", "int_1"), delivery("dlv_3", "int_2", due=50.0)
    )

    claimed = await store.claim_deliveries("whk_1", 20.0, 35.0, 10)
    again = await store.claim_deliveries("whk_1", 20.0, 35.0, 10)

    assert [(d.delivery_id, d.attempts, d.next_attempt_at) for d in claimed] == [("dlv_1", 1, 35.0)]
    assert again == []
    assert await store.claim_deliveries("other", 60.0, 75.0, 10) == []
    assert [d.delivery_id for d in await store.claim_deliveries("whk_1", 60.0, 75.0, 10)] == ["dlv_1", "dlv_3"]


async def test_the_next_of_a_key_waits_for_the_one_before_to_be_delivered_or_dead_lettered(store: Store) -> None:
    await stored_with_messages(store, delivery("dlv_1"), delivery("dlv_2"), delivery("dlv_3"))
    (first,) = await store.claim_deliveries("whk_1", 20.0, 35.0, 10)

    assert await store.finish_attempt(first, DeliveryStatus.PENDING, 25.0, 500, "answered 500", 21.0)
    assert await store.claim_deliveries("whk_1", 24.0, 40.0, 10) == []
    (retried,) = await store.claim_deliveries("whk_1", 25.0, 40.0, 10)
    assert (retried.delivery_id, retried.attempts, retried.last_status_code) == ("dlv_1", 2, 500)
    assert await store.finish_attempt(retried, DeliveryStatus.FAILED, None, None, "timed out", 26.0)
    (second,) = await store.claim_deliveries("whk_1", 26.0, 40.0, 10)
    assert await store.finish_attempt(second, DeliveryStatus.DELIVERED, None, 204, "", 27.0)

    assert [d.delivery_id for d in await store.claim_deliveries("whk_1", 27.0, 40.0, 10)] == ["dlv_3"]
    statuses = {d.delivery_id: d.status for d in await store.list_deliveries("whk_1", None, 10)}
    assert statuses == {"dlv_1": "failed", "dlv_2": "delivered", "dlv_3": "pending"}
    assert [d.delivery_id for d in await store.list_deliveries("whk_1", DeliveryStatus.FAILED, 10)] == ["dlv_1"]


async def test_an_attempt_whose_lease_was_taken_over_cannot_record_its_outcome(store: Store) -> None:
    await stored_with_messages(store, delivery("dlv_1"))
    (stale,) = await store.claim_deliveries("whk_1", 20.0, 35.0, 10)
    (current,) = await store.claim_deliveries("whk_1", 36.0, 50.0, 10)

    assert not await store.finish_attempt(stale, DeliveryStatus.DELIVERED, None, 200, "", 37.0)
    assert await store.finish_attempt(current, DeliveryStatus.DELIVERED, None, 200, "", 38.0)
    assert not await store.finish_attempt(current, DeliveryStatus.DELIVERED, None, 200, "", 39.0)


async def test_a_finished_delivery_can_be_retried_by_hand_with_a_fresh_schedule(store: Store) -> None:
    await stored_with_messages(store, delivery("dlv_1"))
    (claimed,) = await store.claim_deliveries("whk_1", 20.0, 35.0, 10)
    assert not await store.retry_delivery("whk_1", "dlv_1", 21.0)  # still pending
    await store.finish_attempt(claimed, DeliveryStatus.FAILED, None, 500, "answered 500", 21.0)

    assert not await store.retry_delivery("whk_2", "dlv_1", 22.0)
    assert await store.retry_delivery("whk_1", "dlv_1", 22.0)
    (again,) = await store.claim_deliveries("whk_1", 22.0, 40.0, 10)
    assert (again.attempts, again.event_id) == (1, "evt_dlv_1")


async def test_deleting_a_webhook_drops_its_deliveries(store: Store) -> None:
    await store.add_webhook(webhook())
    await stored_with_messages(store, delivery("dlv_1"))

    assert await store.delete_webhook(s.ORG, "whk_1")
    assert await store.list_deliveries("whk_1", None, 10) == []
    assert await store.claim_deliveries("whk_1", 20.0, 35.0, 10) == []


async def test_a_delivery_stored_behind_a_pending_one_waits_in_line(store: Store) -> None:
    await stored_with_messages(store, delivery("dlv_1"), delivery("dlv_2"), delivery("dlv_3", "int_2"))

    waiting = {d.delivery_id: d.next_attempt_at for d in await store.list_deliveries("whk_1", None, 10)}
    assert waiting == {"dlv_1": 10.0, "dlv_2": None, "dlv_3": 10.0}
    assert await store.release_waiting("whk_1", 20.0) == 0  # each waiting one has one going before it


@pytest.mark.postgres
async def test_a_delivery_a_race_left_waiting_is_released(postgres_url: str, open_started: OpenStore) -> None:
    import psycopg

    store = await open_started(postgres_url)
    await stored_with_messages(store, delivery("dlv_1"), delivery("dlv_2"), delivery("dlv_3", "int_2"))
    with psycopg.connect(postgres_url, autocommit=True) as db:  # as when dlv_1 ended on another instance
        db.execute("UPDATE webhook_deliveries SET status = 'delivered' WHERE delivery_id = 'dlv_1'")

    assert await store.release_waiting("whk_1", 20.0) == 1
    assert [d.delivery_id for d in await store.claim_deliveries("whk_1", 20.0, 35.0, 10)] == ["dlv_2", "dlv_3"]


async def test_in_one_group_a_failing_message_stores_none_of_its_deliveries_and_the_rest_all(
    sql_url: str, open_started: OpenStore
) -> None:
    from functools import partial
    from typing import cast

    from parley.adapters.storage.sql_base import SqlStore
    from tests.integration.storage.test_store_group_commit import gather_in_one_group

    store = cast(SqlStore, await open_started(sql_url))
    await stored_with_messages(store, delivery("dlv_0"))
    sent = [(s.message(seq), delivery(f"dlv_{seq}")) for seq in range(2, 40)]
    sent.insert(10, (s.message(1, message_id="msg_dup"), delivery("dlv_dup")))  # seq 1 is taken
    writes = [partial(store.add_message, message, None, [d]) for message, d in sent]

    outcomes = await gather_in_one_group(store, writes)

    assert [n for n, outcome in enumerate(outcomes) if outcome is not None] == [10]
    stored = [d.delivery_id for d in reversed(await store.list_deliveries("whk_1", None, 100))]
    assert stored == ["dlv_0", *(f"dlv_{seq}" for seq in range(2, 40))]
    waiting = [d.next_attempt_at for d in reversed(await store.list_deliveries("whk_1", None, 100))]
    assert waiting == [10.0] + [None] * 38  # each in line behind the one before, in the order written
