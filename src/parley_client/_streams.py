"""``for event in client.events()``: the blocking I/O of each feed and of the stream.

The bookkeeping they share with ``_async_streams`` lives in ``_stream_common`` and ``_sequencing``.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Protocol, Unpack

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from parley_client import _stream_common as common
from parley_client._base import SyncRunner
from parley_client._events import BaseEvent
from parley_client._exceptions import ParleyError, TransportError, error_from_response
from parley_client._models import Transcript
from parley_client._sequencing import REDELIVERY_PAUSE, SSEDecoder
from parley_client._stream_common import PollPlan, StreamCore, StreamOptions


class SyncHost(SyncRunner):
    """A blocking client that can stream: it knows its WebSocket credentials."""

    def _ws_headers(self, refresh: bool) -> dict[str, str]:
        raise NotImplementedError

    def _renew_session(self, chats: set[str]) -> list[Transcript]:
        """Open a session for a lost one; the transcripts of ``chats`` (see ``_catch_up``)."""
        raise NotImplementedError

    def events(self, **options: Unpack[StreamOptions]) -> EventStream:
        """The session's events, in order and each once, reconnecting and resuming as needed
        (options: ``StreamOptions``)."""
        plan = self._stream_plan(options)
        feed: SyncFeed = (
            PollFeed(self, plan.poll)
            if plan.mode == "poll"
            else SSEFeed(self)
            if plan.mode == "sse"
            else WebSocketFeed(self)
        )
        return EventStream(feed, StreamCore(plan.state), self)


class SyncFeed(Protocol):
    redelivers: bool

    def open(self, after: int | None) -> None: ...
    def read(self, after: int | None) -> list[BaseEvent]: ...
    def ack(self, sequence_number: int) -> None: ...
    def recover(self, after: int, until: int, rest: list[BaseEvent]) -> list[BaseEvent]: ...
    def close(self) -> None: ...


class PollFeed:
    redelivers = True

    def __init__(self, host: SyncHost, plan: PollPlan) -> None:
        self.host, self.plan = host, plan

    def open(self, after: int | None) -> None:
        return None

    def read(self, after: int | None) -> list[BaseEvent]:
        return self.host.poll(max_events=self.plan.max_events, timeout=self.plan.timeout, after=after).events

    def ack(self, sequence_number: int) -> None:
        self.host.acknowledge(sequence_number)

    def recover(self, after: int, until: int, rest: list[BaseEvent]) -> list[BaseEvent]:
        timeout = common.RECOVERY_POLL_TIMEOUT
        return self.host.poll(max_events=self.plan.max_events, timeout=timeout, after=after).events

    def close(self) -> None:
        return None


class SSEFeed:
    redelivers = False

    def __init__(self, host: SyncHost, timeout: httpx.Timeout = common.SSE_TIMEOUT) -> None:
        self.host = host
        self.timeout = timeout
        self._response: httpx.Response | None = None
        self._lines: Iterator[str] | None = None

    def open(self, after: int | None) -> None:
        request = common.sse_request(self.host, self.host._http, after, self.timeout)
        response = self.host._http.send(request, stream=True)
        if not response.is_success:
            response.read()
            response.close()
            raise error_from_response(response)
        self._response, self._lines = response, response.iter_lines()

    def read(self, after: int | None = None) -> list[BaseEvent]:
        assert self._lines is not None
        decoder = SSEDecoder()
        for line in self._lines:
            if (event := decoder.line(line)) is not None:
                return [event]
        raise TransportError("the event stream ended")

    def ack(self, sequence_number: int) -> None:
        self.host.acknowledge(sequence_number)

    def recover(self, after: int, until: int, rest: list[BaseEvent]) -> list[BaseEvent]:
        self.close()
        self.open(after)
        return []

    def close(self) -> None:
        response, self._response, self._lines = self._response, None, None
        if response is not None:
            response.close()


class WebSocketFeed:
    redelivers = False

    def __init__(self, host: SyncHost) -> None:
        self.host = host
        self._ws: ClientConnection | None = None

    def open(self, after: int | None) -> None:
        for refresh in (False, True):
            headers = self.host._ws_headers(refresh)
            try:
                # websockets wants blocking connections entered like a context manager; close() leaves it.
                self._ws = connect(
                    common.ws_url(self.host), additional_headers=headers, open_timeout=common.WS_OPEN_TIMEOUT
                ).__enter__()
                break
            except common.WS_OPEN_FAILURES as exc:
                if (error := common.ws_open_error(exc, refresh)) is not None:
                    raise error from exc
        if after is not None:
            self._send(common.resume_frame(after))

    def _send(self, frame: dict[str, int]) -> None:
        assert self._ws is not None
        try:
            self._ws.send(json.dumps(frame))
        except ConnectionClosed as exc:
            raise common.closed_error(exc) from None

    def read(self, after: int | None = None) -> list[BaseEvent]:
        assert self._ws is not None
        try:
            return common.frame_events(self._ws.recv())
        except ConnectionClosed as exc:
            raise common.closed_error(exc) from None

    def ack(self, sequence_number: int) -> None:
        if self._ws is None:
            self.host.acknowledge(sequence_number)
        else:
            self._send({"acknowledge": sequence_number})

    def recover(self, after: int, until: int, rest: list[BaseEvent]) -> list[BaseEvent]:
        self._send(common.resume_frame(after))
        return []

    def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.close()


class EventStream:
    """Events in order, each once, across reconnects; ``last_sequence`` is where to resume later.

    With ``auto_ack``, what the consumer took is acknowledged before the stream waits for more and
    when it is closed; leaving ``with`` by an exception acknowledges nothing, so the event
    whose handling failed comes again to the session's next consumer.
    """

    def __init__(self, feed: SyncFeed, core: StreamCore, host: SyncHost) -> None:
        self._feed, self._core, self._host = feed, core, host

    @property
    def last_sequence(self) -> int | None:
        return self._core.state.yielded

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> BaseEvent:
        while (event := self._core.take(StopIteration)) is None:
            try:
                self._step()
            except Exception as exc:
                self._drop()
                if self._core.renews(exc):
                    chats = self._core.catch_up.chats | self._host._known_chats()
                    missed = self._core.catch_up.missed(self._host._renew_session(chats))
                    self._core.renewed(self._host._position, missed)
                else:
                    time.sleep(self._core.failed(exc))
        return event

    def _step(self) -> None:
        core, state = self._core, self._core.state
        if not core.opened:
            self._feed.open(state.last)
            core.opened = True
        if (due := state.ack_due()) is not None:
            self._feed.ack(due)
            state.acked = due
        events = self._feed.read(state.last)
        gap = core.batch(events)
        if gap is not None:
            core.recovered(self._feed.recover(*gap))
        if core.only_redelivered(events) and self._feed.redelivers:
            time.sleep(REDELIVERY_PAUSE)

    def _drop(self) -> None:
        self._core.opened = False
        with contextlib.suppress(Exception):  # the connection is already broken; nothing to tell
            self._feed.close()

    def close(self, *, acknowledge: bool = True) -> None:
        """Stop. With auto_ack, what the consumer took is acknowledged first, unless told not to."""
        self._core.closed = True
        due = self._core.state.ack_due() if acknowledge else None
        if due is not None:
            with contextlib.suppress(ParleyError, httpx.TransportError):
                self._feed.ack(due)
                self._core.state.acked = due
        self._drop()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close(acknowledge=kind is None)
