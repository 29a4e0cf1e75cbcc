"""Console sign-in (contract 12): passwords, invitations, signed-in consoles and the short user
tokens they mint.

A signed-in console holds one secret, in an HttpOnly cookie that page scripts cannot read. The
secret only mints access tokens of a few minutes, bound to the user; its API key is derived from
it, so nothing long-lived needs to be stored in a readable form. Signing out revokes the
console, its API key and every token it minted.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass
from typing import Final

import argon2

from parley.clock import Clock
from parley.domain.accounts import AccessToken, ApiKey, ConsoleSession, Invite, Scope, User
from parley.domain.errors import InvalidRequest, NotFound, Problem, RateLimited, Unauthenticated
from parley.domain.ids import hash_secret, new_id, new_secret
from parley.service.accounts import Accounts
from parley.service.ports import Store
from parley.service.ratelimit import TokenBuckets
from parley.service.tokens import Authenticator

CONSOLE_SCOPES: Final = frozenset({Scope.MESSAGING.value, Scope.STREAMING.value, Scope.ENGAGEMENT_CENTER.value})
TOKEN_SECONDS: Final = 600
SESSION_SECONDS: Final = 12 * 3600  # a working day: a reload keeps the console signed in
INVITE_SECONDS: Final = 24 * 3600
PASSWORD_MIN: Final = 10
PASSWORD_MAX: Final = 256
# Failed sign-ins allowed: a burst, then one more per interval (seconds); per account and per address.
ACCOUNT_FAILURES: Final = (5, 60.0)
ADDRESS_FAILURES: Final = (20, 15.0)
SIGN_IN_FAILED: Final = "the email or password is wrong, or there were too many attempts; try again later"

_hasher: Final = argon2.PasswordHasher()  # argon2id with the library's RFC 9106 parameters
# Verified when there is no such user, so a wrong email costs as long as a wrong password.
_NO_USER_HASH: Final = _hasher.hash(new_secret("none"))


@dataclass(frozen=True, slots=True)
class MintedToken:
    user: User
    access_token: str
    api_key: str
    expires_in: int


def check_password(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidRequest.of(
            "password", "invalidPassword", f"a password is {PASSWORD_MIN} to {PASSWORD_MAX} characters"
        )


def console_api_key(secret: str) -> str:
    """The console's API key, derived from its secret: recomputed at each mint, never stored."""
    digest = hmac.new(secret.encode(), b"console api key", hashlib.sha256).hexdigest()
    return f"pak_{digest}"


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def _failed(retry_after: int | None = None) -> Unauthenticated | RateLimited:
    problem = Problem("credentials", "signInFailed", SIGN_IN_FAILED)
    return Unauthenticated(problem) if retry_after is None else RateLimited(problem, retry_after=retry_after)


class SignIn:
    def __init__(self, store: Store, clock: Clock, accounts: Accounts, auth: Authenticator) -> None:
        self.store = store
        self.clock = clock
        self.accounts = accounts
        self.auth = auth
        burst, every = ACCOUNT_FAILURES
        self._account_failures = TokenBuckets(clock, 1 / every, burst)
        burst, every = ADDRESS_FAILURES
        self._address_failures = TokenBuckets(clock, 1 / every, burst)

    async def user_by_email(self, org_id: str, email: str) -> User | None:
        page = await self.accounts.find_users(org_id, email.strip(), None, 1, None)
        return page.users[0] if page.users else None

    async def _require_by_email(self, org_id: str, email: str) -> User:
        await self.accounts.require_organization(org_id)
        user = await self.user_by_email(org_id, email)
        if user is None:
            raise NotFound.of("email", "notFound", f"organization {org_id} has no user with email {email}")
        return user

    # -- passwords and invitations (the operator's side) -------------------------------------------
    async def set_password(self, org_id: str, email: str, password: str) -> User:
        check_password(password)
        user = await self._require_by_email(org_id, email)
        await self._store_password(user, password)
        return user

    async def _store_password(self, user: User, password: str) -> None:
        password_hash = await asyncio.to_thread(_hasher.hash, password)
        await self.store.set_password(user.org_id, user.user_id, password_hash, self.clock.now())

    async def invite(self, org_id: str, email: str) -> tuple[User, str]:
        """A one-time secret for the invitation link, valid 24 h."""
        user = await self._require_by_email(org_id, email)
        secret = new_secret("inv")
        now = self.clock.now()
        await self.store.add_invite(Invite(hash_secret(secret), org_id, user.user_id, now, now + INVITE_SECONDS))
        return user, secret

    async def accept_invite(self, secret: str, password: str) -> User:
        check_password(password)
        invite = await self.store.use_invite(hash_secret(secret), self.clock.now())
        if invite is None:
            raise Unauthenticated.of("token", "invalidInvite", "this invitation is unknown, used or expired")
        user = await self.accounts.require_user(invite.org_id, invite.user_id)
        await self._store_password(user, password)
        return user

    # -- the console's side ----------------------------------------------------------------------
    async def sign_in(self, org_id: str, email: str, password: str, client_ip: str) -> tuple[str, User]:
        """The new console's secret and its user; one generic failure whatever was wrong."""
        account = f"{org_id}|{email.strip().lower()}"
        for buckets, counted in ((self._account_failures, account), (self._address_failures, client_ip)):
            waiting = buckets.waiting(counted)
            if waiting:
                raise _failed(waiting)
        user = await self.user_by_email(org_id, email) if await self.store.get_organization(org_id) else None
        stored = None if user is None else await self.store.get_password(org_id, user.user_id)
        matches = await asyncio.to_thread(_verify, stored or _NO_USER_HASH, password)
        if user is None or stored is None or not matches:
            self._account_failures.take(account)
            self._address_failures.take(client_ip)
            raise _failed()
        secret = new_secret("pcs")
        now = self.clock.now()
        key = ApiKey(new_id("key"), org_id, hash_secret(console_api_key(secret)), now, f"console {user.user_id}")
        await self.store.add_api_key(key)
        await self.store.add_console_session(
            ConsoleSession(
                new_id("csn"), hash_secret(secret), org_id, user.user_id, key.key_id, now, now + SESSION_SECONDS
            )
        )
        return secret, user

    async def _session(self, secret: str | None) -> ConsoleSession:
        session = None if not secret else await self.store.get_console_session(hash_secret(secret))
        if session is None or not session.is_valid_at(self.clock.now()):
            raise Unauthenticated.of("cookie", "notSignedIn", "sign in to the console")
        return session

    async def mint(self, secret: str | None) -> MintedToken:
        """A short access token acting only as the console's user, with the console's API key."""
        session = await self._session(secret)
        assert secret is not None
        user = await self.accounts.require_user(session.org_id, session.user_id)
        value = new_secret("pat")
        now = self.clock.now()
        token = AccessToken(
            hash_secret(value), session.org_id, session.session_id, CONSOLE_SCOPES, now, now + TOKEN_SECONDS,
            user_id=user.user_id,
        )  # fmt: skip
        await self.store.add_token(token)
        return MintedToken(user, value, console_api_key(secret), TOKEN_SECONDS)

    async def sign_out(self, secret: str | None) -> None:
        session = await self._session(secret)
        now = self.clock.now()
        await self.store.revoke_console_session(session.session_id, now)
        await self.store.revoke_api_key(session.api_key_id, now)
        await self.store.revoke_tokens_of_client(session.session_id, now)
        self.auth.forget()
