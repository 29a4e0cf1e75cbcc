"""The SMS channel on in-memory adapters, a fake clock and a fake gateway (contract 5 and 7)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from parley.adapters.bus.memory import MemoryEventEngine
from parley.adapters.channels import open_sms_transport
from parley.adapters.channels.kannel.transport import KannelSmsTransport
from parley.adapters.storage.memory import MemoryStore
from parley.bootstrap import build
from parley.domain.accounts import User
from parley.domain.errors import NotFound, RuleViolation, Unavailable
from parley.domain.interactions import ChannelType, EntityType, Interaction, MessageKind
from parley.domain.sms_records import DeliveryReport, InboundSms, OutboxState, PartReport, combined_state, retry_delay
from parley.service.messaging import Post
from parley.service.ports import SmsGatewayError, StreamSession
from parley.service.sms import REPLIES, SmsChannel, SmsNumbers, to_e164
from parley.settings import ConfigurationError, Settings
from tests.clock import FakeClock
from tests.unit.world import World

ORG_NUMBER = "+4930901820"
HANDSET = "+4915112345678"
ATTEMPTS = 3
BACKOFF = 2.0
STATUS = "messaging.DeliveryStatus"


class FakeGateway:
    """Records what it is asked to send; ``down`` or queued ``errors`` make it fail."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str, str]] = []
        self.tries = 0
        self.down = False
        self.errors: list[SmsGatewayError] = []

    async def send(self, sender: str, receiver: str, text: str, *, message_id: str) -> None:
        self.tries += 1
        if self.down:
            raise SmsGatewayError("connection refused")
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((sender, receiver, text, message_id))

    async def aclose(self) -> None:
        pass

    def texts_to(self, number: str = HANDSET) -> list[str]:
        return [text for _, to, text, _ in self.sent if to == number]


@dataclass
class Desk:
    """An SMS-enabled organization, one agent at her desk, and a handset."""

    world: World
    gateway: FakeGateway
    ada: User
    desk: StreamSession
    _ids: list[int] = field(default_factory=lambda: [0])

    @property
    def sms(self) -> SmsChannel:
        assert self.world.parley.sms is not None
        return self.world.parley.sms

    async def handset_says(self, text: str, sender: str = HANDSET, to: str = ORG_NUMBER) -> bool:
        self._ids[0] += 1
        taken = await self.sms.receive(InboundSms(f"gw-{self._ids[0]}", sender, to, text, None))
        await self.sms.settle()
        return taken

    async def conversation(self, text: str = "Hi, where is my parcel?") -> str:
        """The handset writes, Ada is offered the SMS conversation and accepts it."""
        await self.handset_says(text)
        return await self.world.accept(self.ada, self.desk)

    async def ada_says(self, interaction_id: str, body: str, kind: MessageKind = MessageKind.TEXT) -> str:
        post = Post(interaction_id, kind, body, EntityType.AGENT, "Ada")
        message = await self.world.parley.messaging.user_post(self.world.org_id, self.ada.user_id, post, None)
        await self.sms.settle()
        return message.message_id

    async def statuses(self) -> list[dict[str, Any]]:
        return [e.payload for e in await self.world.events(self.desk) if e.event_type == STATUS]

    async def pass_time(self, seconds: float) -> None:
        await self.world.pass_time(seconds)
        await self.sms.settle()

    async def outbox_state(self, message_id: str) -> tuple[OutboxState, int]:
        row = await self.world.parley.store.get_sms_outbound(message_id)
        assert row is not None
        return row.state, row.attempts


@pytest.fixture
async def desk(clock: FakeClock) -> AsyncIterator[Desk]:
    settings = Settings(database_url="memory://", sms_retry_attempts=ATTEMPTS, sms_retry_backoff_seconds=BACKOFF)
    gateway = FakeGateway()
    parley = build(settings, clock, MemoryStore(), MemoryEventEngine(clock, 10_000), sms_transport=gateway)
    await parley.start(run_timers=False)
    await parley.accounts.create_organization("acme")
    await SmsNumbers(parley.store, clock).add("acme", "+49 30 901820")
    world = World(parley, clock)
    try:
        ada = await world.user("Ada")
        desk = await world.session(ada)
        await world.ready(ada, max_concurrent=3)
        yield Desk(world, gateway, ada, desk)
    finally:
        await parley.stop()


# -- inbound -----------------------------------------------------------------------------------------
async def test_an_sms_from_a_new_number_starts_an_sms_interaction_routed_like_a_chat(desk: Desk) -> None:
    await desk.handset_says("Hi, where is my parcel?")

    offer = await desk.world.offer_of(desk.desk)
    assert (offer["channelType"], offer["contactAddress"], offer["contactName"]) == ("sms", HANDSET, HANDSET)
    _, transcript = await desk.world.parley.messaging.transcript("acme", offer["interactionId"])
    assert [(m.entity_type, m.body, m.user_id) for m in transcript] == [
        (EntityType.CONTACT, "Hi, where is my parcel?", None)
    ]


async def test_later_sms_from_the_number_join_its_open_interaction(desk: Desk) -> None:
    interaction_id = await desk.conversation()

    await desk.handset_says("It was due on Monday")

    [event] = await desk.world.events(desk.desk)
    assert event.event_type == "messaging.Text"
    assert event.payload["interactionId"] == interaction_id
    assert (event.payload["entityType"], event.payload["channelType"]) == ("Contact", "sms")
    assert event.payload["text"] == "It was due on Monday"


async def test_an_sms_after_the_interaction_ended_starts_a_new_one(desk: Desk) -> None:
    first = await desk.conversation()
    await desk.world.parley.engagement.disconnect_user(desk.ada, first)
    await desk.world.events(desk.desk)

    await desk.handset_says("One more thing")

    assert (await desk.world.offer_of(desk.desk))["interactionId"] != first


async def test_an_sms_to_a_number_no_organization_has_is_refused_and_logged(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "parley.sms"), pytest.raises(NotFound) as refused:
        await desk.handset_says("hello?", to="+4930901899")

    assert (refused.value.problems[0].scope, refused.value.reason) == ("to", "unknownNumber")
    assert "+4930901899" in caplog.text
    assert HANDSET not in caplog.text  # a handset's number is never logged whole
    assert desk.world.parley.book.open_in("acme") == []


async def test_a_gateway_repeating_an_sms_id_is_taken_once(desk: Desk) -> None:
    interaction_id = await desk.conversation()
    sms = InboundSms("kannel-77", HANDSET, ORG_NUMBER, "Are you there?", None)

    assert await desk.sms.receive(sms)
    assert not await desk.sms.receive(sms)

    _, transcript = await desk.world.parley.messaging.transcript("acme", interaction_id)
    assert [m.body for m in transcript].count("Are you there?") == 1


async def test_gateway_numbers_without_a_plus_are_read_as_international() -> None:
    assert to_e164("4915112345678", None, "from") == HANDSET
    assert to_e164("015112345678", "DE", "from") == HANDSET


# -- outbound ----------------------------------------------------------------------------------------
async def test_an_agent_text_goes_to_the_handset_from_the_number_it_wrote_to(desk: Desk) -> None:
    interaction_id = await desk.conversation()

    message_id = await desk.ada_says(interaction_id, "Your parcel arrives tomorrow €5")

    assert desk.gateway.sent == [(ORG_NUMBER, HANDSET, "Your parcel arrives tomorrow €5", message_id)]
    assert await desk.outbox_state(message_id) == (OutboxState.QUEUED, 1)


async def test_a_url_is_sent_as_its_text(desk: Desk) -> None:
    interaction_id = await desk.conversation()

    await desk.ada_says(interaction_id, "https://track.example/p/42", MessageKind.URL)

    assert desk.gateway.texts_to() == ["https://track.example/p/42"]


async def test_whispers_and_typing_never_reach_the_handset(desk: Desk) -> None:
    interaction_id = await desk.conversation()
    sue = await desk.world.user("Sue", "agent", "supervisor")
    sue_desk = await desk.world.session(sue)
    await desk.world.parley.engagement.monitor(sue, interaction_id)
    await desk.world.events(desk.desk)

    whisper = Post(interaction_id, MessageKind.TEXT, "x" * 2000, EntityType.MONITOR, "Sue")
    await desk.world.parley.messaging.user_post("acme", sue.user_id, whisper, None)
    await desk.world.parley.messaging.user_typing("acme", desk.ada.user_id, interaction_id, EntityType.AGENT, "Ada", 5)
    await desk.sms.settle()

    assert desk.gateway.tries == 0
    assert await desk.world.kinds(desk.desk) == ["messaging.Text"]
    assert "messaging.Notification" in await desk.world.kinds(sue_desk)


async def test_a_text_needing_more_than_ten_segments_is_refused_with_the_limit(desk: Desk) -> None:
    interaction_id = await desk.conversation()

    with pytest.raises(RuleViolation) as refused:
        await desk.ada_says(interaction_id, "a" * 1531)

    assert refused.value.reason == "textTooLong"
    assert "at most 10 SMS segments" in refused.value.problems[0].message
    assert desk.gateway.tries == 0


# -- opt-out -----------------------------------------------------------------------------------------
async def test_stop_blocks_sends_with_one_confirmation_until_start(desk: Desk) -> None:
    interaction_id = await desk.conversation()

    await desk.handset_says(" Stop! ")
    with pytest.raises(RuleViolation) as refused:
        await desk.ada_says(interaction_id, "Are you sure?")
    await desk.handset_says("UNSTOP")
    await desk.ada_says(interaction_id, "Welcome back")

    assert (refused.value.problems[0].scope, refused.value.reason) == ("interactionId", "optedOut")
    assert desk.gateway.texts_to() == [REPLIES["stop"], REPLIES["start"], "Welcome back"]
    history = await desk.world.parley.store.opt_history("acme", HANDSET)
    assert [(c.state, c.keyword) for c in history] == [("out", "Stop!"), ("in", "UNSTOP")]
    # The agent sees the words in the conversation; they never start one of their own.
    texts = [e.payload["text"] for e in await desk.world.events(desk.desk) if e.event_type == "messaging.Text"]
    assert texts[:2] == [" Stop! ", "UNSTOP"]


async def test_a_repeated_stop_is_answered_but_changes_nothing(desk: Desk) -> None:
    await desk.handset_says("STOP")
    await desk.handset_says("quit")

    assert desk.gateway.texts_to() == [REPLIES["stop"], REPLIES["stop"]]
    assert [c.state for c in await desk.world.parley.store.opt_history("acme", HANDSET)] == ["out"]
    assert desk.world.parley.book.open_in("acme") == []


async def test_an_opt_out_is_per_organization(desk: Desk) -> None:
    await desk.world.parley.accounts.create_organization("globex")
    await SmsNumbers(desk.world.parley.store, desk.world.clock).add("globex", "+4930901821")

    await desk.handset_says("STOP", to="+4930901821")
    interaction_id = await desk.conversation()
    await desk.ada_says(interaction_id, "Still reaching you")

    assert desk.gateway.sent[-1][:3] == (ORG_NUMBER, HANDSET, "Still reaching you")


# -- failures and retries ------------------------------------------------------------------------------
async def test_a_gateway_that_is_down_is_retried_with_growing_delays(desk: Desk) -> None:
    interaction_id = await desk.conversation()
    desk.gateway.errors = [SmsGatewayError("down"), SmsGatewayError("overloaded", status=503)]

    message_id = await desk.ada_says(interaction_id, "Hello?")
    await desk.pass_time(BACKOFF - 0.5)
    tries_before_due = desk.gateway.tries
    await desk.pass_time(0.5)
    await desk.pass_time(2 * BACKOFF - 1)
    tries_before_second_due = desk.gateway.tries
    await desk.pass_time(1)

    assert (tries_before_due, tries_before_second_due, desk.gateway.tries) == (1, 2, 3)
    assert desk.gateway.texts_to() == ["Hello?"]
    assert await desk.outbox_state(message_id) == (OutboxState.QUEUED, 3)
    assert await desk.statuses() == []


async def test_after_the_retry_budget_the_agent_sees_the_message_failed(desk: Desk) -> None:
    interaction_id = await desk.conversation()
    desk.gateway.down = True

    message_id = await desk.ada_says(interaction_id, "Hello?")
    for _ in range(10):
        await desk.pass_time(5)

    assert desk.gateway.tries == ATTEMPTS
    assert await desk.outbox_state(message_id) == (OutboxState.FAILED, ATTEMPTS)
    assert await desk.statuses() == [
        {
            "interactionId": interaction_id,
            "messageId": message_id,
            "channelType": "sms",
            "status": "failed",
            "segments": 1,
            "errorCode": None,
            "reason": "gatewayUnavailable",
        }
    ]


async def test_a_gateway_refusing_a_message_fails_it_at_once_with_its_code(desk: Desk) -> None:
    interaction_id = await desk.conversation()
    desk.gateway.errors = [SmsGatewayError("Authorization failed", status=403)]

    message_id = await desk.ada_says(interaction_id, "Hello?")
    await desk.pass_time(30)

    assert desk.gateway.tries == 1
    [status] = await desk.statuses()
    assert (status["messageId"], status["status"], status["errorCode"], status["reason"]) == (
        message_id,
        "failed",
        403,
        "gatewayRefused",
    )


async def test_an_attempt_whose_sender_stopped_is_taken_up_after_its_lease(desk: Desk) -> None:
    interaction_id = await desk.conversation()
    store = desk.world.parley.store
    message_id = await desk.ada_says(interaction_id, "Hello?")
    # As if the process had died mid-attempt: the gateway never got it, the row is still leased.
    await store.reschedule_sms_outbound(message_id, desk.world.clock.now() + 60, "", desk.world.clock.now())
    desk.gateway.sent.clear()

    await desk.pass_time(30)
    assert desk.gateway.sent == []
    await desk.pass_time(31)

    assert desk.gateway.texts_to() == ["Hello?"]
    assert await desk.outbox_state(message_id) == (OutboxState.QUEUED, 2)


async def test_with_no_gateway_configured_sms_texts_are_refused_rather_than_stored(clock: FakeClock) -> None:
    parley = build(Settings(database_url="memory://"), clock, MemoryStore(), MemoryEventEngine(clock, 100))
    interaction = Interaction("int_1", "acme", ChannelType.SMS, "ctc_1", HANDSET, 0.0, contact_address=HANDSET)

    check = parley.messaging.text_checks[ChannelType.SMS]
    with pytest.raises(Unavailable) as refused:
        check(interaction, "Hello")

    assert parley.sms is None
    assert refused.value.reason == "smsUnavailable"


# -- delivery reports ----------------------------------------------------------------------------------
def report(message_id: str, state: Any, code: int, part: int | None = None, parts: int | None = None) -> DeliveryReport:
    return DeliveryReport(message_id, state, code, "", part, parts)


async def test_delivery_reports_become_delivery_status_events_once_each(desk: Desk) -> None:
    interaction_id = await desk.conversation()
    message_id = await desk.ada_says(interaction_id, "Hello")
    await desk.world.events(desk.desk)

    for dlr in [
        report(message_id, None, 4),
        report(message_id, "sent", 8),
        report(message_id, "sent", 8),
        report(message_id, "delivered", 1),
        report(message_id, "failed", 16),
    ]:
        await desk.sms.report(dlr)

    assert [(s["status"], s["errorCode"], s.get("reason")) for s in await desk.statuses()] == [
        ("sent", None, None),
        ("delivered", None, None),
    ]
    assert await desk.outbox_state(message_id) == (OutboxState.DELIVERED, 1)


async def test_a_long_message_is_delivered_when_every_segment_is(desk: Desk) -> None:
    interaction_id = await desk.conversation()
    message_id = await desk.ada_says(interaction_id, "x" * 200)
    await desk.world.events(desk.desk)

    await desk.sms.report(report(message_id, "delivered", 1, 1, 2))
    after_one = await desk.statuses()
    await desk.sms.report(report(message_id, "sent", 8, 2, 2))
    await desk.sms.report(report(message_id, "delivered", 1, 2, 2))

    assert after_one == []
    assert [(s["status"], s["segments"]) for s in await desk.statuses()] == [("sent", 2), ("delivered", 2)]


async def test_a_failed_report_fails_the_message_with_the_gateway_code(desk: Desk) -> None:
    interaction_id = await desk.conversation()
    message_id = await desk.ada_says(interaction_id, "Hello")
    await desk.world.events(desk.desk)

    await desk.sms.report(report(message_id, "failed", 16))

    [status] = await desk.statuses()
    assert (status["status"], status["errorCode"], status["reason"]) == ("failed", 16, "deliveryFailed")


async def test_a_report_on_an_unknown_message_is_refused(desk: Desk) -> None:
    with pytest.raises(NotFound):
        await desk.sms.report(report("msg_nope", "delivered", 1))


def test_retry_delays_double_up_to_a_cap() -> None:
    assert [retry_delay(2.0, n, 10.0) for n in range(1, 6)] == [2.0, 4.0, 8.0, 10.0, 10.0]


def test_parts_add_up_to_the_least_advanced_unless_one_failed() -> None:
    def part(n: int, state: Any, code: int = 1) -> PartReport:
        return PartReport("m", n, state, code, 0.0)

    assert combined_state(2, [part(1, "delivered")]) == (OutboxState.QUEUED, None)
    assert combined_state(2, [part(1, "delivered"), part(2, "sent")]) == (OutboxState.SENT, None)
    assert combined_state(2, [part(2, "delivered"), part(1, "delivered")]) == (OutboxState.DELIVERED, None)
    assert combined_state(2, [part(1, "delivered"), part(2, "failed", 2)]) == (OutboxState.FAILED, 2)


# -- numbers -----------------------------------------------------------------------------------------
async def test_a_number_is_stored_in_e164_and_owned_by_one_organization(desk: Desk) -> None:
    numbers = SmsNumbers(desk.world.parley.store, desk.world.clock)
    await desk.world.parley.accounts.create_organization("globex")

    with pytest.raises(RuleViolation) as taken:
        await numbers.add("globex", "+49 (30) 901820")
    with pytest.raises(NotFound):
        await numbers.remove("globex", ORG_NUMBER)
    with pytest.raises(NotFound):
        await numbers.add("initech", "+4930901822")

    assert "belongs to organization acme" in taken.value.problems[0].message
    assert [n.number for n in await numbers.list("acme")] == [ORG_NUMBER]
    assert await numbers.remove("acme", "+49 30 901820") == ORG_NUMBER
    assert await numbers.list("acme") == []


# -- configuration -------------------------------------------------------------------------------------
GATEWAY_ENV = {"PARLEY_SMS_GATEWAY": "kannel://parley:pw@10.0.0.5:13013", "PARLEY_SMS_WEBHOOK_SECRET": "s" * 16}


def test_the_gateway_settings_build_a_kannel_transport_reporting_to_this_server() -> None:
    settings = Settings.from_env({**GATEWAY_ENV, "PARLEY_HOST": "0.0.0.0", "PARLEY_PORT": "8081"})

    transport = open_sms_transport(settings.sms_gateway, settings.sms_webhook_base, settings.sms_webhook_secret)

    assert isinstance(transport, KannelSmsTransport)
    assert settings.sms_webhook_base == "http://127.0.0.1:8081/sms/kannel"
    assert settings.sms_retry_attempts == 5
    assert "ssssssssssssssss" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"PARLEY_SMS_GATEWAY": "http://10.0.0.5:13013"}, "PARLEY_SMS_GATEWAY"),
        ({"PARLEY_SMS_GATEWAY": "kannel://10.0.0.5:13013"}, "PARLEY_SMS_GATEWAY"),
        ({"PARLEY_SMS_WEBHOOK_SECRET": ""}, "PARLEY_SMS_WEBHOOK_SECRET"),
        ({"PARLEY_SMS_WEBHOOK_SECRET": "short"}, "PARLEY_SMS_WEBHOOK_SECRET"),
        ({"PARLEY_SMS_WEBHOOK_SECRET": "with spaces and ?&= in it"}, "PARLEY_SMS_WEBHOOK_SECRET"),
        ({"PARLEY_SMS_WEBHOOK_URL": "ftp://parley/sms/kannel"}, "PARLEY_SMS_WEBHOOK_URL"),
        ({"PARLEY_SMS_RETRY_ATTEMPTS": "-1"}, "PARLEY_SMS_RETRY_ATTEMPTS"),
    ],
)
def test_unusable_sms_settings_are_refused_by_name(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigurationError, match=names):
        Settings.from_env({**GATEWAY_ENV, **env})
