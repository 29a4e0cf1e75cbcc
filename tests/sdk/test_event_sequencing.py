"""Events decode into their types (or a generic one), and a stream keeps them in order, each once."""

from __future__ import annotations

from typing import Any

import pytest

from parley_client import (
    BaseEvent,
    Event,
    NotificationEvent,
    OfferedEvent,
    ResetEvent,
    TextEvent,
    TransportError,
    decode_event,
)
from parley_client._sequencing import SSEDecoder, StreamState


def envelope(seq: int, event_type: str = "messaging.Text", **payload: Any) -> dict[str, Any]:
    body = payload or {
        "interactionId": "int_1",
        "messageId": f"msg_{seq}",
        "channelType": "chat",
        "entityName": "Carla",
        "entityType": "Contact",
        "text": f"text {seq}",
        "sentTime": "2026-01-01T00:00:00.000Z",
    }
    return {"eventId": f"evt_{seq}", "sequenceNumber": seq, "eventType": event_type, "eventTime": "t", "payload": body}


def events(*seqs: int) -> list[BaseEvent]:
    return [decode_event(envelope(s)) for s in seqs]


def test_known_events_get_typed_payloads() -> None:
    text = decode_event(envelope(1))
    assert isinstance(text, TextEvent)
    assert (text.payload.text, text.payload.entity_type, text.payload.user_id) == ("text 1", "Contact", None)
    offer = decode_event(
        envelope(
            2,
            "engagementCenter.Offered",
            interactionId="int_1",
            ehubSessionId="ehub_1",
            channelType="sms",
            contactName="",
            contactAddress="+15550100",
            offerTimeoutSeconds=30,
        )
    )
    assert isinstance(offer, OfferedEvent) and offer.payload.contact_address == "+15550100"
    idle = decode_event(
        envelope(3, "messaging.Notification", interactionId="i", entityName="Ada", entityType="Agent", state="idle")
    )
    assert isinstance(idle, NotificationEvent) and idle.payload.expires_time is None


def test_an_unknown_event_type_arrives_as_a_generic_event() -> None:
    event = decode_event(envelope(4, "video.Started", room="r1"))
    assert type(event) is Event
    assert (event.event_type, event.sequence_number, event.payload) == ("video.Started", 4, {"room": "r1"})


def test_a_known_type_with_an_unexpected_payload_arrives_as_a_generic_event() -> None:
    event = decode_event(envelope(5, "messaging.Text", surprise=True))
    assert type(event) is Event and event.payload == {"surprise": True}


def test_duplicates_are_dropped_and_order_is_kept() -> None:
    state = StreamState()
    assert state.admit(events(1, 2)).count == 2
    assert state.admit(events(2, 3)).count == 1
    assert [state.next().sequence_number for _ in range(3)] == [1, 2, 3]  # type: ignore[union-attr]
    assert state.next() is None


def test_a_gap_stops_the_batch_where_events_are_missing() -> None:
    state = StreamState(last=3)
    admitted = state.admit(events(4, 6, 7))
    assert (admitted.count, admitted.gap_at, state.last) == (1, 1, 4)
    assert state.admit(events(5, 6, 7)).count == 3


def test_a_reset_moves_past_what_is_gone_and_is_handed_to_the_consumer() -> None:
    state = StreamState(last=2)
    reset = decode_event(envelope(9, "streaming.Reset", oldestAvailable=10))
    assert isinstance(reset, ResetEvent)
    assert state.admit([reset, *events(10, 11)]).count == 3
    assert [type(state.next()) for _ in range(3)] == [ResetEvent, TextEvent, TextEvent]


def test_acknowledgement_is_due_for_what_the_consumer_took() -> None:
    state = StreamState(auto_ack=True)
    state.admit(events(1, 2))
    assert state.ack_due() is None
    state.next()
    assert state.ack_due() == 1
    state.acked = 1
    assert state.ack_due() is None


def test_reconnects_back_off_and_give_up_after_the_limit() -> None:
    state = StreamState(max_reconnects=2)
    assert state.failed(TransportError("x")) > 0
    assert state.failed(TransportError("x")) > 0
    with pytest.raises(TransportError):
        state.failed(TransportError("x"))
    with pytest.raises(ValueError, match="fatal"):
        StreamState().failed(ValueError("fatal"))


def test_server_sent_events_are_decoded_line_by_line() -> None:
    decoder = SSEDecoder()
    lines = ["retry: 2000", "", ": keep-alive", "", "id: 1", "event: messaging.Text"]
    assert [decoder.line(line) for line in lines] == [None] * 6
    raw = '{"eventId":"e","sequenceNumber":1,"eventType":"x.Y","eventTime":"t","payload":{}}'
    assert decoder.line("data: " + raw) is None
    event = decoder.line("")
    assert isinstance(event, Event) and event.sequence_number == 1
