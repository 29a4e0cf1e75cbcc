"""Time as an injected dependency, so tests move time instead of sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (wall clock, used for stored times)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (used for expiries and timers)."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self._now = start
        self._mono = 1000.0

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += seconds
        self._mono += seconds


_last_second: list[Any] = [None, ""]
_MILLIS_Z = [f"{ms:03d}Z" for ms in range(1000)]


def iso(ts: float) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2026-11-26T14:00:00.123Z``.

    Every event carries one, so the date part is formatted once per second and reused.
    """
    millis = int(ts * 1000)
    second, ms = divmod(millis, 1000)
    cached = _last_second
    if cached[0] != second:
        cached[1] = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        cached[0] = second
    date_part: str = cached[1]
    return date_part + _MILLIS_Z[ms]
