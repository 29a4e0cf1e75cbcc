"""Use cases for organizations, credentials and users (contract sections 1.1 and 8)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from parley.clock import Clock
from parley.domain.accounts import (
    ALL_SCOPES,
    ApiKey,
    OAuthClient,
    Organization,
    Role,
    User,
    check_org_id,
)
from parley.domain.errors import AlreadyExists, InvalidRequest, NotFound
from parley.domain.ids import hash_secret, new_id, new_secret
from parley.service import lifecycle
from parley.service.ports import Store, UserPage


@dataclass(frozen=True, slots=True)
class IssuedClient:
    client: OAuthClient
    secret: str  # shown once


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    key: ApiKey
    value: str  # shown once


@dataclass(frozen=True, slots=True)
class NewUser:
    first_name: str
    last_name: str
    email: str
    preferred_name: str = ""
    roles: tuple[str, ...] = (Role.AGENT.value,)


class Accounts:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._users: dict[tuple[str, str], User] = {}  # users are immutable once created

    async def create_organization(self, org_id: str) -> Organization:
        org = Organization(check_org_id(org_id), self.clock.now())
        try:
            await self.store.add_organization(org)
        except AlreadyExists:
            raise AlreadyExists.of("orgId", "duplicateOrganization", f"organization {org_id} already exists") from None
        return org

    async def clients(self, org_id: str) -> list[OAuthClient]:
        await self.require_organization(org_id)
        return await self.store.list_clients(org_id)

    async def api_keys(self, org_id: str) -> list[ApiKey]:
        await self.require_organization(org_id)
        return await self.store.list_api_keys(org_id)

    async def require_organization(self, org_id: str) -> Organization:
        org = await self.store.get_organization(org_id)
        if org is None:
            raise NotFound.of("orgId", "notFound", f"organization {org_id} does not exist")
        return org

    async def create_client(self, org_id: str, scopes: Iterable[str] = ALL_SCOPES, name: str = "") -> IssuedClient:
        await self.require_organization(org_id)
        wanted = frozenset(scopes)
        unknown = wanted - ALL_SCOPES
        if unknown or not wanted:
            raise InvalidRequest.of(
                "scopes", "invalidScope", f"scopes must be a non-empty subset of {sorted(ALL_SCOPES)}"
            )
        secret = new_secret("pcs")
        client = OAuthClient(new_id("cli"), org_id, hash_secret(secret), wanted, self.clock.now(), name)
        await self.store.add_client(client)
        lifecycle.credential("created", "client", client.client_id, org_id)
        return IssuedClient(client, secret)

    async def revoke_client(self, client_id: str) -> None:
        now = self.clock.now()
        if not await self.store.revoke_client(client_id, now):
            raise NotFound.of("clientId", "notFound", f"client {client_id} does not exist")
        await self.store.revoke_tokens_of_client(client_id, now)
        lifecycle.credential("revoked", "client", client_id)

    async def rotate_client_secret(self, client_id: str) -> str:
        """A new secret for a live client (shown once); the old one and every token it got stop working."""
        secret = new_secret("pcs")
        if not await self.store.set_client_secret(client_id, hash_secret(secret)):
            raise NotFound.of("clientId", "notFound", f"no live client {client_id}")
        await self.store.revoke_tokens_of_client(client_id, self.clock.now())
        lifecycle.credential("rotated", "client", client_id)
        return secret

    async def create_api_key(self, org_id: str, name: str = "") -> IssuedApiKey:
        await self.require_organization(org_id)
        value = new_secret("pak")
        key = ApiKey(new_id("key"), org_id, hash_secret(value), self.clock.now(), name)
        await self.store.add_api_key(key)
        lifecycle.credential("created", "apiKey", key.key_id, org_id)
        return IssuedApiKey(key, value)

    async def revoke_api_key(self, key_id: str) -> None:
        if not await self.store.revoke_api_key(key_id, self.clock.now()):
            raise NotFound.of("keyId", "notFound", f"API key {key_id} does not exist")
        lifecycle.credential("revoked", "apiKey", key_id)

    async def create_user(self, org_id: str, new: NewUser) -> User:
        await self.require_organization(org_id)
        roles = tuple(dict.fromkeys(new.roles)) or (Role.AGENT.value,)
        user = User(
            user_id=new_id("usr"),
            org_id=org_id,
            first_name=new.first_name.strip(),
            last_name=new.last_name.strip(),
            preferred_name=new.preferred_name.strip(),
            email=new.email.strip(),
            roles=roles,
            created_at=self.clock.now(),
        )
        await self.store.add_user(user)
        return user

    async def require_user(self, org_id: str, user_id: str) -> User:
        user = self._users.get((org_id, user_id))
        if user is None:
            user = await self.store.get_user(org_id, user_id)
            if user is not None:
                self._users[(org_id, user_id)] = user
        if user is None:
            raise NotFound.of("userId", "notFound", f"user {user_id} does not exist")
        return user

    async def find_users(
        self,
        org_id: str,
        email: str | None,
        name: str | None,
        limit: int,
        continuation_token: str | None,
    ) -> UserPage:
        return await self.store.find_users(
            org_id, email=email, name_contains=name, limit=limit, continuation_token=continuation_token
        )
