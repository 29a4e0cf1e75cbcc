"""``async for event in client.events()``: the asyncio I/O of each feed and of the stream.

Long poll, Server-Sent Events or WebSocket, resumable; the bookkeeping shared with
``_streams`` lives in ``_stream_common`` and ``_sequencing``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Protocol, Unpack

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from parley_client import _stream_common as common
from parley_client._base import AsyncRunner
from parley_client._events import BaseEvent, EventBatch
from parley_client._exceptions import ParleyError, TransportError, error_from_response
from parley_client._models import Transcript
from parley_client._sequencing import REDELIVERY_PAUSE, SSEDecoder
from parley_client._stream_common import PollPlan, StreamCore, StreamOptions
from parley_client._tasks import cancel_and_wait


class AsyncHost(AsyncRunner):
    """An asyncio client that can stream: it knows its WebSocket credentials."""

    async def _ws_headers(self, refresh: bool) -> dict[str, str]:
        raise NotImplementedError

    async def _renew_session(self, chats: set[str]) -> list[Transcript]:
        raise NotImplementedError

    def events(self, **options: Unpack[StreamOptions]) -> AsyncEventStream:
        """The session's events, in order and each once, reconnecting and resuming as needed
        (options: ``StreamOptions``)."""
        plan = self._stream_plan(options)
        if plan.mode == "poll":
            return AsyncEventStream(AsyncPollFeed(self, plan.poll), StreamCore(plan.state), self)
        feed = AsyncSSEFeed(self) if plan.mode == "sse" else AsyncWebSocketFeed(self)
        return AsyncEventStream(feed, StreamCore(plan.state), self)


class AsyncFeed(Protocol):
    redelivers: bool

    async def open(self, after: int | None) -> None: ...
    async def read(self, after: int | None) -> list[BaseEvent]: ...
    async def ack(self, sequence_number: int) -> None: ...
    async def recover(self, after: int, until: int, rest: list[BaseEvent]) -> list[BaseEvent]: ...
    async def close(self) -> None: ...


class AsyncPollFeed:
    redelivers = True

    def __init__(self, host: AsyncHost, plan: PollPlan) -> None:
        self.host, self.plan = host, plan
        self._pending: asyncio.Future[EventBatch] | None = None

    async def open(self, after: int | None) -> None:
        return None

    async def read(self, after: int | None) -> list[BaseEvent]:
        # A poll the consumer stopped waiting for (a timeout around the loop) keeps running,
        # and the next read collects its answer.
        if self._pending is None:
            poll = self.host.poll(max_events=self.plan.max_events, timeout=self.plan.timeout, after=after)
            self._pending = asyncio.ensure_future(poll)
        pending = self._pending
        try:
            batch = await asyncio.shield(pending)
        finally:
            if pending.done():
                self._pending = None
        return batch.events

    async def ack(self, sequence_number: int) -> None:
        await self.host.acknowledge(sequence_number)

    async def recover(self, after: int, until: int, rest: list[BaseEvent]) -> list[BaseEvent]:
        timeout = common.RECOVERY_POLL_TIMEOUT
        return (await self.host.poll(max_events=self.plan.max_events, timeout=timeout, after=after)).events

    async def close(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            await cancel_and_wait(pending)


class AsyncSSEFeed:
    redelivers = False

    def __init__(self, host: AsyncHost, timeout: httpx.Timeout = common.SSE_TIMEOUT) -> None:
        self.host, self.timeout = host, timeout
        self._response: httpx.Response | None = None
        self._lines: AsyncIterator[str] | None = None

    async def open(self, after: int | None) -> None:
        request = common.sse_request(self.host, self.host._http, after, self.timeout)
        response = await self.host._http.send(request, stream=True)
        if not response.is_success:
            await response.aread()
            await response.aclose()
            raise error_from_response(response)
        self._response, self._lines = response, response.aiter_lines()

    async def read(self, after: int | None = None) -> list[BaseEvent]:
        assert self._lines is not None
        decoder = SSEDecoder()
        async for line in self._lines:
            if (event := decoder.line(line)) is not None:
                return [event]
        raise TransportError("the event stream ended")

    async def ack(self, sequence_number: int) -> None:
        await self.host.acknowledge(sequence_number)

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
                url, timeout = common.ws_url(self.host), common.WS_OPEN_TIMEOUT
                self._ws = await connect(url, additional_headers=headers, open_timeout=timeout)
                break
            except common.WS_OPEN_FAILURES as exc:
                if (error := common.ws_open_error(exc, refresh)) is not None:
                    raise error from exc
        if after is not None:
            await self._send(common.resume_frame(after))

    async def _send(self, frame: dict[str, int]) -> None:
        assert self._ws is not None
        try:
            await self._ws.send(json.dumps(frame))
        except ConnectionClosed as exc:
            raise common.closed_error(exc) from None

    async def read(self, after: int | None = None) -> list[BaseEvent]:
        assert self._ws is not None
        try:
            return common.frame_events(await self._ws.recv())
        except ConnectionClosed as exc:
            raise common.closed_error(exc) from None

    async def ack(self, sequence_number: int) -> None:
        if self._ws is None:
            await self.host.acknowledge(sequence_number)
        else:
            await self._send({"acknowledge": sequence_number})

    async def recover(self, after: int, until: int, rest: list[BaseEvent]) -> list[BaseEvent]:
        await self._send(common.resume_frame(after))
        return []

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()


class AsyncEventStream:
    """``EventStream`` for asyncio: events in order, each once, across reconnects; ``last_sequence``
    is where to resume later. Leaving ``async with`` by an exception acknowledges nothing."""

    def __init__(self, feed: AsyncFeed, core: StreamCore, host: AsyncHost) -> None:
        self._feed, self._core, self._host = feed, core, host

    @property
    def last_sequence(self) -> int | None:
        return self._core.state.yielded

    def __aiter__(self) -> AsyncEventStream:
        return self

    async def __anext__(self) -> BaseEvent:
        while (event := self._core.take(StopAsyncIteration)) is None:
            try:
                await self._step()
            except Exception as exc:
                await self._drop()
                if self._core.renews(exc):
                    chats = self._core.catch_up.chats | self._host._known_chats()
                    missed = self._core.catch_up.missed(await self._host._renew_session(chats))
                    self._core.renewed(self._host._position, missed)
                else:
                    await asyncio.sleep(self._core.failed(exc))
        return event

    async def _step(self) -> None:
        core, state = self._core, self._core.state
        if not core.opened:
            await self._feed.open(state.last)
            core.opened = True
        if (due := state.ack_due()) is not None:
            await self._feed.ack(due)
            state.acked = due
        events = await self._feed.read(state.last)
        gap = core.batch(events)
        if gap is not None:
            core.recovered(await self._feed.recover(*gap))
        if core.only_redelivered(events) and self._feed.redelivers:
            await asyncio.sleep(REDELIVERY_PAUSE)

    async def _drop(self) -> None:
        self._core.opened = False
        with contextlib.suppress(Exception):  # the connection is already broken; nothing to tell
            await self._feed.close()

    async def aclose(self, *, acknowledge: bool = True) -> None:
        """Stop. With auto_ack, what the consumer took is acknowledged first, unless told not to."""
        self._core.closed = True
        due = self._core.state.ack_due() if acknowledge else None
        if due is not None:
            with contextlib.suppress(ParleyError, httpx.TransportError):
                await self._feed.ack(due)
                self._core.state.acked = due
        await self._drop()

    async def __aenter__(self) -> AsyncEventStream:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose(acknowledge=kind is None)
