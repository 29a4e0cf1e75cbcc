"""Webhook deliveries from a whole Parley (in-memory storage, a clock moved by hand) to a real
receiver over loopback, verified with the ``standardwebhooks`` library."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from parley.adapters.bus.memory import MemoryEventEngine
from parley.adapters.storage.memory import MemoryStore
from parley.adapters.webhooks.http import HttpWebhookSender
from parley.bootstrap import build
from parley.domain.interactions import EntityType, MessageKind
from parley.domain.webhooks import DeliveryStatus, Webhook
from parley.service.messaging import Post
from tests.clock import FakeClock
from tests.e2e.receiver import Plan, Receiver, running_receiver
from tests.unit.world import ORG, World

TIMEOUT = 0.5  # the receiver timeout of these tests (10 s in production)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as r:
        yield r


async def opened(allow_private: bool = True) -> World:
    clock = FakeClock(start=time.time())  # signatures carry the time; receivers check it is now
    settings_kwargs = {"database_url": "memory://", "webhook_allow_private": allow_private}
    from parley.settings import Settings

    parley = build(
        Settings(**settings_kwargs),  # type: ignore[arg-type]
        clock=clock,
        store=MemoryStore(),
        engine=MemoryEventEngine(clock, 10_000),
        webhook_sender=HttpWebhookSender(allow_private, timeout=TIMEOUT),
    )
    await parley.start(run_timers=False)
    await parley.accounts.create_organization(ORG)
    return World(parley, clock)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = await opened()
    yield w
    await w.parley.stop()


async def chat(world: World) -> tuple[str, str]:
    """(interaction id, agent's user id) of a chat an agent has accepted."""
    agent = await world.user("Ada")
    interaction_id, _desk, _contact = await world.handled_chat(agent)
    return interaction_id, agent.user_id


async def send(world: World, interaction_id: str, user_id: str, text: str, kind: MessageKind = MessageKind.TEXT) -> str:
    post = Post(interaction_id, kind, text, EntityType.AGENT, "Ada")
    message = await world.parley.messaging.user_post(ORG, user_id, post, None)
    return message.message_id


async def settled(world: World) -> None:
    await world.parley.webhook_deliverer.settle()


async def later(world: World, seconds: float) -> None:
    """Let ``seconds`` pass: retries that fall due go out."""
    await world.pass_time(seconds)
    await world.parley.tick()
    await settled(world)


def planned(receiver: Receiver, plan: Plan) -> Receiver:
    receiver.plan = plan
    return receiver


async def subscribe(world: World, receiver: Receiver, *types: str) -> Webhook:
    return await world.parley.webhooks.create(ORG, receiver.url, list(types or ("*",)), "test")


async def test_a_delivery_is_signed_so_the_standard_webhooks_library_verifies_it(
    world: World, receiver: Receiver
) -> None:
    webhook = await subscribe(world, receiver)
    interaction_id, user_id = await chat(world)

    message_id = await send(world, interaction_id, user_id, "Grüße 😀")
    await settled(world)

    (got,) = receiver.wait_for(1)
    envelope = Verifier(webhook.secret).verify(got.body, got.headers)
    assert envelope["eventId"] == got.headers["webhook-id"]
    assert envelope["eventType"] == "messaging.Text"
    assert (envelope["orgId"], envelope["webhookId"]) == (ORG, webhook.webhook_id)
    assert "sequenceNumber" not in envelope
    assert envelope["payload"]["messageId"] == message_id
    assert envelope["payload"]["text"] == "Grüße 😀"
    with pytest.raises(WebhookVerificationError):
        Verifier("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB").verify(got.body, got.headers)


async def test_a_webhook_receives_only_the_event_types_it_names(world: World, receiver: Receiver) -> None:
    with running_receiver() as urls:
        await subscribe(world, receiver, "messaging.Text")
        await subscribe(world, urls, "messaging.Url")
        interaction_id, user_id = await chat(world)

        await send(world, interaction_id, user_id, "hello")
        await send(world, interaction_id, user_id, "https://example.com/a", MessageKind.URL)
        await settled(world)

        assert [r.envelope["eventType"] for r in receiver.wait_for(1)] == ["messaging.Text"]
        assert [r.envelope["payload"]["url"] for r in urls.wait_for(1)] == ["https://example.com/a"]


async def test_a_failed_delivery_is_retried_after_5_s_with_the_same_id(world: World, receiver: Receiver) -> None:
    planned(receiver, lambda n, _r: (500 if n == 1 else 204, 0.0))
    webhook = await subscribe(world, receiver)
    interaction_id, user_id = await chat(world)
    await send(world, interaction_id, user_id, "hello")
    await settled(world)
    receiver.wait_for(1)

    await later(world, 4.0)
    assert len(receiver.received) == 1
    await later(world, 1.5)

    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    (delivery,) = await world.parley.webhooks.deliveries(ORG, webhook.webhook_id, None, 10)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 2, 204)


async def test_a_receiver_that_does_not_answer_in_time_is_retried(world: World, receiver: Receiver) -> None:
    planned(receiver, lambda n, _r: (204, TIMEOUT * 3 if n == 1 else 0.0))
    webhook = await subscribe(world, receiver)
    interaction_id, user_id = await chat(world)
    await send(world, interaction_id, user_id, "hello")
    await settled(world)

    (delivery,) = await world.parley.webhooks.deliveries(ORG, webhook.webhook_id, None, 10)
    assert (delivery.status, delivery.last_status_code) == (DeliveryStatus.PENDING, None)
    assert delivery.last_error == f"no answer within {TIMEOUT:g} s"
    await later(world, 6.0)
    assert len(set(receiver.ids())) == 1
    (delivery,) = await world.parley.webhooks.deliveries(ORG, webhook.webhook_id, DeliveryStatus.DELIVERED, 10)


async def test_an_interaction_s_events_arrive_in_order_across_a_retried_delivery(
    world: World, receiver: Receiver
) -> None:
    planned(receiver, lambda n, _r: (503 if n == 1 else 200, 0.0))
    await subscribe(world, receiver)
    interaction_id, user_id = await chat(world)

    for i in range(3):
        await send(world, interaction_id, user_id, f"text {i}")
    await settled(world)
    assert len(receiver.received) == 1  # the others wait for the first
    await later(world, 5.5)

    texts = [r.envelope["payload"]["text"] for r in receiver.wait_for(4)]
    assert texts == ["text 0", "text 0", "text 1", "text 2"]


async def test_a_dead_lettered_delivery_can_be_sent_again_by_hand(world: World, receiver: Receiver) -> None:
    planned(receiver, lambda _n, _r: (500, 0.0))
    webhook = await subscribe(world, receiver)
    interaction_id, user_id = await chat(world)
    await send(world, interaction_id, user_id, "first")
    await send(world, interaction_id, user_id, "second")
    await settled(world)

    for delay in (5, 30, 120, 600, 3600, 6 * 3600, 12 * 3600):
        await later(world, delay + 0.5)
    first_tries = [r for r in receiver.received if r.envelope["payload"]["text"] == "first"]
    assert len(first_tries) == 8  # one attempt and seven retries
    (dead,) = await world.parley.webhooks.deliveries(ORG, webhook.webhook_id, DeliveryStatus.FAILED, 10)
    assert (dead.attempts, dead.last_status_code, dead.last_error) == (8, 500, "answered 500")

    # the next of the interaction went out once the first was dead-lettered
    assert receiver.received[8].envelope["payload"]["text"] == "second"
    planned(receiver, lambda _n, _r: (204, 0.0))
    await later(world, 5.5)
    await world.parley.webhooks.retry(ORG, webhook.webhook_id, dead.delivery_id)
    await settled(world)

    assert receiver.received[-1].headers["webhook-id"] == dead.event_id
    deliveries = await world.parley.webhooks.deliveries(ORG, webhook.webhook_id, None, 10)
    assert {d.status for d in deliveries} == {DeliveryStatus.DELIVERED}


async def test_during_a_rotation_both_secrets_sign_for_24_hours(world: World, receiver: Receiver) -> None:
    old = await subscribe(world, receiver)
    new = await world.parley.webhooks.rotate_secret(ORG, old.webhook_id)
    interaction_id, user_id = await chat(world)

    await send(world, interaction_id, user_id, "during")
    await settled(world)
    await world.pass_time(24 * 3600 + 1)
    world.clock.advance(-(24 * 3600 + 1))  # back to now, so the receiver's clock check passes
    during = receiver.wait_for(1)[0]
    assert new.secret != old.secret
    Verifier(old.secret).verify(during.body, during.headers)
    Verifier(new.secret).verify(during.body, during.headers)

    world.clock.advance(24 * 3600 + 1)
    await send(world, interaction_id, user_id, "after")
    await settled(world)
    after = receiver.wait_for(2)[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1


async def test_a_slow_receiver_holds_up_neither_senders_nor_other_receivers(world: World, receiver: Receiver) -> None:
    planned(receiver, lambda _n, _r: (204, TIMEOUT * 0.8))
    with running_receiver() as quick:
        await subscribe(world, receiver)
        await subscribe(world, quick)
        interaction_ids = []
        for name in ("Ann", "Bob", "Cid"):
            interaction_id, user_id = await chat_for(world, name)
            interaction_ids.append((interaction_id, user_id))

        started = time.monotonic()
        for interaction_id, user_id in interaction_ids * 4:
            await send(world, interaction_id, user_id, "hi")
        sent_in = time.monotonic() - started
        await asyncio.to_thread(quick.wait_for, 12, TIMEOUT * 2)

        assert sent_in < TIMEOUT / 2
        assert len(receiver.received) <= 3  # one at a time per interaction, the rest waiting
        await settled(world)


async def chat_for(world: World, name: str) -> tuple[str, str]:
    agent = await world.user(name)
    interaction_id, _desk, _contact = await world.handled_chat(agent)
    return interaction_id, agent.user_id


async def test_a_name_that_resolves_to_a_loopback_address_is_refused_at_delivery(receiver: Receiver) -> None:
    world = await opened(allow_private=False)
    try:
        webhook = await world.parley.webhooks.create(ORG, f"https://localhost:{receiver.port}/hooks", ["*"], "")
        interaction_id, user_id = await chat(world)
        await send(world, interaction_id, user_id, "hello")
        await settled(world)
        await asyncio.sleep(0.1)

        (delivery,) = await world.parley.webhooks.deliveries(ORG, webhook.webhook_id, None, 10)
        assert delivery.status is DeliveryStatus.PENDING
        assert "resolves to 127.0.0.1: private targets are not allowed" in delivery.last_error
        assert receiver.received == []
    finally:
        await world.parley.stop()
