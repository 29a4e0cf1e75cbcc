"""Safe retries: the first 2xx answer to a request with an ``Idempotency-Key`` is remembered and
replayed to a retry (kept 24 hours, see ``bootstrap``).

A retry is the same request when its method, path and decoded body are the same: JSON that
differs only in whitespace or key order replays; another value is refused with 422
``idempotencyKeyReused`` (as Stripe compares parameters).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable
from typing import Final

import msgspec

from parley.api.http import Request, Response
from parley.clock import Clock
from parley.domain.errors import AlreadyExists, InvalidRequest, Problem, RuleViolation
from parley.domain.interactions import Message
from parley.service.ports import IdempotencyRecord, Store

MAX_IDEMPOTENCY_KEY: Final = 255


def posted(message: Message) -> Response:
    """The answer to a posted text or URL (contract 3), and so the replay of its retries."""
    return Response(202, b"", [("x-message-id", message.message_id)])


def canonical_body(request: Request) -> bytes:
    """The body as a retry is compared: JSON re-encoded with sorted keys, anything else as sent."""
    if request.content_type == "application/json":
        try:
            return msgspec.json.encode(msgspec.json.decode(request.body), order="sorted")
        except msgspec.DecodeError:
            pass  # the handler refuses it; a retry of the same bytes is the same request
    return request.body


def fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), canonical_body(request)):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


class Claim:
    """A request's key, with the owner it is scoped to (an API key id, or ``contact:<id>``).

    A use case that stores a message hands the claim to the store, which commits the record
    (``record``) with the message so that no retry can post it twice."""

    __slots__ = ("fingerprint", "key", "owner", "stored")

    def __init__(self, owner: str, key: str, fingerprint: str) -> None:
        self.owner = owner
        self.key = key
        self.fingerprint = fingerprint
        self.stored = False

    def remember(self, response: Response, now: float) -> IdempotencyRecord:
        """The replay record of an answer: the one place that turns an answer into a record."""
        return IdempotencyRecord(
            self.owner, self.key, self.fingerprint, response.status, tuple(response.headers), response.body, now
        )

    def record(self, message: Message) -> IdempotencyRecord:
        self.stored = True
        return self.remember(posted(message), message.sent_at)


def replay(record: IdempotencyRecord) -> Response:
    return Response(record.status, record.body, list(record.headers))


class Idempotency:
    """Serialises concurrent requests with one key in this process; the store's unique key does
    the same across processes."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._running: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    def claim(self, request: Request, owner: str) -> Claim | None:
        """The request's claim if it is a POST with an Idempotency-Key (most requests are not:
        they then skip ``run``, a coroutine and a closure)."""
        if request.method != "POST":
            return None
        key = request.headers.get("idempotency-key")
        if key is None:
            return None
        if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
            raise InvalidRequest.of(
                "idempotency-key",
                "invalidIdempotencyKey",
                f"an Idempotency-Key is 1-{MAX_IDEMPOTENCY_KEY} printable characters",
            )
        return Claim(owner, key, fingerprint(request))

    async def run(self, claim: Claim, handler: Callable[[], Awaitable[Response]]) -> Response:
        slot = (claim.owner, claim.key)
        lock, users = self._running.get(slot, (asyncio.Lock(), 0))
        self._running[slot] = (lock, users + 1)
        try:
            async with lock:
                existing = await self.store.get_idempotency(claim.owner, claim.key)
                if existing is not None:
                    return self._answer(existing, claim)
                try:
                    response = await handler()
                except AlreadyExists as exc:
                    # Another process committed a message with this key first: replay its answer.
                    if exc.reason != "idempotencyKeyExists":
                        raise
                    existing = await self.store.get_idempotency(claim.owner, claim.key)
                    if existing is None:
                        raise
                    return self._answer(existing, claim)
                if 200 <= response.status < 300 and not claim.stored:
                    await self._remember(claim, response)
                return response
        finally:
            lock, users = self._running[slot]
            if users == 1:
                del self._running[slot]
            else:
                self._running[slot] = (lock, users - 1)

    def _answer(self, record: IdempotencyRecord, claim: Claim) -> Response:
        if record.fingerprint != claim.fingerprint:
            raise RuleViolation(
                Problem(
                    "idempotency-key",
                    "idempotencyKeyReused",
                    "this Idempotency-Key was used with another method, path or body",
                )
            )
        return replay(record)

    async def _remember(self, claim: Claim, response: Response) -> None:
        # A concurrent request in another process stored it first: its answer is equivalent.
        with contextlib.suppress(AlreadyExists):
            await self.store.put_idempotency(claim.remember(response, self.clock.now()))
