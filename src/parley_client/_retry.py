"""When to try a request again, and how long to wait first.

Every POST carries an ``Idempotency-Key`` that stays the same across its retries, so the
server answers a repeated send with the first answer instead of delivering it twice.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

import httpx

from parley_client._exceptions import retry_after_seconds

IDEMPOTENCY_HEADER = "Idempotency-Key"


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Retries:
    """Exponential backoff with full jitter, honouring ``Retry-After``.

    ``attempts`` is how many times a request is repeated after its first try (0 = never).
    A ``Retry-After`` longer than ``max_retry_after`` is not waited for: the error is raised.
    """

    attempts: int = 3
    backoff: float = 0.25
    max_backoff: float = 8.0
    max_retry_after: float = 60.0
    statuses: frozenset[int] = frozenset({429, 502, 503, 504})

    def backoff_delay(self, attempt: int) -> float:
        """The jittered wait before repeat number ``attempt + 1``."""
        ceiling = min(self.max_backoff, self.backoff * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    def after_response(self, attempt: int, response: httpx.Response) -> float | None:
        """Seconds to wait before repeating a request that got ``response``, or None to give up."""
        if attempt >= self.attempts or response.status_code not in self.statuses:
            return None
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        if retry_after is None:
            return self.backoff_delay(attempt)
        if retry_after > self.max_retry_after:
            return None
        return max(retry_after, self.backoff_delay(attempt))

    def after_error(self, attempt: int, error: httpx.TransportError) -> float | None:
        """Seconds to wait before repeating a request that failed in transit, or None to give up.

        Safe for every method here: GETs and DELETEs are idempotent and POSTs carry a key.
        """
        if attempt >= self.attempts or isinstance(error, httpx.UnsupportedProtocol | httpx.ProxyError):
            return None
        return self.backoff_delay(attempt)


NO_RETRIES = Retries(attempts=0)
