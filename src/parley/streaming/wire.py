"""How events look on the wire: the JSON envelope, SSE frames."""

from __future__ import annotations

from typing import Any, Final

import msgspec

from parley.domain.events import RESET
from parley.service.ports import Envelope, Reset
from parley.streaming.schema import EventEnvelope

_encoder: Final = msgspec.json.Encoder()


class _Encoded(msgspec.Struct):
    """``EventEnvelope`` whose payload is already JSON: the same fields, in the same order."""

    eventId: str
    sequenceNumber: int
    eventType: str
    eventTime: str
    payload: msgspec.Raw


class _EncodedBatch(msgspec.Struct):
    """``EventBatch`` with events as they go on the wire."""

    sessionId: str
    events: list[EventEnvelope | _Encoded]


def envelope(item: Envelope | Reset) -> EventEnvelope:
    """An event as the API documents it; msgspec encodes the struct without a dictionary."""
    if isinstance(item, Reset):
        oldest = item.oldest_available
        return EventEnvelope("evt_reset_" + str(oldest), max(0, oldest - 1), RESET, "", {"oldestAvailable": oldest})
    return EventEnvelope(item.event_id, item.sequence_number, item.event_type, item.event_time, item.payload)


def on_wire(item: Envelope | Reset) -> EventEnvelope | _Encoded:
    """``envelope(item)``, or the same with the payload the event engine already encoded."""
    if isinstance(item, Envelope) and item.payload_json:
        raw = msgspec.Raw(item.payload_json)
        return _Encoded(item.event_id, item.sequence_number, item.event_type, item.event_time, raw)
    return envelope(item)


def encode_batch(session_id: str, batch: list[Envelope | Reset]) -> bytes:
    """The body of a poll's answer (documented as ``EventBatch``)."""
    return _encoder.encode(_EncodedBatch(session_id, [on_wire(item) for item in batch]))


def encode(data: Any) -> bytes:
    return _encoder.encode(data)


def sse_frame(item: Envelope | Reset) -> bytes:
    data = encode(on_wire(item))
    if isinstance(item, Reset):
        return b"event: " + RESET.encode() + b"\ndata: " + data + b"\n\n"
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (item.sequence_number, item.event_type.encode(), data)


KEEP_ALIVE: Final = b": keep-alive\n\n"
