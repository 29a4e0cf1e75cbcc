"""SMS storage: sender numbers, opt-out history, the outbox, delivery reports, inbound SMS seen."""

from __future__ import annotations

import dataclasses

import pytest

from parley.domain.errors import AlreadyExists
from parley.domain.sms_records import OptChange, OutboxState, PartReport, SmsNumber, SmsOutbound
from parley.service.ports import Store
from tests.integration.storage import storage_samples as s

HANDSET = "+4915112345678"


def outbound(message_id: str = "msg_1", next_attempt_at: float | None = 10.0, attempts: int = 0) -> SmsOutbound:
    return SmsOutbound(
        message_id,
        s.ORG,
        "int_1",
        HANDSET,
        "+4930901820",
        "Grüße € 😀",
        segments=2,
        attempts=attempts,
        next_attempt_at=next_attempt_at,
        state=OutboxState.QUEUED,
        created_at=5.0,
        updated_at=5.0,
    )


async def test_a_number_belongs_to_one_organization(store: Store) -> None:
    await store.add_sms_number(SmsNumber("+4930901820", s.ORG, 1.0))
    await store.add_sms_number(SmsNumber("+4930901821", s.ORG, 2.0))
    await store.add_sms_number(SmsNumber("+4930901800", "other", 3.0))

    with pytest.raises(AlreadyExists) as raised:
        await store.add_sms_number(SmsNumber("+4930901820", "other", 4.0))

    assert raised.value.reason == "duplicateSmsNumber"
    assert await store.get_sms_number("+4930901820") == SmsNumber("+4930901820", s.ORG, 1.0)
    assert await store.get_sms_number("+4930909999") is None
    assert [n.number for n in await store.list_sms_numbers(s.ORG)] == ["+4930901820", "+4930901821"]


async def test_a_number_is_removed_only_by_its_organization(store: Store) -> None:
    await store.add_sms_number(SmsNumber("+4930901820", s.ORG, 1.0))

    assert not await store.remove_sms_number("other", "+4930901820")
    assert await store.remove_sms_number(s.ORG, "+4930901820")
    assert not await store.remove_sms_number(s.ORG, "+4930901820")
    assert await store.list_sms_numbers(s.ORG) == []
    await store.add_sms_number(SmsNumber("+4930901820", "other", 2.0))


async def test_every_opt_change_is_kept_in_order_per_organization_and_number(store: Store) -> None:
    changes = [
        OptChange(s.ORG, HANDSET, "out", "STOP", 1.0),
        OptChange(s.ORG, HANDSET, "in", "start", 2.0),
        OptChange("other", HANDSET, "out", "QUIT", 3.0),
        OptChange(s.ORG, HANDSET, "out", "Unsubscribe", 3.0),
        OptChange(s.ORG, "+4915100000000", "out", "END", 4.0),
    ]
    for change in changes:
        await store.add_opt_change(change)

    assert await store.opt_history(s.ORG, HANDSET) == [changes[0], changes[1], changes[3]]
    assert await store.opt_history("other", HANDSET) == [changes[2]]
    assert await store.opt_history(s.ORG, "+4915199999999") == []


async def test_an_outbound_sms_reads_back_whole_and_its_id_is_unique(store: Store) -> None:
    await store.add_sms_outbound(outbound())

    with pytest.raises(AlreadyExists) as raised:
        await store.add_sms_outbound(outbound())

    assert raised.value.reason == "duplicateMessage"
    assert await store.get_sms_outbound("msg_1") == outbound()
    assert await store.get_sms_outbound("msg_2") is None


async def test_only_queued_messages_that_are_due_come_back_earliest_first(store: Store) -> None:
    await store.add_sms_outbound(outbound("msg_late", next_attempt_at=30.0))
    await store.add_sms_outbound(outbound("msg_soon", next_attempt_at=10.0))
    await store.add_sms_outbound(outbound("msg_now", next_attempt_at=20.0))
    await store.add_sms_outbound(outbound("msg_at_gateway", next_attempt_at=None))
    await store.add_sms_outbound(outbound("msg_sent", next_attempt_at=1.0))
    await store.set_sms_outbound_state("msg_sent", OutboxState.SENT, None, "", 6.0)

    assert [o.message_id for o in await store.due_sms_outbound(20.0, 10)] == ["msg_soon", "msg_now"]
    assert [o.message_id for o in await store.due_sms_outbound(100.0, 2)] == ["msg_soon", "msg_now"]
    assert await store.due_sms_outbound(5.0, 10) == []


async def test_an_attempt_is_claimed_once_and_counted(store: Store) -> None:
    await store.add_sms_outbound(outbound())

    assert await store.claim_sms_outbound("msg_1", 0, lease_until=40.0, at=11.0)
    assert not await store.claim_sms_outbound("msg_1", 0, lease_until=40.0, at=11.0)
    assert not await store.claim_sms_outbound("msg_2", 0, lease_until=40.0, at=11.0)

    claimed = await store.get_sms_outbound("msg_1")
    assert claimed == dataclasses.replace(outbound(), attempts=1, next_attempt_at=40.0, updated_at=11.0)


async def test_a_message_at_the_gateway_or_finished_cannot_be_claimed(store: Store) -> None:
    await store.add_sms_outbound(outbound("msg_at_gateway", next_attempt_at=None))
    await store.add_sms_outbound(outbound("msg_failed"))
    await store.set_sms_outbound_state("msg_failed", OutboxState.FAILED, 403, "refused", 6.0)

    assert not await store.claim_sms_outbound("msg_at_gateway", 0, 40.0, 11.0)
    assert not await store.claim_sms_outbound("msg_failed", 0, 40.0, 11.0)


async def test_rescheduling_changes_a_queued_message_only(store: Store) -> None:
    await store.add_sms_outbound(outbound("msg_1"))
    await store.add_sms_outbound(outbound("msg_2"))
    await store.set_sms_outbound_state("msg_2", OutboxState.DELIVERED, None, "", 6.0)

    await store.reschedule_sms_outbound("msg_1", 50.0, "gateway unreachable", 12.0)
    await store.reschedule_sms_outbound("msg_2", 50.0, "late", 12.0)

    assert await store.get_sms_outbound("msg_1") == dataclasses.replace(
        outbound("msg_1"), next_attempt_at=50.0, error="gateway unreachable", updated_at=12.0
    )
    delivered = await store.get_sms_outbound("msg_2")
    assert delivered is not None
    assert (delivered.state, delivered.next_attempt_at, delivered.error) == (OutboxState.DELIVERED, None, "")

    await store.reschedule_sms_outbound("msg_1", None, "", 13.0)
    at_gateway = await store.get_sms_outbound("msg_1")
    assert at_gateway is not None
    assert (at_gateway.next_attempt_at, at_gateway.error) == (None, "")


async def test_a_final_state_keeps_the_gateway_code_and_stops_attempts(store: Store) -> None:
    await store.add_sms_outbound(outbound())

    await store.set_sms_outbound_state("msg_1", OutboxState.FAILED, 16, "rejected by the SMSC", 14.0)

    assert await store.get_sms_outbound("msg_1") == dataclasses.replace(
        outbound(),
        state=OutboxState.FAILED,
        gateway_code=16,
        error="rejected by the SMSC",
        next_attempt_at=None,
        updated_at=14.0,
    )


async def test_a_delivery_report_is_stored_once(store: Store) -> None:
    sent = PartReport("msg_1", 1, "sent", 8, 20.0)
    delivered = PartReport("msg_1", 1, "delivered", 1, 21.0)
    other_part = PartReport("msg_1", 2, "sent", 8, 20.5)

    assert await store.add_sms_report(sent)
    assert await store.add_sms_report(delivered)
    assert await store.add_sms_report(other_part)
    assert not await store.add_sms_report(dataclasses.replace(sent, received_at=22.0))
    await store.add_sms_report(PartReport("msg_2", 1, "failed", 16, 19.0))

    assert await store.sms_reports("msg_1") == [sent, other_part, delivered]
    assert await store.sms_reports("msg_3") == []


async def test_an_inbound_sms_is_claimed_once_until_released(store: Store) -> None:
    assert await store.claim_inbound_sms("kannel-1", s.ORG, 1.0)
    assert not await store.claim_inbound_sms("kannel-1", s.ORG, 2.0)
    assert await store.claim_inbound_sms("kannel-2", s.ORG, 2.0)

    await store.release_inbound_sms("kannel-1")

    assert await store.claim_inbound_sms("kannel-1", s.ORG, 3.0)
