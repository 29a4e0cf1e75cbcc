"""Token buckets: per API key (contract 3), per client IP for web tokens (contract 7), and for
failed client authentications per client id and per client IP (contract 1.2)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from parley.clock import Clock


@dataclass(slots=True, init=False)
class Decision:
    allowed: bool
    remaining: int
    reset_seconds: int  # until the bucket is full again (RateLimit t=)
    retry_after: int  # seconds until one request fits (only meaningful when refused)

    def __init__(self, allowed: bool, remaining: int, reset_seconds: int, retry_after: int) -> None:
        # Spelled out: a dataclass's generated __init__ stays interpreted where this is compiled.
        self.allowed = allowed
        self.remaining = remaining
        self.reset_seconds = reset_seconds
        self.retry_after = retry_after


class TokenBuckets:
    """One bucket per key; ``rate`` tokens per second up to ``burst``. ``rate == 0`` is unlimited."""

    def __init__(self, clock: Clock, rate: float, burst: int, max_keys: int = 200_000) -> None:
        self.clock = clock
        self.rate = rate
        self.burst = max(1, burst)
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0

    @property
    def window_seconds(self) -> int:
        return max(1, math.ceil(self.burst / self.rate)) if self.rate > 0 else 1

    def take(self, key: str) -> Decision:
        if self.unlimited:
            return Decision(True, self.burst, 0, 0)
        now = self.clock.monotonic()
        tokens = self._level(key, now)
        if tokens >= 1.0:
            tokens -= 1.0
            allowed = True
        else:
            allowed = False
        if len(self._buckets) >= self.max_keys and key not in self._buckets:
            self._forget_full(now)
        self._buckets[key] = (tokens, now)
        return self._decision(allowed, tokens)

    def peek(self, key: str) -> Decision:
        """Whether ``take`` would allow one now, taking nothing."""
        if self.unlimited:
            return Decision(True, self.burst, 0, 0)
        tokens = self._level(key, self.clock.monotonic())
        return self._decision(tokens >= 1.0, tokens)

    def _level(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - at) * self.rate)

    def _decision(self, allowed: bool, tokens: float) -> Decision:
        missing = self.burst - tokens
        reset = math.ceil(missing / self.rate) if missing > 0 else 0
        retry = 0 if allowed else max(1, math.ceil((1.0 - tokens) / self.rate))
        return Decision(allowed, int(tokens), reset, retry)

    def waiting(self, key: str) -> int:
        """Seconds until ``key`` may take a token (0: now), without taking one."""
        if self.unlimited:
            return 0
        now = self.clock.monotonic()
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        return 0 if tokens >= 1.0 else max(1, math.ceil((1.0 - tokens) / self.rate))

    def _forget_full(self, now: float) -> None:
        full = [k for k, (t, at) in self._buckets.items() if t + (now - at) * self.rate >= self.burst]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) >= self.max_keys:
            self._buckets.clear()
