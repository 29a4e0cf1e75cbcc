"""Server-Sent Events on a streaming session, resumable with Last-Event-ID (contract 4)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from parley.domain.errors import InvalidRequest, Unavailable
from parley.service.counters import COUNTS
from parley.service.ports import Envelope, StreamSession
from parley.service.streaming import Streaming
from parley.streaming.wire import KEEP_ALIVE, sse_frame

KEEP_ALIVE_SECONDS = 15.0
BATCH = 100
# Sent as a stopping server or a dependency fault ends the stream: the client reconnects soon.
RECONNECT_SOON = b"retry: 1000\n\n"


def parse_last_event_id(raw: str | None) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 15:
        raise InvalidRequest.of("last-event-id", "invalidValue", "Last-Event-ID must be a sequence number")
    return int(value)


async def event_stream(
    streaming: Streaming, session: StreamSession, after: int | None, keep_alive: float = KEEP_ALIVE_SECONDS
) -> AsyncIterator[bytes]:
    yield b"retry: 2000\n\n"
    cursor = after
    COUNTS.stream_opened("sse")
    try:
        while True:
            try:
                batch = await streaming.next_events(session, BATCH, keep_alive, cursor)
            except InvalidRequest:
                return  # the session ended; the client's next request gets the reason
            except Unavailable:
                yield RECONNECT_SOON  # the client comes back with Last-Event-ID
                return
            if not batch:
                if streaming.stopping:
                    yield RECONNECT_SOON
                    return
                yield KEEP_ALIVE
                continue
            for item in batch:
                if isinstance(item, Envelope):
                    cursor = item.sequence_number
                elif cursor is None:
                    cursor = item.oldest_available - 1
            yield b"".join(sse_frame(item) for item in batch)
            COUNTS.delivered("sse", len(batch))
    finally:
        COUNTS.stream_closed("sse")
