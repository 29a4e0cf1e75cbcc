"""The bookkeeping of an event stream, without I/O: order, duplicates, gaps, acks, reconnects.

Sequence numbers of a session are 1, 2, 3, ... with no gaps. The stream remembers the last
one it queued; after a reconnect it resumes from there, drops what it already has and asks
the feed to recover when something is missing, so the consumer sees each event once, in order.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from parley_client._events import BaseEvent, ResetEvent, decode_event
from parley_client._exceptions import RateLimited, ServerError, TransportError
from parley_client._retry import Retries

RETRYABLE = (TransportError, ServerError, RateLimited)
REDELIVERY_PAUSE = 0.25  # seconds between polls that only return unacknowledged events again


@dataclass(slots=True)
class Admitted:
    count: int = 0
    gap_at: int | None = None  # index in the batch of the first event after a gap


@dataclass(slots=True)
class SessionPosition:
    """How far a client's streams got in its session (kept for sessions without acknowledgement,
    where the server hands each event out once: a new stream resumes where the last one stopped)."""

    handed: int = 0  # highest sequence number a stream handed to its consumer


@dataclass(slots=True)
class StreamState:
    last: int | None = None  # highest sequence number queued for the consumer
    position: SessionPosition | None = None
    auto_ack: bool = False
    max_reconnects: int = 10
    backoff: Retries = field(default_factory=Retries)
    yielded: int | None = None
    acked: int | None = None
    failures: int = 0
    buffer: deque[BaseEvent] = field(default_factory=deque)

    def admit(self, events: Sequence[BaseEvent], *, tolerate_gaps: bool = False) -> Admitted:
        """Queue the new events of a batch in order; stop at a gap unless told to tolerate it."""
        result = Admitted()
        for index, event in enumerate(events):
            if isinstance(event, ResetEvent):
                self.last = max(self.last or 0, event.payload.oldest_available - 1)
            else:
                seq = event.sequence_number
                if self.last is not None and seq <= self.last:
                    continue
                if self.last is not None and seq > self.last + 1 and not tolerate_gaps:
                    result.gap_at = index
                    return result
                self.last = seq
            self.buffer.append(event)
            result.count += 1
        return result

    def next(self) -> BaseEvent | None:
        if not self.buffer:
            return None
        event = self.buffer.popleft()
        if not isinstance(event, ResetEvent) and event.sequence_number > 0:  # 0: caught up from a transcript
            self.yielded = event.sequence_number
            if self.position is not None:
                self.position.handed = max(self.position.handed, event.sequence_number)
        return event

    def ack_due(self) -> int | None:
        """The sequence number to acknowledge before waiting for more, if any."""
        if not self.auto_ack or self.yielded is None:
            return None
        if self.acked is not None and self.yielded <= self.acked:
            return None
        return self.yielded

    def succeeded(self) -> None:
        self.failures = 0

    def failed(self, error: BaseException) -> float:
        """Seconds to wait before reconnecting; re-raises what a reconnect cannot fix."""
        if not isinstance(error, RETRYABLE):
            raise error
        self.failures += 1
        if self.failures > self.max_reconnects:
            raise error
        delay = self.backoff.backoff_delay(self.failures - 1)
        retry_after = getattr(error, "retry_after", None)
        return max(delay, retry_after or 0.0)


class SSEDecoder:
    """Server-Sent Events, line by line; yields each event's ``data`` as a JSON envelope."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def line(self, line: str) -> BaseEvent | None:
        if line == "":
            if not self._data:
                return None
            data, self._data = "\n".join(self._data), []
            try:
                envelope = json.loads(data)
            except ValueError:
                raise TransportError("a Server-Sent Event carried invalid JSON") from None
            return decode_event(envelope) if isinstance(envelope, dict) else None
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None
