"""In-process caches: entries that expire after a fixed time, and results of pure work on inputs
that repeat; both bounded in size."""

from __future__ import annotations

from typing import Generic, TypeVar

from parley.clock import Clock

K = TypeVar("K")
V = TypeVar("V")
Text = TypeVar("Text", str, bytes)


class ExpiringCache(Generic[K, V]):
    """A small time-bounded cache so the hot path does not recompute or re-read things every
    request; when full it starts afresh rather than tracking what is least used."""

    def __init__(self, clock: Clock, ttl: float, max_entries: int = 100_000) -> None:
        self.clock = clock
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> tuple[bool, V | None]:
        entry = self._entries.get(key)
        if entry is None or entry[0] < self.clock.monotonic():
            return False, None
        return True, entry[1]

    def put(self, key: K, value: V) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (self.clock.monotonic() + self.ttl, value)

    def clear(self) -> None:
        self._entries.clear()


class RepeatMemo(Generic[Text, V]):
    """What was worked out for a small input that clients send again and again (a poller's
    path or query string): nothing expires, since the answer cannot change; inputs longer than
    ``max_key_length`` are not kept, and when full it starts afresh."""

    def __init__(self, max_entries: int, max_key_length: int) -> None:
        self.max_entries = max_entries
        self.max_key_length = max_key_length
        self._entries: dict[Text, V] = {}

    def get(self, key: Text) -> V | None:
        return self._entries.get(key)

    def keep(self, key: Text, value: V) -> None:
        if len(key) > self.max_key_length:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = value

    def clear(self) -> None:
        self._entries.clear()
