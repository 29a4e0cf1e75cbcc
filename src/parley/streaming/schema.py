"""The event envelope and a poll's batch as the API documents them (contract 4).

Kept out of the compiled ``wire`` module: msgspec reads these structs' annotations to decode
them, which a compiled module does not keep.
"""

from __future__ import annotations

from typing import Any

import msgspec


class EventEnvelope(msgspec.Struct):
    eventId: str
    sequenceNumber: int
    eventType: str
    eventTime: str
    payload: dict[str, Any]


class EventBatch(msgspec.Struct):
    """The answer to a long poll."""

    sessionId: str
    events: list[EventEnvelope]
