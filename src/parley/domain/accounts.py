"""Organizations and the credentials and people that belong to them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from parley.domain.errors import InvalidRequest


class Scope(StrEnum):
    MESSAGING = "messagingapi"
    STREAMING = "streamingapi"
    ENGAGEMENT_CENTER = "engagementcenterapi"
    PROVISIONING = "provisioningapi"


ALL_SCOPES: Final[frozenset[str]] = frozenset(s.value for s in Scope)


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


ORG_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


def check_org_id(org_id: str) -> str:
    if not ORG_ID_PATTERN.match(org_id):
        raise InvalidRequest.of(
            "orgId",
            "invalidOrgId",
            "an organization id is 1-63 letters, digits, '-' or '_', starting with a letter or digit",
        )
    return org_id


@dataclass(frozen=True, slots=True)
class Organization:
    org_id: str
    created_at: float


@dataclass(frozen=True, slots=True)
class OAuthClient:
    client_id: str
    org_id: str
    secret_hash: str
    scopes: frozenset[str]
    created_at: float
    name: str = ""
    revoked_at: float | None = None

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    org_id: str
    key_hash: str
    created_at: float
    name: str = ""
    revoked_at: float | None = None

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class AccessToken:
    token_hash: str
    org_id: str
    client_id: str
    scopes: frozenset[str]
    issued_at: float
    expires_at: float
    revoked_at: float | None = None
    user_id: str | None = None  # a console token acts only as this user (contract 12)

    def is_valid_at(self, now: float) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    org_id: str
    first_name: str
    last_name: str
    preferred_name: str
    email: str
    roles: tuple[str, ...] = field(default=(Role.AGENT.value,))
    created_at: float = 0.0

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def display_name(self) -> str:
        return self.preferred_name or self.full_name

    @property
    def is_supervisor(self) -> bool:
        return Role.SUPERVISOR.value in self.roles


# Immutable through Final, with __init__ spelled out: see "Values on the hot path" in docs/architecture.md.
@dataclass(slots=True, init=False, unsafe_hash=True)
class Principal:
    """Who is calling an agent-side endpoint, fixed at the edge and passed explicitly."""

    org_id: Final[str]
    client_id: Final[str]
    scopes: Final[frozenset[str]]
    api_key_id: Final[str]
    user_id: Final[str | None]  # set when the credential is bound to one user (a console sign-in)

    def __init__(
        self, org_id: str, client_id: str, scopes: frozenset[str], api_key_id: str, user_id: str | None = None
    ) -> None:
        self.org_id = org_id
        self.client_id = client_id
        self.scopes = scopes
        self.api_key_id = api_key_id
        self.user_id = user_id


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A signed-in console: the cookie's secret (kept as a hash) mints short user tokens."""

    session_id: str
    secret_hash: str
    org_id: str
    user_id: str
    api_key_id: str
    created_at: float
    expires_at: float
    revoked_at: float | None = None

    def is_valid_at(self, now: float) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class Invite:
    """A one-time link where a user chooses a password."""

    invite_hash: str
    org_id: str
    user_id: str
    created_at: float
    expires_at: float
    used_at: float | None = None
