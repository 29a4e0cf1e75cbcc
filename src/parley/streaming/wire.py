"""How events look on the wire: the JSON envelope, SSE frames."""

from __future__ import annotations

from typing import Any

import msgspec

from parley.domain.events import RESET
from parley.service.ports import Envelope, Reset

_encoder = msgspec.json.Encoder()


def envelope_dict(item: Envelope | Reset, session_seq_hint: int = 0) -> dict[str, Any]:
    if isinstance(item, Reset):
        return {
            "eventId": f"evt_reset_{item.oldest_available}",
            "sequenceNumber": max(0, item.oldest_available - 1),
            "eventType": RESET,
            "eventTime": "",
            "payload": {"oldestAvailable": item.oldest_available},
        }
    return {
        "eventId": item.event_id,
        "sequenceNumber": item.sequence_number,
        "eventType": item.event_type,
        "eventTime": item.event_time,
        "payload": item.payload,
    }


def encode(data: Any) -> bytes:
    return _encoder.encode(data)


def sse_frame(item: Envelope | Reset) -> bytes:
    data = encode(envelope_dict(item))
    if isinstance(item, Reset):
        return b"event: " + RESET.encode() + b"\ndata: " + data + b"\n\n"
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (item.sequence_number, item.event_type.encode(), data)


KEEP_ALIVE = b": keep-alive\n\n"
