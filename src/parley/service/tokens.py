"""The OAuth2 client-credentials token service (contract 1.2) and token/API-key checks (1.3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from parley.clock import Clock
from parley.domain.accounts import AccessToken, ApiKey, OAuthClient, Principal
from parley.domain.errors import Unauthenticated
from parley.domain.ids import hash_secret, new_secret, secret_matches
from parley.service.cache import ExpiringCache
from parley.service.ports import Store
from parley.service.ratelimit import Decision, TokenBuckets

TOKEN_LIFETIME_SECONDS: Final = 3600
EXPIRES_IN_SECONDS: Final = 3599  # what the token endpoint advertises, as Alvaria does


# A limit's name, its buckets and where the caller stands in them (for the RateLimit headers).
LimitState = tuple[str, TokenBuckets, Decision]


class OAuthError(Exception):
    """An RFC 6749 section 5.2 error (or a 429 of the failure limits, with ``retry_after``)."""

    def __init__(
        self, status: int, error: str, description: str, limits: tuple[LimitState, ...] = (), retry_after: int = 0
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.limits = limits
        self.retry_after = retry_after


class FailedAuthentications:
    """Failed client authentications, counted per client id and per client IP. Once either has
    none left, a request is refused before its secret is looked at, so guessing gains nothing."""

    def __init__(self, clock: Clock, rate: float, burst: int) -> None:
        self.by_client = TokenBuckets(clock, rate, burst)
        self.by_address = TokenBuckets(clock, rate, burst)

    def _counted(self, client_id: str | None, client_ip: str) -> list[tuple[str, TokenBuckets, str]]:
        counted = [("address", self.by_address, client_ip)]
        if client_id:
            counted.insert(0, ("client", self.by_client, client_id))
        return counted

    def check(self, client_id: str | None, client_ip: str) -> None:
        for name, buckets, key in self._counted(client_id, client_ip):
            decision = buckets.peek(key)
            if not decision.allowed:
                raise OAuthError(
                    429,
                    "too_many_attempts",
                    f"too many failed authentications from this {name}; retry in {decision.retry_after} s",
                    ((name, buckets, decision),),
                    decision.retry_after,
                )

    def failed(self, client_id: str | None, client_ip: str, description: str) -> OAuthError:
        """Count a failure; the 401 to answer, saying how many attempts are left."""
        limits = tuple((name, b, b.take(key)) for name, b, key in self._counted(client_id, client_ip))
        return OAuthError(401, "invalid_client", description, limits)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    scopes: frozenset[str]
    expires_in: int


class TokenService:
    def __init__(self, store: Store, clock: Clock, failures: FailedAuthentications, cache_seconds: float = 0.0) -> None:
        self.store = store
        self.clock = clock
        self.failures = failures
        # A client's record is read once per cache period, not once per token: a revocation
        # made by another process takes effect within it, as for access tokens.
        self._clients: ExpiringCache[str, OAuthClient | None] = ExpiringCache(clock, cache_seconds)

    async def issue(
        self,
        realm: str | None,
        grant_type: str | None,
        client_id: str | None,
        client_secret: str | None,
        scope: str | None,
        client_ip: str,
    ) -> IssuedToken:
        if not realm:
            raise OAuthError(400, "invalid_request", "realm (the organization id) is required")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "grant_type is required")
        if grant_type != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", "only client_credentials is supported")
        self.failures.check(client_id, client_ip)
        if not client_id or not client_secret:
            raise self.failures.failed(client_id, client_ip, "client authentication is required")
        client = await self._client(client_id)
        if (
            client is None
            or not client.is_live
            or client.org_id != realm
            or not secret_matches(client_secret, client.secret_hash)
        ):
            raise self.failures.failed(client_id, client_ip, "client authentication failed")
        if scope is None or not scope.strip():
            granted = client.scopes
        else:
            requested = frozenset(scope.split())
            if not requested <= client.scopes:
                missing = " ".join(sorted(requested - client.scopes))
                raise OAuthError(400, "invalid_scope", f"the client may not request: {missing}")
            granted = requested
        value = new_secret("pat")
        now = self.clock.now()
        await self.store.add_token(
            AccessToken(hash_secret(value), realm, client.client_id, granted, now, now + TOKEN_LIFETIME_SECONDS)
        )
        return IssuedToken(value, granted, EXPIRES_IN_SECONDS)

    async def _client(self, client_id: str) -> OAuthClient | None:
        hit, client = self._clients.get(client_id)
        if not hit:
            client = await self.store.get_client(client_id)
            self._clients.put(client_id, client)
        return client


def _unauth(scope: str, reason: str, message: str) -> Unauthenticated:
    return Unauthenticated.of(scope, reason, message)


class Authenticator:
    """Turns the Authorization and x-api-key headers into an immutable Principal."""

    def __init__(self, store: Store, clock: Clock, cache_seconds: float) -> None:
        self.store = store
        self.clock = clock
        self._tokens: ExpiringCache[str, AccessToken | None] = ExpiringCache(clock, cache_seconds)
        self._keys: ExpiringCache[str, ApiKey | None] = ExpiringCache(clock, cache_seconds)
        # By the headers exactly as sent: a desktop repeats the same pair on every request, so
        # most requests are one dictionary lookup, with no digest computed.
        self._pairs: ExpiringCache[tuple[str, str | None], tuple[AccessToken | None, ApiKey | None]] = ExpiringCache(
            clock, cache_seconds
        )

    async def authenticate(self, org_id: str, authorization: str | None, api_key: str | None, scope: str) -> Principal:
        if not authorization:
            raise _unauth("authorization", "missingToken", "the Authorization header is required")
        _, pair = self._pairs.get((authorization, api_key))
        if pair is None:
            pair = await self._resolve(authorization, api_key)
        token, key = pair
        if token is None or not token.is_valid_at(self.clock.now()) or token.org_id != org_id:
            raise _unauth("authorization", "invalidToken", "the access token is unknown, expired or revoked")
        if scope not in token.scopes:
            raise _unauth("authorization", "insufficientScope", f"the access token lacks the scope {scope}")
        if not api_key:
            raise _unauth("x-api-key", "missingApiKey", "the x-api-key header is required")
        if key is None or not key.is_live or key.org_id != org_id:
            raise _unauth("x-api-key", "invalidApiKey", "the API key is not a live key of this organization")
        return Principal(org_id, token.client_id, token.scopes, key.key_id, token.user_id)

    async def _resolve(self, authorization: str, api_key: str | None) -> tuple[AccessToken | None, ApiKey | None]:
        kind, _, value = authorization.partition(" ")
        value = value.strip()
        if kind.lower() != "bearer" or not value:
            raise _unauth("authorization", "invalidToken", "use 'Authorization: Bearer <access token>'")
        pair = (await self._token(value), await self._api_key(api_key) if api_key else None)
        self._pairs.put((authorization, api_key), pair)
        return pair

    async def _token(self, value: str) -> AccessToken | None:
        digest = hash_secret(value)
        hit, token = self._tokens.get(digest)
        if not hit:
            token = await self.store.get_token(digest)
            self._tokens.put(digest, token)
        return token

    async def _api_key(self, value: str) -> ApiKey | None:
        digest = hash_secret(value)
        hit, key = self._keys.get(digest)
        if not hit:
            key = await self.store.get_api_key_by_hash(digest)
            self._keys.put(digest, key)
        return key

    def forget(self) -> None:
        """Drop cached credentials (after a revocation in this process)."""
        self._tokens.clear()
        self._keys.clear()
        self._pairs.clear()
