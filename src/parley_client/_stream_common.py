"""What the blocking and the asyncio event streams share: options, timeouts, requests, error mapping
and the bookkeeping of each feed; ``_streams`` and ``_async_streams`` write out only their I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypedDict

import httpx
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from parley_client._catch_up import CatchUp
from parley_client._events import BaseEvent, decode_event
from parley_client._exceptions import (
    APIError,
    InvalidSession,
    TransportError,
    Unauthorized,
    error_from_close,
    error_from_response,
)
from parley_client._sequencing import SessionPosition, StreamState

if TYPE_CHECKING:
    from parley_client._base import BaseClient

# The server sends an SSE keep-alive every 15 s: three missed ones mean the connection is dead.
SSE_TIMEOUT = httpx.Timeout(10.0, read=45.0)
WS_OPEN_TIMEOUT = 10.0
REFUSALS = (4400, 4401)
WS_OPEN_FAILURES = (InvalidStatus, OSError, TimeoutError, WebSocketException)

StreamMode = Literal["poll", "sse", "websocket"]
STREAM_MODES: tuple[StreamMode, ...] = ("poll", "sse", "websocket")


class StreamOptions(TypedDict, total=False):
    """``events(**options)``: ``mode`` is ``"poll"`` (long poll, the default), ``"sse"`` or
    ``"websocket"``; ``auto_ack`` defaults to whether the session requires acknowledgement;
    ``resume_after`` skips what a previous consumer already handled (its ``last_sequence``);
    ``max_events`` (100) and ``poll_timeout`` (30 s) shape each long poll; after
    ``max_reconnects`` (10) failures in a row the last error is raised."""

    mode: StreamMode
    auto_ack: bool | None
    resume_after: int | None
    max_events: int
    poll_timeout: int
    max_reconnects: int


@dataclass(frozen=True, slots=True)
class PollPlan:
    max_events: int
    timeout: int


@dataclass(slots=True)
class StreamPlan:
    mode: StreamMode
    poll: PollPlan
    state: StreamState


# -- long poll ----------------------------------------------------------------------------------
# Each poll asks for the events after the last sequence number the stream holds (``?after=N``), so a
# poll whose answer was lost, a gap, or a new stream of the same client is answered again from there.
RECOVERY_POLL_TIMEOUT = 0  # a gap is filled from what the server retains: no need to wait


# -- Server-Sent Events -------------------------------------------------------------------------
def sse_request(
    host: BaseClient[httpx.BaseTransport] | BaseClient[httpx.AsyncBaseTransport],
    http: httpx.Client | httpx.AsyncClient,
    after: int | None,
    timeout: httpx.Timeout,
) -> httpx.Request:
    headers = {**host._session_headers(), "Accept": "text/event-stream"}
    if after is not None:
        headers["Last-Event-ID"] = str(after)
    return http.build_request("GET", f"{host.streaming_path}/events/stream", headers=headers, timeout=timeout)


# -- WebSocket ----------------------------------------------------------------------------------
def ws_url(host: BaseClient[httpx.BaseTransport] | BaseClient[httpx.AsyncBaseTransport]) -> str:
    scheme, rest = host.base_url.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}{host.streaming_path}/ws"


def ws_open_error(exc: Exception, refreshed: bool) -> Exception | None:
    """What a failed WebSocket open raises; None when a fresh token may fix it (a first 401)."""
    if not isinstance(exc, InvalidStatus):
        return TransportError(f"WebSocket: {exc}")
    answer = exc.response  # the server refused the upgrade with an HTTP error and the contract's body
    response = httpx.Response(answer.status_code, headers=list(answer.headers.raw_items()), content=bytes(answer.body))
    error = error_from_response(response)
    return None if isinstance(error, Unauthorized) and not refreshed else error


def closed_error(exc: ConnectionClosed) -> APIError | TransportError:
    """A refusal after the upgrade (4400 / 4401) is the server's answer; anything else is transient."""
    if exc.rcvd is not None and exc.rcvd.code in REFUSALS:
        return error_from_close(exc.rcvd.code, exc.rcvd.reason)
    return TransportError(f"WebSocket closed: {exc}")


def frame_events(frame: str | bytes) -> list[BaseEvent]:
    envelope = json.loads(frame)
    return [decode_event(envelope)] if isinstance(envelope, dict) else []


# What was skipped comes again, in order, after the replay. A WebSocket feed asks again for every
# event that arrives ahead: the server may drop a resume that arrives while it sends a batch.
def resume_frame(after: int) -> dict[str, int]:
    return {"resumeAfter": after}


# -- the stream ---------------------------------------------------------------------------------
@dataclass(slots=True)
class StreamCore:
    """An event stream's state between its I/O: where it stands and what the last batch brought."""

    state: StreamState
    opened: bool = False
    closed: bool = False
    admitted: int = 0  # how many events of the last batch were new
    catch_up: CatchUp = field(default_factory=CatchUp)

    def take(self, stop: type[Exception]) -> BaseEvent | None:
        """The next queued event; ``stop`` raised once the stream is closed and drained."""
        while (event := self.state.next()) is not None:
            if self.catch_up.shown(event):
                return event
        if self.closed:
            raise stop
        return None

    def renews(self, error: Exception) -> bool:
        """Whether to replace the session rather than give up: the server no longer knows it."""
        return isinstance(error, InvalidSession) and self.catch_up.renewing()

    def renewed(self, position: SessionPosition | None, missed: list[BaseEvent]) -> None:
        """A new session replaced the lost one: its numbers start again at 1; ``missed`` comes first."""
        self.opened = False
        self.state.last, self.state.yielded, self.state.acked = 0, None, None
        self.state.position = position
        self.state.buffer.extend(missed)

    def batch(self, events: list[BaseEvent]) -> tuple[int, int, list[BaseEvent]] | None:
        """Queue a batch the feed read; what to recover (after, until, rest) if it skipped some."""
        self.state.succeeded()
        admitted = self.state.admit(events)
        self.admitted = admitted.count
        if admitted.gap_at is None:
            return None
        rest = events[admitted.gap_at :]
        return self.state.last or 0, rest[0].sequence_number, rest

    def recovered(self, events: list[BaseEvent]) -> None:
        self.admitted += self.state.admit(events, tolerate_gaps=True).count

    def only_redelivered(self, events: list[BaseEvent]) -> bool:
        """The batch brought nothing new (unacknowledged events again): worth a pause."""
        return bool(events) and not self.admitted

    def failed(self, error: Exception) -> float:
        """Seconds to wait before reconnecting; re-raises what a reconnect cannot fix."""
        self.opened = False
        if isinstance(error, httpx.TransportError):
            error = TransportError(str(error))
        return self.state.failed(error)
