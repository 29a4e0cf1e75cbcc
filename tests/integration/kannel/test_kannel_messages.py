"""SMS in and out through a real Kannel: the handset side is Kannel's fake SMSC line protocol."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from parley.adapters.channels.kannel import SmsGatewayError
from parley.adapters.channels.kannel.callbacks import parse_dlr, parse_mo
from parley.adapters.channels.kannel.process import KannelProcess
from parley.adapters.channels.kannel.transport import KannelSmsTransport
from parley.domain.sms import plan_sms
from tests.integration.kannel.fake_smsc import FakeMt, FakeSmscClient

from .conftest import SECRET, needs_kannel
from .webhook import WebhookRecorder

pytestmark = [pytest.mark.kannel, needs_kannel, pytest.mark.asyncio(loop_scope="module")]

HANDSET = "+4915112345678"
ORG_NUMBER = "+4930901820"
EMOJI = "\N{GRINNING FACE}"


def has_id(value: str) -> Callable[[str], bool]:
    """Matches a query in which some parameter has exactly this (URL-encoded) value."""
    return lambda query: f"={value}&" in f"{query}&"


@pytest.mark.parametrize(
    ("sender", "text"),
    [
        ("+4915100000001", "Grüße €"),
        ("+4915100000002", "Hello  there, two  spaces"),
        ("+4915100000003", "line one\nline two"),
    ],
)
async def test_an_mo_reaches_the_webhook_with_sender_receiver_and_text(
    handset: FakeSmscClient, webhook: WebhookRecorder, sender: str, text: str
) -> None:
    await handset.send_mo(sender, ORG_NUMBER, text)
    [query] = await webhook.wait_for("/mo", has_id(sender.replace("+", "%2B")))
    inbound = parse_mo(query, SECRET)
    assert (inbound.sender, inbound.receiver, inbound.text) == (sender, ORG_NUMBER, text)
    assert inbound.gateway_id
    assert inbound.sent_at is not None


async def test_a_concatenated_mo_reaches_the_webhook_joined(handset: FakeSmscClient, webhook: WebhookRecorder) -> None:
    sender = "+4915100000042"
    await handset.send_mo_part(sender, ORG_NUMBER, bytes.fromhex("05000377 0201"), b"Hello, ")
    await handset.send_mo_part(sender, ORG_NUMBER, bytes.fromhex("05000377 0202"), "wörld".encode())
    [query] = await webhook.wait_for("/mo", has_id(sender.replace("+", "%2B")))
    assert parse_mo(query, SECRET).text == "Hello, wörld"


async def send_and_receive(
    transport: KannelSmsTransport, handset: FakeSmscClient, text: str, message_id: str
) -> list[FakeMt]:
    await transport.send(ORG_NUMBER, HANDSET, text, message_id=message_id)
    parts = [await handset.read_mt() for _ in plan_sms(text).segments]
    assert all((mt.sender, mt.receiver) == (ORG_NUMBER, HANDSET) for mt in parts)
    return parts


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Your order has shipped.", "text"),
        ("Total 12€ [incl. VAT] {ok} ~^|\\", "text"),
        (f"Thanks {EMOJI} see you", "ucs-2"),
        ("Grüße ç", "ucs-2"),
    ],
)
async def test_a_single_segment_mt_arrives_in_its_encoding(
    transport: KannelSmsTransport, handset: FakeSmscClient, text: str, kind: str
) -> None:
    [mt] = await send_and_receive(transport, handset, text, "msg_single")
    assert (mt.kind, mt.udh, mt.text()) == (kind, None, text)


@pytest.mark.parametrize(
    "text",
    [
        "a" * 152 + "€" + "b" * 200,
        "ł" * 66 + EMOJI + "ł" * 100,
        ("Hello world. " * 118)[:1530],
    ],
    ids=["gsm7-escape-at-boundary", "ucs2-emoji-at-boundary", "gsm7-ten-segments"],
)
async def test_a_long_mt_arrives_as_concatenated_segments_without_split_characters(
    transport: KannelSmsTransport, handset: FakeSmscClient, text: str
) -> None:
    plan = plan_sms(text)
    parts = await send_and_receive(transport, handset, text, f"msg_long_{plan.segment_count}")
    concatenations = [mt.concatenation for mt in parts]
    assert [(c.total, c.part) for c in concatenations if c] == [
        (plan.segment_count, n) for n in range(1, plan.segment_count + 1)
    ]
    assert len({c.reference for c in concatenations if c}) == 1
    # Decoding each part on its own fails if a surrogate or escape pair was split.
    assert [mt.text(plan.encoding) for mt in parts] == plan.segments


async def test_a_delivery_report_reaches_the_webhook_for_the_message(
    transport: KannelSmsTransport, handset: FakeSmscClient, webhook: WebhookRecorder
) -> None:
    await send_and_receive(transport, handset, "Receipt please", "msg_dlr1")
    queries = await webhook.wait_for("/dlr", has_id("msg_dlr1"), count=2)
    reports = [parse_dlr(query, SECRET) for query in queries]
    assert [(r.message_id, r.state, r.code, r.part) for r in reports] == [
        ("msg_dlr1", "sent", 8, None),
        ("msg_dlr1", "delivered", 1, None),
    ]


async def test_each_segment_of_a_long_message_reports_with_its_part(
    transport: KannelSmsTransport, handset: FakeSmscClient, webhook: WebhookRecorder
) -> None:
    await send_and_receive(transport, handset, "x" * 200, "msg_dlr2")
    queries = await webhook.wait_for("/dlr", has_id("msg_dlr2"), count=4)
    reports = [parse_dlr(query, SECRET) for query in queries]
    delivered = {(r.part, r.parts) for r in reports if r.state == "delivered"}
    assert delivered == {(1, 2), (2, 2)}


async def test_a_wrong_sendsms_password_is_a_permanent_gateway_error(kannel: KannelProcess) -> None:
    sms = KannelSmsTransport(dataclasses.replace(kannel.config, password="nope"))
    try:
        with pytest.raises(SmsGatewayError) as caught:
            await sms.send(ORG_NUMBER, HANDSET, "hi", message_id="msg_denied")
    finally:
        await sms.aclose()
    assert caught.value.status == 403
    assert "Authorization failed" in caught.value.answer
    assert not caught.value.temporary
