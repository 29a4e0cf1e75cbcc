"""Events on the wire: an envelope whose payload the engine encoded once is the documented one."""

from __future__ import annotations

import msgspec

from parley.service.ports import Envelope, Reset
from parley.streaming.schema import EventBatch, EventEnvelope
from parley.streaming.wire import encode_batch, envelope, sse_frame

PAYLOAD = {"interactionId": "int_1", "text": 'caf\u00e9 "quoted" \U0001f600', "sentTime": "2026-11-27T10:00:00.000Z"}


def _events() -> list[Envelope | Reset]:
    encoded = msgspec.json.encode(PAYLOAD)
    return [
        Reset(3),
        Envelope("evt_1", 3, "messaging.Text", "2026-11-27T10:00:00.001Z", PAYLOAD, encoded),
        Envelope("evt_2", 4, "messaging.Text", "2026-11-27T10:00:00.002Z", PAYLOAD),
    ]


def test_a_batch_with_payloads_encoded_once_is_byte_for_byte_the_documented_batch() -> None:
    documented = EventBatch("ses_1", [envelope(item) for item in _events()])
    assert encode_batch("ses_1", _events()) == msgspec.json.encode(documented)
    decoded = msgspec.json.decode(encode_batch("ses_1", _events()), type=EventBatch)
    assert [e.payload for e in decoded.events[1:]] == [PAYLOAD, PAYLOAD]


def test_an_sse_frame_carries_the_same_envelope_either_way() -> None:
    encoded, plain = _events()[1:]
    assert sse_frame(encoded) == sse_frame(Envelope("evt_1", 3, "messaging.Text", "2026-11-27T10:00:00.001Z", PAYLOAD))
    data = sse_frame(encoded).split(b"data: ", 1)[1].strip()
    assert msgspec.json.decode(data, type=EventEnvelope).payload == PAYLOAD
    assert sse_frame(plain).startswith(b"id: 4\nevent: messaging.Text\ndata: ")
