"""The customer side of web chat: web tokens and starting a chat (contract 7)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Final

import jwt

from parley.clock import Clock
from parley.domain.errors import Unauthenticated
from parley.domain.ids import new_id
from parley.domain.interactions import ChannelType, Interaction
from parley.service.accounts import Accounts
from parley.service.cache import ExpiringCache
from parley.service.engagement import Engagement
from parley.service.interactions import InteractionBook
from parley.service.ports import Store

WEB_TOKEN_LIFETIME: Final = 3600  # default; PARLEY_WEB_TOKEN_SECONDS
SIGNING_KEY_NAME: Final = "webtoken-signing-key"
ALGORITHM: Final = "HS256"


@dataclass(frozen=True, slots=True)
class WebToken:
    token: str
    contact_id: str
    expires_at: float


def _invalid(message: str) -> Unauthenticated:
    return Unauthenticated.of("authorization", "invalidToken", message)


class WebChat:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        accounts: Accounts,
        book: InteractionBook,
        engagement: Engagement,
        token_seconds: int = WEB_TOKEN_LIFETIME,
    ) -> None:
        self.store = store
        self.clock = clock
        self.accounts = accounts
        self.book = book
        self.engagement = engagement
        self.token_seconds = token_seconds
        self._key = ""
        # Tokens whose signature was checked: (org id, contact id, expiry). A customer's page
        # repeats its token on every poll and message, and checking an HS256 signature costs
        # more than the rest of a poll.
        self._verified: ExpiringCache[str, tuple[str, str, float]] = ExpiringCache(clock, token_seconds)

    async def start(self) -> None:
        self._key = await self.store.get_or_create_secret(SIGNING_KEY_NAME, secrets.token_urlsafe(48))

    async def issue_token(self, org_id: str, contact_id: str | None = None) -> WebToken:
        """A web token for a new customer, or, given the contact id of a valid token, a renewed
        one for the same customer (so a chat may outlast one token)."""
        await self.accounts.require_organization(org_id)
        now = int(self.clock.now())
        contact_id = contact_id or new_id("ctc")
        expires = now + self.token_seconds
        claims = {"sub": contact_id, "org": org_id, "typ": "webchat", "iat": now, "exp": expires, "jti": new_id("wtk")}
        return WebToken(jwt.encode(claims, self._key, algorithm=ALGORITHM), contact_id, expires)

    def verify(self, org_id: str, authorization: str | None) -> str:
        """The contact id the web token stands for."""
        if not authorization:
            raise Unauthenticated.of("authorization", "missingToken", "the Authorization header is required")
        kind, _, token = authorization.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise _invalid("use 'Authorization: Bearer <tokenId>'")
        token = token.strip()
        _, known = self._verified.get(token)
        if known is None:
            known = self._check_signature(token)
        token_org, contact_id, expires_at = known
        if token_org != org_id:
            raise _invalid("the web token is not valid for this organization")
        if expires_at <= self.clock.now():
            raise _invalid("the web token has expired")
        return contact_id

    def _check_signature(self, token: str) -> tuple[str, str, float]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "sub", "org"], "verify_exp": False},
            )
        except jwt.InvalidTokenError:
            raise _invalid("the web token is not valid") from None
        if claims.get("typ") != "webchat":
            raise _invalid("the web token is not valid for this organization")
        known = (str(claims["org"]), str(claims["sub"]), float(claims["exp"]))
        self._verified.put(token, known)
        return known

    async def start_chat(
        self, org_id: str, contact_id: str, name: str, email: str, data: dict[str, Any]
    ) -> Interaction:
        interaction = Interaction(
            interaction_id=new_id("int"),
            org_id=org_id,
            channel_type=ChannelType.CHAT,
            contact_id=contact_id,
            contact_name=name,
            created_at=self.clock.now(),
            contact_address=email,
            contact_email=email,
            contact_data=data,
        )
        await self.book.add(interaction)
        await self.engagement.enqueue(interaction)
        return interaction
