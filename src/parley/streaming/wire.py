"""How events look on the wire: the JSON envelope, SSE frames."""

from __future__ import annotations

from typing import Any, Final

import msgspec

from parley.api.schemas import EventBatch, EventEnvelope
from parley.domain.events import RESET
from parley.service.ports import Envelope, Reset

_encoder: Final = msgspec.json.Encoder()


def envelope(item: Envelope | Reset) -> EventEnvelope:
    """An event as the API documents it; msgspec encodes the struct without a dictionary."""
    if isinstance(item, Reset):
        oldest = item.oldest_available
        return EventEnvelope("evt_reset_" + str(oldest), max(0, oldest - 1), RESET, "", {"oldestAvailable": oldest})
    return EventEnvelope(item.event_id, item.sequence_number, item.event_type, item.event_time, item.payload)


def encode_batch(session_id: str, batch: list[Envelope | Reset]) -> bytes:
    """The body of a poll's answer."""
    return _encoder.encode(EventBatch(session_id, [envelope(item) for item in batch]))


def encode(data: Any) -> bytes:
    return _encoder.encode(data)


def sse_frame(item: Envelope | Reset) -> bytes:
    data = encode(envelope(item))
    if isinstance(item, Reset):
        return b"event: " + RESET.encode() + b"\ndata: " + data + b"\n\n"
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (item.sequence_number, item.event_type.encode(), data)


KEEP_ALIVE: Final = b": keep-alive\n\n"
