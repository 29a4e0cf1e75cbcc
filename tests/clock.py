"""A clock for tests: time moves only when a test says so."""

from __future__ import annotations


class FakeClock:
    """A clock that only moves when told to (a ``parley.clock.Clock``)."""

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
