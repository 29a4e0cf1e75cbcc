"""Typed request and response bodies. Field names are the contract's; OpenAPI is generated from these."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from parley.api.validation import NOT_BLANK
from parley.domain.interactions import CHAT_TEXT_LIMIT, ENTITY_NAME_LIMIT, URL_LIMIT
from parley.domain.typing import MAX_EXPIRES_SECONDS
from parley.service.engagement import MAX_CONCURRENT_LIMIT
from parley.service.streaming import MAX_INACTIVITY, MIN_INACTIVITY

EntityName = Annotated[str, Meta(max_length=ENTITY_NAME_LIMIT)]
Id = Annotated[str, Meta(min_length=1, max_length=128)]
HttpUrl = Annotated[str, Meta(max_length=URL_LIMIT, pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#@]+(?:[/?#]\S*)?$")]
UserEntityType = Literal["Agent", "Monitor", "System"]
# Longer texts are well-formed but refused per channel (422 textTooLong); this only bounds work.
Text = Annotated[str, Meta(min_length=1, max_length=16 * CHAT_TEXT_LIMIT), NOT_BLANK]


# -- the seed's three bodies --------------------------------------------------------------------
class SendTextParms(Struct):
    interactionId: Id
    entityName: EntityName
    entityType: UserEntityType
    text: Text


class NotificationParms(Struct):
    interactionId: Id
    entityName: EntityName
    entityType: UserEntityType
    state: Literal["composing"]
    expiresAfterSeconds: Annotated[int, Meta(ge=1, le=MAX_EXPIRES_SECONDS)] = 10


class SendUrlParms(Struct):
    interactionId: Id
    entityName: EntityName
    entityType: UserEntityType
    url: HttpUrl


class Error(Struct):
    scope: str
    reason: str
    message: str


class ErrorResponse(Struct):
    code: int
    message: str
    errors: list[Error]


# -- tokens -------------------------------------------------------------------------------------
class TokenResponse(Struct):
    access_token: str
    scope: str
    token_type: str
    expires_in: int


# -- provisioning -------------------------------------------------------------------------------
class UserRecord(Struct):
    userId: str
    firstName: str
    lastName: str
    preferredName: str
    email: str
    roles: list[str]


class UserList(Struct, omit_defaults=True):
    totalItems: int
    users: list[UserRecord]
    continuationToken: str | None = None


class UserQuery(Struct):
    email: str | None = None
    preferredNameValue: str | None = None
    maxResults: Annotated[int, Meta(ge=1, le=1000)] = 100
    continuationToken: str | None = None


Email = Annotated[str, Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Name = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"\S")]


class CreateUser(Struct):
    firstName: Name
    lastName: Name
    email: Email
    preferredName: Annotated[str, Meta(max_length=100)] = ""
    roles: Annotated[list[Literal["agent", "supervisor"]], Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["agent"]
    )


# -- streaming ----------------------------------------------------------------------------------
class CreateSession(Struct):
    userId: Id
    inactivityDelay: Annotated[int, Meta(ge=MIN_INACTIVITY, le=MAX_INACTIVITY)] = 60
    requireAcknowledgement: bool = False


class SessionInfo(Struct):
    sessionId: str
    creationTime: str
    inactivityDelay: int
    requireAcknowledgement: bool
    userId: str


class PublicSessionInfo(Struct):
    sessionId: str
    creationTime: str
    inactivityDelay: int


class EventQuery(Struct):
    maxEvents: Annotated[int, Meta(ge=1, le=100)] = 1
    timeout: Annotated[int, Meta(ge=0, le=55)] = 30
    after: (
        Annotated[
            int,
            Meta(
                ge=0,
                description="Resume after this sequence number: every retained event after it, as SSE"
                " Last-Event-ID, preceded by streaming.Reset if it is older than what is retained",
            ),
        ]
        | None
    ) = None


class Acknowledge(Struct):
    sequenceNumber: Annotated[int, Meta(ge=0)]


# -- engagement center --------------------------------------------------------------------------
class Ready(Struct):
    maxConcurrent: Annotated[int, Meta(ge=1, le=MAX_CONCURRENT_LIMIT)] = 1


class NotReady(Struct):
    reasonId: Annotated[str, Meta(max_length=64)] = ""


class OfferAnswer(Struct):
    ehubSessionId: Id


class Empty(Struct):
    pass


class TranscriptMessage(Struct, omit_defaults=True):
    messageId: str
    entityName: str
    entityType: str
    sentTime: str
    userId: str | None = None
    text: str | None = None
    url: str | None = None


class Transcript(Struct):
    interactionId: str
    channelType: str
    messages: list[TranscriptMessage]


# -- read APIs and transfer (contract 12) --------------------------------------------------------
class InteractionListQuery(Struct):
    state: Literal["queued", "offered", "active", "ended"] | None = None
    userId: Id | None = None
    channelType: Literal["chat", "sms"] | None = None
    maxResults: Annotated[int, Meta(ge=1, le=1000)] = 100
    continuationToken: str | None = None


class InteractionRecord(Struct, omit_defaults=True):
    interactionId: str
    channelType: str
    state: str
    contactName: str
    contactAddress: str
    userIds: list[str]
    createdTime: str
    acceptedTime: str | None = None
    endedTime: str | None = None


class InteractionList(Struct, omit_defaults=True):
    totalItems: int
    interactions: list[InteractionRecord]
    continuationToken: str | None = None


class UserStateQuery(Struct):
    state: Literal["ready", "notReady"] | None = None


class UserState(Struct, omit_defaults=True):
    userId: str
    preferredName: str
    state: str
    since: str
    maxConcurrent: int
    load: int
    reasonId: str | None = None


class UserStateList(Struct):
    users: list[UserState]


class Transfer(Struct):
    userId: Id | None = None


# -- console sign-in (contract 12) ---------------------------------------------------------------
Password = Annotated[str, Meta(min_length=1, max_length=1024)]


class SignInBody(Struct):
    orgId: Id
    email: Annotated[str, Meta(min_length=1, max_length=254)]
    password: Password


class SignedIn(Struct):
    orgId: str
    userId: str
    preferredName: str
    roles: list[str]


class ConsoleToken(Struct):
    orgId: str
    userId: str
    preferredName: str
    roles: list[str]
    accessToken: str
    apiKey: str
    expiresIn: int


class AcceptInvite(Struct):
    token: Annotated[str, Meta(min_length=1, max_length=256)]
    password: Password


# -- web chat -----------------------------------------------------------------------------------
class WebTokenResponse(Struct):
    tokenId: str
    expirationTime: str


class StartChat(Struct):
    contactName: Name
    contactEmail: Email | None = None
    contactData: dict[str, Any] = msgspec.field(default_factory=dict)


class ChatStarted(Struct):
    interactionId: str


class ContactText(Struct):
    interactionId: Id
    text: Text


class ContactUrl(Struct):
    interactionId: Id
    url: HttpUrl


class ContactNotification(Struct):
    interactionId: Id
    state: Literal["composing"]
    expiresAfterSeconds: Annotated[int, Meta(ge=1, le=MAX_EXPIRES_SECONDS)] = 10


class ContactDisconnect(Struct):
    interactionId: Id


# -- outbound webhooks --------------------------------------------------------------------------
class CreateWebhook(Struct):
    url: Annotated[str, Meta(min_length=1, max_length=2048)]
    eventTypes: Annotated[list[Annotated[str, Meta(min_length=1, max_length=100)]], Meta(min_length=1, max_length=50)]
    description: Annotated[str, Meta(max_length=500)] = ""


class WebhookRecord(Struct, omit_defaults=True):
    webhookId: str
    url: str
    eventTypes: list[str]
    createdTime: str
    description: str = ""


class WebhookWithSecret(Struct, omit_defaults=True):
    """A webhook as created or rotated: the only answers that show its secret."""

    webhookId: str
    url: str
    eventTypes: list[str]
    secret: str
    createdTime: str
    description: str = ""


class WebhookList(Struct):
    webhooks: list[WebhookRecord]


class DeliveryQuery(Struct):
    status: Literal["pending", "delivered", "failed"] | None = None
    maxResults: Annotated[int, Meta(ge=1, le=1000)] = 100


class DeliveryRecord(Struct, omit_defaults=True):
    deliveryId: str
    eventId: str
    eventType: str
    status: str
    attempts: int
    createdTime: str
    updatedTime: str
    nextAttemptTime: str | None = None
    lastStatusCode: int | None = None
    lastError: str | None = None


class DeliveryList(Struct):
    deliveries: list[DeliveryRecord]
