"""Safe retries: the first 2xx answer to an ``Idempotency-Key`` is remembered for 24 hours."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Final

from parley.service.ports import IdempotencyRecord

RETENTION_SECONDS: Final = 24 * 3600


@dataclass(slots=True)
class IdempotencyContext:
    """A request that carries a key; a use case that stores its own record marks it ``stored``."""

    owner: str  # API key id, or "contact:<id>" on the customer side
    key: str
    fingerprint: str
    stored: bool = field(default=False)

    def record(self, status: int, headers: tuple[tuple[str, str], ...], body: bytes, now: float) -> IdempotencyRecord:
        return IdempotencyRecord(self.owner, self.key, self.fingerprint, status, headers, body, now)


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(method.encode())
    digest.update(b"\0")
    digest.update(path.encode())
    digest.update(b"\0")
    digest.update(body)
    return digest.hexdigest()


class IdempotentReplay(Exception):
    """Another request with the same key committed first; answer with its response."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(record.key)
        self.record = record
