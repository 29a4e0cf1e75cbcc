"""What every request of the public API passes before its handler: its policy (an application's
credentials, or a customer's web token), a rate limit, and idempotency.

Everything a handler raises after the gate is rendered here so that the rate-limit headers of
the bucket the request counted against are on every answer (contract 3). The replay record of
an ``Idempotency-Key`` is written here too, from the answer the handler gave: use cases return
domain results and never see a status or a header.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from parley.api.errors import render_error
from parley.api.http import Handler, Request, Response
from parley.api.idempotency import Claim, Idempotency
from parley.domain.accounts import Principal
from parley.domain.errors import ParleyError, Problem, RateLimited
from parley.domain.events import contact_owner
from parley.service.ratelimit import Decision, TokenBuckets
from parley.service.tokens import Authenticator
from parley.service.webchat import WebChat

WEBTOKEN_ORG_FACTOR: Final = 10  # an org may mint this many times one address's rate


# Immutable through Final, with __init__ spelled out: see "Values on the hot path" in docs/architecture.md.
@dataclass(slots=True, init=False, unsafe_hash=True)
class AgentCall:
    request: Final[Request]
    principal: Final[Principal]
    idempotency: Final[Claim | None]

    def __init__(self, request: Request, principal: Principal, idempotency: Claim | None) -> None:
        self.request = request
        self.principal = principal
        self.idempotency = idempotency


@dataclass(slots=True, init=False, unsafe_hash=True)
class ContactCall:
    request: Final[Request]
    org_id: Final[str]
    contact_id: Final[str]
    idempotency: Final[Claim | None]

    def __init__(self, request: Request, org_id: str, contact_id: str, idempotency: Claim | None) -> None:
        self.request = request
        self.org_id = org_id
        self.contact_id = contact_id
        self.idempotency = idempotency


C = TypeVar("C", AgentCall, ContactCall)
AgentHandler = Callable[[AgentCall], Awaitable[Response]]
ContactHandler = Callable[[ContactCall], Awaitable[Response]]


def ratelimit_policy(name: str, buckets: TokenBuckets) -> tuple[str, str]:
    return ("ratelimit-policy", f'"{name}";q={buckets.burst};w={buckets.window_seconds}')


def ratelimit_state(name: str, decision: Decision) -> tuple[str, str]:
    return ("ratelimit", f'"{name}";r={decision.remaining};t={decision.reset_seconds}')


def ratelimit_headers(name: str, buckets: TokenBuckets, decision: Decision) -> list[tuple[str, str]]:
    return [ratelimit_policy(name, buckets), ratelimit_state(name, decision)]


class AgentPolicy:
    """An application's request: a bearer token and an API key that carry the route's scope."""

    def __init__(self, auth: Authenticator) -> None:
        self.auth = auth

    async def principal(self, org_id: str, headers: dict[str, str], scope: str) -> Principal:
        return await self.auth.authenticate(org_id, headers.get("authorization"), headers.get("x-api-key"), scope)


class CustomerPolicy:
    """A customer's request: its web token names the contact; minting tokens is limited per
    address and per organization."""

    def __init__(self, webchat: WebChat, ip_buckets: TokenBuckets, org_buckets: TokenBuckets) -> None:
        self.webchat = webchat
        self.ip_buckets = ip_buckets
        self.org_buckets = org_buckets

    def contact_id(self, org_id: str, headers: dict[str, str]) -> str:
        return self.webchat.verify(org_id, headers.get("authorization"))

    def may_mint(self, org_id: str, client_ip: str) -> None:
        for buckets, key, what in (
            (self.ip_buckets, f"{org_id}|{client_ip}", "this address"),
            (self.org_buckets, org_id, "this organization"),
        ):
            decision = buckets.take(key)
            if not decision.allowed:
                raise RateLimited(
                    Problem("webToken", "rateLimited", f"too many web tokens for {what}; retry later"),
                    retry_after=decision.retry_after,
                )


class Gate:
    def __init__(
        self,
        agents: AgentPolicy,
        customers: CustomerPolicy,
        buckets: TokenBuckets,
        typing_buckets: TokenBuckets,
        idempotency: Idempotency,
    ) -> None:
        self.agents = agents
        self.customers = customers
        self.buckets = buckets
        self.typing_buckets = typing_buckets
        self.idempotency = idempotency

    def agent(self, scope: str, handler: AgentHandler, typing: bool = False) -> Handler:
        """An application's request, limited per API key (typing in a bucket of its own)."""
        buckets = self.typing_buckets if typing else self.buckets
        name = "typing" if typing else "key"
        policy = ratelimit_policy(name, buckets)

        async def guarded(request: Request) -> Response:
            principal = await self.agents.principal(request.path_params["orgId"], request.headers, scope)
            decision = buckets.take(principal.api_key_id)
            limit = [policy, ratelimit_state(name, decision)]
            if not decision.allowed:
                limited = RateLimited(
                    Problem("x-api-key", "rateLimited", f"rate limit exceeded; retry in {decision.retry_after} s"),
                    retry_after=decision.retry_after,
                )
                return render_error(limited, limit)
            try:
                claim = self.idempotency.claim(request, principal.api_key_id)
                response = await self._pass(handler, AgentCall(request, principal, claim), claim)
            except ParleyError as exc:
                response = render_error(exc)
            response.headers.extend(limit)
            return response

        return guarded

    def customer(self, handler: ContactHandler) -> Handler:
        """A customer's request, named by its web token."""

        async def guarded(request: Request) -> Response:
            org_id = request.path_params["orgId"]
            try:
                contact_id = self.customers.contact_id(org_id, request.headers)
                claim = self.idempotency.claim(request, contact_owner(contact_id))
                return await self._pass(handler, ContactCall(request, org_id, contact_id, claim), claim)
            except ParleyError as exc:
                return render_error(exc)

        return guarded

    def minting(self, handler: Handler) -> Handler:
        """The web-token endpoint: anyone may ask, within the minting limits."""

        async def limited(request: Request) -> Response:
            self.customers.may_mint(request.path_params["orgId"], request.client_ip)
            return await handler(request)

        return limited

    def _pass(self, handler: Callable[[C], Awaitable[Response]], call: C, claim: Claim | None) -> Awaitable[Response]:
        # Returns the awaitable instead of awaiting it: one coroutine fewer per request.
        return handler(call) if claim is None else self.idempotency.run(claim, lambda: handler(call))
