"""Streaming events (contract sections 4 and 5).

Every event has the envelope's fields and a ``payload``. Known event types decode into their
own class with a typed payload; anything else (a new event type, or a known one whose payload
does not match) arrives as a plain ``Event`` with the payload as a dict, never as an exception.
"""

from typing import Any

import msgspec

from parley_client._exceptions import DecodingError
from parley_client._models import Model


class BaseEvent(Model):
    """The envelope: ``sequence_number`` is 1, 2, 3, ... per streaming session."""

    event_id: str
    sequence_number: int
    event_type: str
    event_time: str


class Event(BaseEvent):
    """An event of a type this version of the SDK does not know."""

    payload: dict[str, Any] = msgspec.field(default_factory=dict)


# -- payloads --------------------------------------------------------------------------------------
class Offered(Model):
    interaction_id: str
    ehub_session_id: str
    channel_type: str
    contact_name: str = ""
    contact_address: str = ""
    offer_timeout_seconds: int = 30


class AcceptCallTimeout(Model):
    interaction_id: str


class Active(Model):
    interaction_id: str
    user_id: str
    entity_name: str = ""
    entity_type: str = "Agent"
    channel_type: str = "chat"


class Disconnected(Model):
    interaction_id: str
    disconnected_by: str
    reason: str = ""


class _Message(Model):
    interaction_id: str
    message_id: str
    channel_type: str
    entity_name: str
    entity_type: str  # Agent, Monitor, System or Contact


class Text(_Message):
    text: str
    sent_time: str = ""
    user_id: str | None = None  # absent when the contact sent it


class Url(_Message):
    url: str
    sent_time: str = ""
    user_id: str | None = None


class Notification(Model):
    interaction_id: str
    entity_name: str
    entity_type: str
    state: str
    user_id: str | None = None
    expires_after_seconds: int | None = None
    expires_time: str | None = None


class DeliveryStatus(Model):
    interaction_id: str
    message_id: str
    status: str
    channel_type: str = "sms"
    segments: int | None = None
    error_code: str | int | None = None


class Reset(Model):
    oldest_available: int


# -- events ----------------------------------------------------------------------------------------
class OfferedEvent(BaseEvent):
    """``engagementCenter.Offered``: an interaction is offered to this user."""

    payload: Offered


class AcceptCallTimeoutEvent(BaseEvent):
    """``engagementCenter.AcceptCallTimeout``: the offer was not accepted in time."""

    payload: AcceptCallTimeout


class ActiveEvent(BaseEvent):
    """``engagementCenter.Active``: a user joined the interaction."""

    payload: Active


class DisconnectedEvent(BaseEvent):
    """``engagementCenter.Disconnected``: the interaction ended."""

    payload: Disconnected


class TextEvent(BaseEvent):
    """``messaging.Text``: a text message, including the sender's own."""

    payload: Text


class UrlEvent(BaseEvent):
    """``messaging.Url``: a URL pushed to the conversation."""

    payload: Url


class NotificationEvent(BaseEvent):
    """``messaging.Notification``: someone is ``composing`` or went ``idle``."""

    payload: Notification


class DeliveryStatusEvent(BaseEvent):
    """``messaging.DeliveryStatus``: what the SMS gateway said about a message."""

    payload: DeliveryStatus


class ResetEvent(BaseEvent):
    """``streaming.Reset``: events before ``oldest_available`` are gone; re-read transcripts."""

    payload: Reset


EVENT_TYPES: dict[str, type[BaseEvent]] = {
    "engagementCenter.Offered": OfferedEvent,
    "engagementCenter.AcceptCallTimeout": AcceptCallTimeoutEvent,
    "engagementCenter.Active": ActiveEvent,
    "engagementCenter.Disconnected": DisconnectedEvent,
    "messaging.Text": TextEvent,
    "messaging.Url": UrlEvent,
    "messaging.Notification": NotificationEvent,
    "messaging.DeliveryStatus": DeliveryStatusEvent,
    "streaming.Reset": ResetEvent,
}

AnyEvent = (
    OfferedEvent
    | AcceptCallTimeoutEvent
    | ActiveEvent
    | DisconnectedEvent
    | TextEvent
    | UrlEvent
    | NotificationEvent
    | DeliveryStatusEvent
    | ResetEvent
    | Event
)


def decode_event(envelope: dict[str, Any]) -> BaseEvent:
    """One envelope as its typed event, or as a generic ``Event`` when the type or shape is unknown."""
    cls = EVENT_TYPES.get(str(envelope.get("eventType", "")), Event)
    try:
        return msgspec.convert(envelope, cls)
    except msgspec.ValidationError:
        pass
    try:
        return msgspec.convert(envelope, Event)
    except msgspec.ValidationError as exc:
        raise DecodingError(f"not an event envelope: {exc}") from None


class EventBatch(msgspec.Struct, frozen=True):
    """One long poll's answer: the events, empty when the poll timed out."""

    session_id: str
    events: list[BaseEvent]


class _RawBatch(msgspec.Struct):
    sessionId: str
    events: list[dict[str, Any]]


def decode_batch(content: bytes) -> EventBatch:
    try:
        raw = msgspec.json.decode(content, type=_RawBatch)
    except msgspec.DecodeError as exc:
        raise DecodingError(f"not an event batch: {exc}") from None
    return EventBatch(raw.sessionId, [decode_event(e) for e in raw.events])
