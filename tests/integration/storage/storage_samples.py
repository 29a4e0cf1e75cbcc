"""Small builders of the domain objects the storage tests store."""

from __future__ import annotations

from typing import Any

from parley.domain.accounts import AccessToken, ApiKey, OAuthClient, Organization, User
from parley.domain.interactions import ChannelType, EntityType, Interaction, Message, MessageKind
from parley.service.ports import IdempotencyRecord

ORG = "acme"


def organization(org_id: str = ORG, at: float = 1.0) -> Organization:
    return Organization(org_id, at)


def client(client_id: str = "cli_1", org_id: str = ORG, **changes: Any) -> OAuthClient:
    fields: dict[str, Any] = {"secret_hash": "h" + client_id, "scopes": frozenset({"messagingapi"})}
    return OAuthClient(client_id, org_id, created_at=2.0, **(fields | changes))


def api_key(key_id: str = "key_1", key_hash: str = "hash_1", org_id: str = ORG) -> ApiKey:
    return ApiKey(key_id, org_id, key_hash, created_at=3.0, name="ci")


def token(token_hash: str = "tok_1", client_id: str = "cli_1", expires_at: float = 100.0) -> AccessToken:
    scopes = frozenset({"messagingapi", "streamingapi"})
    return AccessToken(token_hash, ORG, client_id, scopes, issued_at=4.0, expires_at=expires_at)


def user(user_id: str = "usr_1", email: str = "ann@example.com", org_id: str = ORG, **changes: Any) -> User:
    fields: dict[str, Any] = {"first_name": "Ann", "last_name": "Lee", "preferred_name": "", "created_at": 5.0}
    return User(user_id, org_id, email=email, **(fields | changes))


def interaction(interaction_id: str = "int_1", org_id: str = ORG, created_at: float = 6.0) -> Interaction:
    return Interaction(
        interaction_id,
        org_id,
        ChannelType.CHAT,
        contact_id="con_1",
        contact_name="Carl",
        created_at=created_at,
        contact_email="carl@example.com",
        contact_data={"plan": "gold", "tags": ["vip", 3], "nested": {"ok": True}},
    )


def message(seq: int, interaction_id: str = "int_1", message_id: str | None = None) -> Message:
    return Message(
        message_id or f"msg_{interaction_id}_{seq}",
        ORG,
        interaction_id,
        seq,
        MessageKind.TEXT,
        f"hello {seq}",
        EntityType.AGENT,
        "Ann",
        "usr_1",
        sent_at=7.0 + seq,
    )


def idempotency(key: str = "idem_1", api_key_id: str = "key_1", created_at: float = 8.0) -> IdempotencyRecord:
    headers = (("content-type", "application/json"), ("x-request-id", key))
    return IdempotencyRecord(api_key_id, key, "fp_" + key, 202, headers, b'{"ok": true}\x00\xff', created_at)
