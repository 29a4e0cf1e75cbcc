"""Time as an injected dependency, so tests move time instead of sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Final, Protocol


class Clock(Protocol):
    """Any clock: the system's, or one that tests or an operator inject (time moved by hand)."""

    def now(self) -> float: ...
    def monotonic(self) -> float: ...


class SystemClock:
    def now(self) -> float:
        """Seconds since the epoch (wall clock, used for stored times)."""
        return time.time()

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (used for expiries and timers)."""
        return time.monotonic()


_MILLIS_Z: Final = [f"{ms:03d}Z" for ms in range(1000)]


class _IsoCache:
    """The last millisecond formatted, and the date part of the last second.

    Each is one tuple assigned at once, so a thread never sees half of an update.
    """

    def __init__(self) -> None:
        self.last: tuple[int, str] = (-1, "")
        self.second: tuple[int, str] = (-1, "")


_iso: Final = _IsoCache()


def iso(ts: float) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2026-11-26T14:00:00.123Z``.

    Every event carries one, and many share a millisecond: the last one is kept, and the date
    part is formatted once per second.
    """
    millis = int(ts * 1000)
    last = _iso.last
    if millis == last[0]:
        return last[1]
    second = millis // 1000
    date = _iso.second
    if date[0] != second:
        date = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S."))
        _iso.second = date
    text = date[1] + _MILLIS_Z[millis - second * 1000]
    _iso.last = (millis, text)
    return text
