"""Wake local polls when another instance (or this one) appends to their session in Redis.

One pub/sub connection per engine. The polls waiting on a session share one subscription to
its channel, held while any of them waits. ``watch`` returns only once Redis has confirmed the
subscription, so a poll that checks the log afterwards cannot miss a wake-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from parley.adapters.bus.redis_circuit import FAULTS, events_unavailable

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 0.5
# redis-py can wait forever for a closing socket (redis/redis-py#3941); a stop never does.
CLOSE_SECONDS = 2.0


@dataclass(eq=False)
class _Channel:
    listeners: set[asyncio.Event] = field(default_factory=set)
    subscribed: asyncio.Future[None] | None = None
    # Redis confirms (un)subscribe commands in the order they were sent.
    pending: deque[tuple[str, asyncio.Future[None] | None]] = field(default_factory=deque)


class Wakeups:
    def __init__(self, client: Redis, timeout: float) -> None:
        self._pubsub = client.pubsub()
        self._timeout = timeout  # for Redis to confirm a subscription
        self._channels: dict[bytes, _Channel] = {}
        self._sending = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        self._closed = False
        await self._pubsub.connect()  # type: ignore[no-untyped-call]
        self._reader = asyncio.create_task(self._read(), name="redis-wakeups")

    async def close(self) -> None:
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        self._lost()
        await close_within(self._pubsub.aclose(), "the pub/sub connection")  # type: ignore[no-untyped-call]

    def wake_all(self) -> None:
        """Wake every local poll, as if each of their sessions had received something."""
        for state in self._channels.values():
            for woken in state.listeners:
                woken.set()

    @contextlib.asynccontextmanager
    async def watch(self, channel: bytes) -> AsyncIterator[asyncio.Event]:
        """An event set whenever something is published on ``channel`` (clear it before checking)."""
        state = self._channels.setdefault(channel, _Channel())
        woken = asyncio.Event()
        state.listeners.add(woken)
        try:
            try:
                if state.subscribed is None:
                    state.subscribed = asyncio.get_running_loop().create_future()
                    await self._command(state, "subscribe", channel, state.subscribed)
                async with asyncio.timeout(self._timeout):
                    await asyncio.shield(state.subscribed)
            except FAULTS as exc:
                raise events_unavailable() from exc
            yield woken
        finally:
            state.listeners.discard(woken)
            if not state.listeners and state.subscribed is not None and not self._closed:
                state.subscribed = None
                with contextlib.suppress(RedisError):
                    await self._command(state, "unsubscribe", channel, None)
            self._forget_if_unused(channel, state)

    async def _command(
        self, state: _Channel, kind: str, channel: bytes, confirmed: asyncio.Future[None] | None
    ) -> None:
        async with self._sending:
            state.pending.append((kind, confirmed))
            try:
                if kind == "subscribe":
                    await self._pubsub.subscribe(channel)
                else:
                    await self._pubsub.unsubscribe(channel)
            except BaseException as exc:
                if state.pending and state.pending[-1] == (kind, confirmed):
                    state.pending.pop()
                if confirmed is not None and not confirmed.done():
                    state.subscribed = None
                    confirmed.set_exception(exc)
                    confirmed.exception()  # the waiters re-raise it; don't log it as unretrieved
                raise

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except RedisError as exc:
                log.warning("lost the Redis pub/sub connection (%s); polls wait until it returns", exc)
                self._lost()
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            if message is not None:
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        channel = message["channel"]
        state = self._channels.get(channel)
        if state is None:
            return
        if kind == "message":
            for woken in state.listeners:
                woken.set()
        elif kind in ("subscribe", "unsubscribe"):
            if state.pending and state.pending[0][0] == kind:
                _, confirmed = state.pending.popleft()
                if confirmed is not None and not confirmed.done():
                    confirmed.set_result(None)
            elif kind == "subscribe":
                # A resubscription after a reconnect: anything published meanwhile was missed.
                for woken in state.listeners:
                    woken.set()
            self._forget_if_unused(channel, state)

    def _forget_if_unused(self, channel: bytes, state: _Channel) -> None:
        if not state.listeners and not state.pending and self._channels.get(channel) is state:
            del self._channels[channel]

    def _lost(self) -> None:
        """Release everyone: the polls look at the log again instead of trusting the subscription."""
        for state in self._channels.values():
            for _, confirmed in state.pending:
                if confirmed is not None and not confirmed.done():
                    confirmed.set_result(None)
            state.pending.clear()
            for woken in state.listeners:
                woken.set()
        for channel, state in list(self._channels.items()):
            self._forget_if_unused(channel, state)


async def close_within(closing: Awaitable[None], what: str, seconds: float = CLOSE_SECONDS) -> None:
    """Close a Redis connection, but give up (and say so) rather than hang a stopping server."""
    try:
        await asyncio.wait_for(closing, seconds)
    except TimeoutError:
        log.warning("closing %s took over %.0f s; left to the operating system", what, seconds)
    except RedisError as exc:
        log.warning("closing %s failed (%s)", what, exc)
