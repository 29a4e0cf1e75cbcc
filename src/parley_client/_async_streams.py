"""``async for event in client.events()``: long poll, Server-Sent Events or WebSocket, resumable."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Protocol

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from parley_client import _streaming_api as api
from parley_client._base import AsyncRunner
from parley_client._events import BaseEvent, EventBatch, decode_event
from parley_client._exceptions import ParleyError, TransportError, Unauthorized, error_from_response
from parley_client._sequencing import REDELIVERY_PAUSE, SSEDecoder, StreamState
from parley_client._stream_common import (
    RECOVERY_TIMEOUT,
    REPLAY_TIMEOUT,
    SSE_TIMEOUT,
    WS_OPEN_TIMEOUT,
    StreamMode,
    closed_error,
    handshake_error,
    sse_headers,
)
from parley_client._tasks import cancel_and_wait


class AsyncHost(AsyncRunner):
    """A client that can stream: it knows its WebSocket credentials."""

    async def _ws_headers(self, refresh: bool) -> dict[str, str]:
        raise NotImplementedError

    def events(
        self,
        *,
        mode: StreamMode = "poll",
        auto_ack: bool | None = None,
        resume_after: int | None = None,
        max_events: int = 100,
        poll_timeout: int = 30,
        max_reconnects: int = 10,
    ) -> AsyncEventStream:
        """The session's events, in order and each once, reconnecting and resuming as needed.

        ``mode`` is ``"poll"`` (long poll), ``"sse"`` or ``"websocket"``. ``auto_ack`` defaults to
        whether the session requires acknowledgement. ``resume_after`` skips what a previous
        consumer already handled (its ``last_sequence``).
        """
        feeds: dict[str, Callable[[], AsyncFeed]] = {
            "poll": lambda: AsyncPollFeed(self, max_events, poll_timeout, *self._first_replay(resume_after)),
            "sse": lambda: AsyncSSEFeed(self),
            "websocket": lambda: AsyncWebSocketFeed(self),
        }
        if mode not in feeds:
            raise ValueError(f"mode must be one of {', '.join(feeds)}")
        return AsyncEventStream(feeds[mode](), self._stream_state(auto_ack, resume_after, max_reconnects))


class AsyncFeed(Protocol):
    redelivers: bool

    async def open(self, after: int | None) -> None: ...
    async def read(self) -> list[BaseEvent]: ...
    async def ack(self, sequence_number: int) -> None: ...
    async def recover(self, after: int, until: int, rest: list[BaseEvent]) -> list[BaseEvent]: ...
    async def close(self) -> None: ...


class AsyncPollFeed:
    """Long polls. The server hands an event out once, so after a broken poll, or when resuming,
    what it retained after the last sequence number is replayed over SSE before polling again."""

    redelivers = True

    def __init__(
        self, host: AsyncHost, max_events: int, timeout: int, replay: bool = False, replay_to: int | None = None
    ) -> None:
        self.host, self.max_events, self.timeout = host, max_events, timeout
        self._replay_next, self._replay_to = replay, replay_to  # replay_to None: until quiet
        self._pending: asyncio.Future[EventBatch] | None = None
        self._replayed: list[BaseEvent] = []

    async def open(self, after: int | None) -> None:
        if after is not None and self._replay_next:
            upto = None if self._replay_to is None else self._replay_to + 1
            self._replayed = await self._replay(after, upto)
        self._replay_next, self._replay_to = False, None

    async def read(self) -> list[BaseEvent]:
        if self._replayed:
            replayed, self._replayed = self._replayed, []
            return replayed
        try:
            return await self._poll()
        except BaseException:
            self._replay_next = True  # its answer may have been lost on the way
            raise

    async def _poll(self) -> list[BaseEvent]:
        # A poll the consumer stopped waiting for (a timeout around the loop) keeps running,
        # and the next read collects its answer.
        if self._pending is None:
            self._pending = asyncio.ensure_future(
                self.host._run(api.poll(self.host, max_events=self.max_events, timeout=self.timeout))
            )
        pending = self._pending
        try:
            batch = await asyncio.shield(pending)
        finally:
            if pending.done():
                self._pending = None
        return batch.events

    async def ack(self, sequence_number: int) -> None:
        await self.host._run(api.acknowledge(self.host, sequence_number))

    async def recover(self, after: int, until: int, rest: list[BaseEvent]) -> list[BaseEvent]:
        return await self._replay(after, until) + rest

    async def _replay(self, after: int, until: int | None) -> list[BaseEvent]:
        """Retained events after ``after``: up to ``until``, or (unknown end) until the stream falls quiet."""
        sse = AsyncSSEFeed(self.host, REPLAY_TIMEOUT if until is None else RECOVERY_TIMEOUT)
        replay: list[BaseEvent] = []
        try:
            await sse.open(after)
            while until is None or not replay or replay[-1].sequence_number < until - 1:
                replay.extend(await sse.read())
        except httpx.TimeoutException:
            pass  # quiet: nothing more was retained
        finally:
            await sse.close()
        return replay

    async def close(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            await cancel_and_wait(pending)


class AsyncSSEFeed:
    redelivers = False

    def __init__(self, host: AsyncHost, timeout: httpx.Timeout = SSE_TIMEOUT) -> None:
        self.host = host
        self.timeout = timeout
        self._response: httpx.Response | None = None
        self._lines: AsyncIterator[str] | None = None

    async def open(self, after: int | None) -> None:
        http = self.host._http
        headers = sse_headers(self.host._session_headers(), after)
        request = http.build_request("GET", api.sse_path(self.host), headers=headers, timeout=self.timeout)
        response = await http.send(request, stream=True)
        if not response.is_success:
            await response.aread()
            await response.aclose()
            raise error_from_response(response)
        self._response, self._lines = response, response.aiter_lines()

    async def read(self) -> list[BaseEvent]:
        assert self._lines is not None
        decoder = SSEDecoder()
        async for line in self._lines:
            event = decoder.line(line)
            if event is not None:
                return [event]
        raise TransportError("the event stream ended")

    async def ack(self, sequence_number: int) -> None:
        await self.host._run(api.acknowledge(self.host, sequence_number))

    async def recover(self, after: int, until: int, rest: list[BaseEvent]) -> list[BaseEvent]:
        await self.close()
        await self.open(after)
        return []

    async def close(self) -> None:
        response, self._response, self._lines = self._response, None, None
        if response is not None:
            await response.aclose()


class AsyncWebSocketFeed:
    redelivers = False

    def __init__(self, host: AsyncHost) -> None:
        self.host = host
        self._ws: ClientConnection | None = None

    async def open(self, after: int | None) -> None:
        for refresh in (False, True):
            headers = await self.host._ws_headers(refresh)
            try:
                self._ws = await connect(
                    api.ws_url(self.host), additional_headers=headers, open_timeout=WS_OPEN_TIMEOUT
                )
                break
            except InvalidStatus as exc:
                error = handshake_error(exc)
                if not isinstance(error, Unauthorized) or refresh:
                    raise error from None
            except (OSError, TimeoutError, WebSocketException) as exc:
                raise TransportError(f"WebSocket: {exc}") from exc
        if after is not None:
            await self._resume(after)

    async def _resume(self, after: int) -> None:
        if self._ws is not None:
            await self._send({"resumeAfter": after})

    async def _send(self, frame: dict[str, int]) -> None:
        assert self._ws is not None
        try:
            await self._ws.send(json.dumps(frame))
        except ConnectionClosed as exc:
            raise closed_error(exc) from None

    async def read(self) -> list[BaseEvent]:
        assert self._ws is not None
        try:
            frame = await self._ws.recv()
        except ConnectionClosed as exc:
            raise closed_error(exc) from None
        envelope = json.loads(frame)
        return [decode_event(envelope)] if isinstance(envelope, dict) else []

    async def ack(self, sequence_number: int) -> None:
        if self._ws is None:
            await self.host._run(api.acknowledge(self.host, sequence_number))
        else:
            await self._send({"acknowledge": sequence_number})

    async def recover(self, after: int, until: int, rest: list[BaseEvent]) -> list[BaseEvent]:
        # What was skipped comes again, in order, after the replay. Asked again for every event
        # that arrives ahead: the server may drop a resume that arrives while it sends a batch.
        await self._resume(after)
        return []

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()


class AsyncEventStream:
    """Events in order, each once, across reconnects; ``last_sequence`` is where to resume later.

    With ``auto_ack``, what the consumer took is acknowledged before the stream waits for more and
    when it is closed; leaving ``async with`` by an exception acknowledges nothing, so the event
    whose handling failed comes again to the session's next consumer.
    """

    def __init__(self, feed: AsyncFeed, state: StreamState) -> None:
        self._feed = feed
        self._state = state
        self._open = False
        self._closed = False

    @property
    def last_sequence(self) -> int | None:
        return self._state.yielded

    def __aiter__(self) -> AsyncEventStream:
        return self

    async def __anext__(self) -> BaseEvent:
        while True:
            event = self._state.next()
            if event is not None:
                return event
            if self._closed:
                raise StopAsyncIteration
            try:
                await self._step()
            except (httpx.TransportError, TransportError) as exc:
                await self._reconnect(exc if isinstance(exc, TransportError) else TransportError(str(exc)))
            except Exception as exc:
                await self._reconnect(exc)

    async def _reconnect(self, error: Exception) -> None:
        await self._drop()
        await asyncio.sleep(self._state.failed(error))

    async def _step(self) -> None:
        if not self._open:
            await self._feed.open(self._state.last)
            self._open = True
        due = self._state.ack_due()
        if due is not None:
            await self._feed.ack(due)
            self._state.acked = due
        events = await self._feed.read()
        self._state.succeeded()
        admitted = self._state.admit(events)
        if admitted.gap_at is not None:
            last = self._state.last or 0
            recovered = await self._feed.recover(
                last, events[admitted.gap_at].sequence_number, events[admitted.gap_at :]
            )
            admitted.count += self._state.admit(recovered, tolerate_gaps=True).count
        if events and not admitted.count and self._feed.redelivers:
            await asyncio.sleep(REDELIVERY_PAUSE)

    async def _drop(self) -> None:
        self._open = False
        with contextlib.suppress(Exception):  # the connection is already broken; nothing to tell
            await self._feed.close()

    async def aclose(self, *, acknowledge: bool = True) -> None:
        """Stop. With auto_ack, what the consumer took is acknowledged first, unless told not to."""
        self._closed = True
        due = self._state.ack_due() if acknowledge else None
        if due is not None:
            with contextlib.suppress(ParleyError, httpx.TransportError):
                await self._feed.ack(due)
                self._state.acked = due
        await self._drop()

    async def __aenter__(self) -> AsyncEventStream:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose(acknowledge=kind is None)
