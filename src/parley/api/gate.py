"""What every agent-side request passes before its handler: authentication, rate limit, idempotency.

Everything a handler raises after the gate is rendered here so that the rate-limit headers of
the bucket the request counted against are on every answer (contract 3).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from parley.api.errors import render_error
from parley.api.http import Request, Response
from parley.clock import Clock
from parley.domain.accounts import Principal
from parley.domain.errors import (
    AlreadyExists,
    InvalidRequest,
    ParleyError,
    Problem,
    RateLimited,
    RuleViolation,
)
from parley.service.idempotency import IdempotencyContext, IdempotentReplay, fingerprint
from parley.service.ports import IdempotencyRecord, Store
from parley.service.ratelimit import Decision, TokenBuckets
from parley.service.tokens import Authenticator

MAX_IDEMPOTENCY_KEY: Final = 255


# Immutable through Final, with __init__ spelled out: see "Values on the hot path" in docs/architecture.md.
@dataclass(slots=True, init=False, unsafe_hash=True)
class AgentCall:
    request: Final[Request]
    principal: Final[Principal]
    idempotency: Final[IdempotencyContext | None]

    def __init__(self, request: Request, principal: Principal, idempotency: IdempotencyContext | None) -> None:
        self.request = request
        self.principal = principal
        self.idempotency = idempotency


AgentHandler = Callable[[AgentCall], Awaitable[Response]]


def ratelimit_policy(name: str, buckets: TokenBuckets) -> tuple[str, str]:
    return ("ratelimit-policy", f'"{name}";q={buckets.burst};w={buckets.window_seconds}')


def ratelimit_state(name: str, decision: Decision) -> tuple[str, str]:
    return ("ratelimit", f'"{name}";r={decision.remaining};t={decision.reset_seconds}')


def ratelimit_headers(name: str, buckets: TokenBuckets, decision: Decision) -> list[tuple[str, str]]:
    return [ratelimit_policy(name, buckets), ratelimit_state(name, decision)]


def replay(record: IdempotencyRecord) -> Response:
    return Response(record.status, record.body, list(record.headers))


class Idempotency:
    """Serialises concurrent requests with one key in this process; the store's unique key does
    the same across processes."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._running: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @staticmethod
    def applies(request: Request) -> bool:
        """Whether ``run`` has anything to do: a POST that carries an Idempotency-Key. Callers
        skip it otherwise, which saves a coroutine and a closure on most requests."""
        return request.method == "POST" and "idempotency-key" in request.headers

    async def run(
        self,
        request: Request,
        owner: str,
        handler: Callable[[IdempotencyContext | None], Awaitable[Response]],
    ) -> Response:
        if not self.applies(request):
            return await handler(None)
        key = request.headers["idempotency-key"]
        if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
            raise InvalidRequest.of(
                "idempotency-key",
                "invalidIdempotencyKey",
                f"an Idempotency-Key is 1-{MAX_IDEMPOTENCY_KEY} printable characters",
            )
        ctx = IdempotencyContext(owner, key, fingerprint(request.method, request.path, request.body))
        slot = (owner, key)
        lock, users = self._running.get(slot, (asyncio.Lock(), 0))
        self._running[slot] = (lock, users + 1)
        try:
            async with lock:
                existing = await self.store.get_idempotency(owner, key)
                if existing is not None:
                    return self._answer(existing, ctx)
                try:
                    response = await handler(ctx)
                except IdempotentReplay as exc:
                    return self._answer(exc.record, ctx)
                if 200 <= response.status < 300 and not ctx.stored:
                    await self._remember(ctx, response)
                return response
        finally:
            lock, users = self._running[slot]
            if users == 1:
                del self._running[slot]
            else:
                self._running[slot] = (lock, users - 1)

    def _answer(self, record: IdempotencyRecord, ctx: IdempotencyContext) -> Response:
        if record.fingerprint != ctx.fingerprint:
            raise RuleViolation(
                Problem(
                    "idempotency-key",
                    "idempotencyKeyReused",
                    "this Idempotency-Key was used with another method, path or body",
                )
            )
        return replay(record)

    async def _remember(self, ctx: IdempotencyContext, response: Response) -> None:
        headers = tuple(response.headers)
        # A concurrent request in another process stored it first: its answer is equivalent.
        with contextlib.suppress(AlreadyExists):
            await self.store.put_idempotency(ctx.record(response.status, headers, response.body, self.clock.now()))


class Gate:
    def __init__(
        self,
        auth: Authenticator,
        buckets: TokenBuckets,
        typing_buckets: TokenBuckets,
        idempotency: Idempotency,
    ) -> None:
        self.auth = auth
        self.buckets = buckets
        self.typing_buckets = typing_buckets
        self.idempotency = idempotency

    def agent(
        self, scope: str, handler: AgentHandler, typing: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        buckets = self.typing_buckets if typing else self.buckets
        name = "typing" if typing else "key"

        policy = ratelimit_policy(name, buckets)

        async def guarded(request: Request) -> Response:
            headers = request.headers
            principal = await self.auth.authenticate(
                request.path_params["orgId"], headers.get("authorization"), headers.get("x-api-key"), scope
            )
            decision = buckets.take(principal.api_key_id)
            limit = [policy, ratelimit_state(name, decision)]
            if not decision.allowed:
                limited = RateLimited(
                    Problem("x-api-key", "rateLimited", f"rate limit exceeded; retry in {decision.retry_after} s"),
                    retry_after=decision.retry_after,
                )
                return render_error(limited, limit)
            try:
                if self.idempotency.applies(request):
                    response = await self.idempotency.run(
                        request,
                        principal.api_key_id,
                        lambda idem: handler(AgentCall(request, principal, idem)),
                    )
                else:
                    response = await handler(AgentCall(request, principal, None))
            except ParleyError as exc:
                response = render_error(exc)
            response.headers.extend(limit)
            return response

        return guarded
