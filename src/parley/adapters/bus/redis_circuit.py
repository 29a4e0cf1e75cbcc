"""Redis known to be down: calls fail at once with 503 instead of each waiting out the timeout.

Every call to Redis goes through ``Circuit.call``. The first that fails (a refused or broken
connection, no answer within the timeout) opens the circuit; while it is open every call raises
``Unavailable`` without touching Redis, and a probe asks Redis every ``PROBE_SECONDS``. Once
the probe is answered, ``recover`` runs (the engine hands out what it held back meanwhile) and
the circuit closes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from redis.exceptions import RedisError

from parley.domain.errors import Unavailable

log: Final = logging.getLogger(__name__)

T = TypeVar("T")

PROBE_SECONDS: Final = 0.25
FAULTS: Final = (RedisError, OSError, TimeoutError)


def events_unavailable() -> Unavailable:
    return Unavailable.of("server", "eventsUnavailable", "the event engine (Redis) is not answering; retry shortly")


class Circuit:
    def __init__(
        self,
        probe: Callable[[], Awaitable[object]],
        recover: Callable[[], Awaitable[object]],
        timeout: float,
        probe_every: float = PROBE_SECONDS,
    ) -> None:
        self._probe = probe
        self._recover = recover
        self.timeout = timeout
        self._probe_every = probe_every
        self._prober: asyncio.Task[None] | None = None
        self.opened_at: float | None = None  # time.monotonic() when it opened; None while closed

    @property
    def open(self) -> bool:
        return self.opened_at is not None

    async def call(self, step: Callable[[], Awaitable[T]]) -> T:
        if self.opened_at is not None:
            raise events_unavailable()
        try:
            async with asyncio.timeout(self.timeout):
                return await step()
        except FAULTS as exc:
            self.trip(exc)
            raise events_unavailable() from exc

    def trip(self, cause: BaseException) -> None:
        if self.opened_at is not None:
            return
        self.opened_at = time.monotonic()
        log.warning("Redis is not answering (%s); answering 503 until it does", cause or type(cause).__name__)
        self._prober = asyncio.get_running_loop().create_task(self._probe_until_answered(), name="redis-probe")

    async def _probe_until_answered(self) -> None:
        while True:
            await asyncio.sleep(self._probe_every)
            try:
                async with asyncio.timeout(self.timeout):
                    await self._probe()
                await self._recover()
            except FAULTS:
                continue
            except Exception:
                log.exception("recovering from the Redis outage failed; trying again")
                continue
            down_for = time.monotonic() - (self.opened_at or 0.0)
            self.opened_at = None
            self._prober = None
            log.warning("Redis answers again after %.1f s", down_for)
            return

    async def close(self) -> None:
        prober, self._prober = self._prober, None
        if prober is not None:
            prober.cancel()
            await asyncio.gather(prober, return_exceptions=True)
