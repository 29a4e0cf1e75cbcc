"""Request and response bodies of the contract, as typed structs.

Attributes are snake_case; on the wire they are the contract's camelCase names. Unknown
fields in answers are ignored, so a newer server does not break an older client.
"""

from typing import Any, Literal

import msgspec
from msgspec import Struct

EntityType = Literal["Agent", "Monitor", "System"]
Role = Literal["agent", "supervisor"]


class Model(Struct, rename="camel", kw_only=True, omit_defaults=True):
    """Base of every body: camelCase on the wire."""


# -- messaging (the seed's three bodies) ----------------------------------------------------------
class SendTextParms(Model):
    interaction_id: str
    entity_name: str
    entity_type: EntityType
    text: str


class NotificationParms(Model, omit_defaults=False):
    interaction_id: str
    entity_name: str
    entity_type: EntityType
    state: Literal["composing"] = "composing"
    expires_after_seconds: int = 10


class SendUrlParms(Model):
    interaction_id: str
    entity_name: str
    entity_type: EntityType
    url: str


class SmsPreviewParms(Model):
    text: str


class SmsPreview(Model):
    encoding: str
    segments: int
    characters: int
    characters_forcing_ucs2: list[str] = msgspec.field(default_factory=list)


# -- tokens ----------------------------------------------------------------------------------------
class Token(Struct, kw_only=True):
    """The token service's answer (RFC 6749 names, so no camelCase)."""

    access_token: str
    scope: str = ""
    token_type: str = "Bearer"
    expires_in: int = 3600


# -- provisioning ----------------------------------------------------------------------------------
class User(Model):
    user_id: str
    first_name: str
    last_name: str
    email: str
    preferred_name: str = ""
    roles: list[str] = msgspec.field(default_factory=list)

    @property
    def display_name(self) -> str:
        return self.preferred_name or f"{self.first_name} {self.last_name}".strip()


class UserPage(Model):
    total_items: int
    users: list[User]
    continuation_token: str | None = None


class CreateUser(Model, omit_defaults=False):
    first_name: str
    last_name: str
    email: str
    preferred_name: str = ""
    roles: list[Role] = msgspec.field(default_factory=lambda: ["agent"])


# -- streaming -------------------------------------------------------------------------------------
class CreateSession(Model, omit_defaults=False):
    user_id: str
    inactivity_delay: int = 60
    require_acknowledgement: bool = False


class Session(Model):
    session_id: str
    creation_time: str
    inactivity_delay: int
    require_acknowledgement: bool = False
    user_id: str | None = None


class Acknowledge(Model, omit_defaults=False):
    sequence_number: int


# -- engagement center -----------------------------------------------------------------------------
class Ready(Model, omit_defaults=False):
    max_concurrent: int = 1


class NotReady(Model):
    reason_id: str = ""


class OfferAnswer(Model):
    ehub_session_id: str


class Empty(Model):
    pass


class TranscriptMessage(Model):
    message_id: str
    entity_name: str
    entity_type: str
    sent_time: str
    user_id: str | None = None
    text: str | None = None
    url: str | None = None


class Transcript(Model):
    interaction_id: str
    channel_type: str
    messages: list[TranscriptMessage]


# -- read APIs and transfer (contract 12) ---------------------------------------------------------
class InteractionRecord(Model):
    interaction_id: str
    channel_type: str
    state: str
    contact_name: str
    created_time: str
    contact_address: str = ""
    user_ids: list[str] = msgspec.field(default_factory=list)  # everyone who is or was in it
    accepted_time: str | None = None
    ended_time: str | None = None


class InteractionPage(Model):
    total_items: int
    interactions: list[InteractionRecord]
    continuation_token: str | None = None


class UserState(Model):
    user_id: str
    preferred_name: str
    state: Literal["ready", "notReady"]
    since: str
    max_concurrent: int
    load: int
    reason_id: str | None = None


class UserStateList(Model):
    users: list[UserState]


class Transfer(Model):
    user_id: str | None = None


# -- web chat (the customer side) ------------------------------------------------------------------
class WebToken(Model):
    token_id: str
    expiration_time: str


class StartChat(Model):
    contact_name: str
    contact_email: str | None = None
    contact_data: dict[str, Any] = msgspec.field(default_factory=dict)


class ChatStarted(Model):
    interaction_id: str


class ContactText(Model):
    interaction_id: str
    text: str


class ContactUrl(Model):
    interaction_id: str
    url: str


class ContactNotification(Model, omit_defaults=False):
    interaction_id: str
    state: Literal["composing"] = "composing"
    expires_after_seconds: int = 10


class ContactDisconnect(Model):
    interaction_id: str


# -- outbound webhooks -------------------------------------------------------------------------------
class CreateWebhook(Model):
    url: str
    event_types: list[str]
    description: str = ""


class Webhook(Model):
    """A subscription; ``secret`` is set only in the answers to create and rotate."""

    webhook_id: str
    url: str
    event_types: list[str]
    created_time: str
    description: str = ""
    secret: str | None = None


class WebhookList(Model):
    webhooks: list[Webhook]


class WebhookDelivery(Model):
    delivery_id: str
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    created_time: str
    updated_time: str
    next_attempt_time: str | None = None
    last_status_code: int | None = None
    last_error: str | None = None


class WebhookDeliveryList(Model):
    deliveries: list[WebhookDelivery]
