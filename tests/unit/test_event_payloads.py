"""Event payloads carry exactly the fields of contract section 5."""

from __future__ import annotations

from parley.clock import iso
from parley.domain import events
from parley.domain.interactions import ChannelType, EntityType, Interaction, Message, MessageKind
from parley.domain.typing import Typist

SENT_AT = 1_790_000_000.25


def interaction(channel: ChannelType = ChannelType.CHAT) -> Interaction:
    i = Interaction("int_1", "acme", channel, "ctc_1", "Carol", 1.0, contact_address="carol@example.com")
    i.offer("ada", "ehub_1", at=2.0)
    return i


def message(kind: MessageKind, entity_type: EntityType, user_id: str | None) -> Message:
    return Message("msg_1", "acme", "int_1", 1, kind, "body", entity_type, "Ada", user_id, SENT_AT)


def test_times_are_rfc3339_utc_with_milliseconds() -> None:
    assert iso(0.123) == "1970-01-01T00:00:00.123Z"
    assert iso(SENT_AT) == "2026-09-21T14:13:20.250Z"


def test_offered_names_the_offer_and_the_contact() -> None:
    assert events.offered_payload(interaction(ChannelType.SMS), 30.0) == {
        "interactionId": "int_1",
        "ehubSessionId": "ehub_1",
        "channelType": "sms",
        "contactName": "Carol",
        "contactAddress": "carol@example.com",
        "offerTimeoutSeconds": 30,
    }


def test_active_carries_the_contract_fields_and_who_joined_as_what() -> None:
    # entityType beside the contract's fields: docs/contract.md section 10.
    payload = events.active_payload(interaction(), "ada", "Ada", EntityType.AGENT)
    assert payload == {
        "interactionId": "int_1",
        "userId": "ada",
        "entityName": "Ada",
        "entityType": "Agent",
        "channelType": "chat",
    }


def test_active_names_who_joined() -> None:
    payload = events.active_payload(interaction(), "sue", "Sue", EntityType.MONITOR)
    assert payload["userId"] == "sue"
    assert payload["entityName"] == "Sue"
    assert payload["channelType"] == "chat"


def test_disconnected_says_who_ended_it_and_why() -> None:
    assert events.disconnected_payload("int_1", EntityType.CONTACT, "contactDisconnected") == {
        "interactionId": "int_1",
        "disconnectedBy": "Contact",
        "reason": "contactDisconnected",
    }


def test_a_users_text_carries_the_user_id() -> None:
    name, payload = events.message_event(message(MessageKind.TEXT, EntityType.AGENT, "ada"), interaction())
    assert name == events.TEXT == "messaging.Text"
    assert payload == {
        "interactionId": "int_1",
        "messageId": "msg_1",
        "channelType": "chat",
        "entityName": "Ada",
        "entityType": "Agent",
        "userId": "ada",
        "text": "body",
        "sentTime": "2026-09-21T14:13:20.250Z",
    }


def test_a_contacts_url_has_no_user_id_and_carries_url_instead_of_text() -> None:
    name, payload = events.message_event(message(MessageKind.URL, EntityType.CONTACT, None), interaction())
    assert name == events.URL == "messaging.Url"
    assert set(payload) == {"interactionId", "messageId", "channelType", "entityName", "entityType", "url", "sentTime"}
    assert (payload["url"], payload["entityType"]) == ("body", "Contact")


def test_composing_carries_its_expiry() -> None:
    meta = Typist("acme", EntityType.AGENT, "Ada", "ada")
    assert events.typing_payload("int_1", meta, "composing", 10, SENT_AT + 10) == {
        "interactionId": "int_1",
        "entityName": "Ada",
        "entityType": "Agent",
        "userId": "ada",
        "state": "composing",
        "expiresAfterSeconds": 10,
        "expiresTime": "2026-09-21T14:13:30.250Z",
    }


def test_idle_has_no_expiry_time_and_a_contact_has_no_user_id() -> None:
    payload = events.typing_payload("int_1", Typist("acme", EntityType.CONTACT, "Carol"), "idle")
    assert payload == {"interactionId": "int_1", "entityName": "Carol", "entityType": "Contact", "state": "idle"}


def test_the_audience_is_the_users_then_the_contact() -> None:
    i = interaction()
    i.accept("ada", "ehub_1")
    i.add_monitor("sue")
    assert events.audience(i, contact=True) == ["user:ada", "user:sue", "contact:ctc_1"]
    assert events.audience(i, contact=False) == ["user:ada", "user:sue"]
    assert events.audience(i, contact=True, exclude="user:ada") == ["user:sue", "contact:ctc_1"]
