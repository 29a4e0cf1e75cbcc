"""Event names and payloads (contract section 5). Pure: builds dicts, publishes nothing."""

from __future__ import annotations

from typing import Any, Final

from parley.clock import iso
from parley.domain.interactions import EntityType, Interaction, Message, MessageKind
from parley.domain.typing import Typist

OFFERED: Final = "engagementCenter.Offered"
ACCEPT_TIMEOUT: Final = "engagementCenter.AcceptCallTimeout"
ACTIVE: Final = "engagementCenter.Active"
DISCONNECTED: Final = "engagementCenter.Disconnected"
TEXT: Final = "messaging.Text"
URL: Final = "messaging.Url"
NOTIFICATION: Final = "messaging.Notification"
DELIVERY_STATUS: Final = "messaging.DeliveryStatus"
RESET: Final = "streaming.Reset"


def user_owner(user_id: str) -> str:
    return f"user:{user_id}"


def contact_owner(contact_id: str) -> str:
    return f"contact:{contact_id}"


def audience(interaction: Interaction, *, contact: bool, exclude: str | None = None) -> list[str]:
    """Streaming owners that should see an interaction's event: its users, maybe its contact."""
    owners = [user_owner(u) for u in interaction.user_ids]
    if contact and interaction.contact_id:
        owners.append(contact_owner(interaction.contact_id))
    if exclude is not None:
        owners = [o for o in owners if o != exclude]
    return owners


def message_event(message: Message, interaction: Interaction) -> tuple[str, dict[str, Any]]:
    payload: dict[str, Any] = {
        "interactionId": message.interaction_id,
        "messageId": message.message_id,
        "channelType": str(interaction.channel_type),
        "entityName": message.entity_name,
        "entityType": str(message.entity_type),
    }
    if message.user_id is not None:
        payload["userId"] = message.user_id
    if message.kind is MessageKind.TEXT:
        payload["text"] = message.body
        name = TEXT
    else:
        payload["url"] = message.body
        name = URL
    payload["sentTime"] = iso(message.sent_at)
    return name, payload


def typing_payload(
    interaction_id: str,
    typist: Typist,
    state: str,
    expires_after: int | None = None,
    expires_at: float | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "interactionId": interaction_id,
        "entityName": typist.entity_name,
        "entityType": str(typist.entity_type),
    }
    if typist.user_id:
        payload["userId"] = typist.user_id
    payload["state"] = state
    if expires_after is not None:
        payload["expiresAfterSeconds"] = expires_after
    if expires_at is not None:
        payload["expiresTime"] = iso(expires_at)
    return payload


def offered_payload(interaction: Interaction, offer_timeout: float) -> dict[str, Any]:
    return {
        "interactionId": interaction.interaction_id,
        "ehubSessionId": interaction.ehub_session_id,
        "channelType": str(interaction.channel_type),
        "contactName": interaction.contact_name,
        "contactAddress": interaction.contact_address,
        "offerTimeoutSeconds": int(offer_timeout),
    }


def active_payload(interaction: Interaction, user_id: str, entity_name: str, entity_type: EntityType) -> dict[str, Any]:
    return {
        "interactionId": interaction.interaction_id,
        "userId": user_id,
        "entityName": entity_name,
        "entityType": str(entity_type),
        "channelType": str(interaction.channel_type),
    }


def disconnected_payload(interaction_id: str, by: EntityType, reason: str) -> dict[str, Any]:
    return {"interactionId": interaction_id, "disconnectedBy": str(by), "reason": reason}


def delivery_status_payload(
    interaction_id: str, message_id: str, status: str, segments: int, error_code: int | None, reason: str | None
) -> dict[str, Any]:
    """An SMS's fate: ``errorCode`` is the gateway's own code, ``reason`` says why it failed."""
    payload: dict[str, Any] = {
        "interactionId": interaction_id,
        "messageId": message_id,
        "channelType": "sms",
        "status": status,
        "segments": segments,
        "errorCode": error_code,
    }
    if reason is not None:
        payload["reason"] = reason
    return payload
