"""Every event of contract section 5 carries exactly its fields, in the envelope of section 4."""

from __future__ import annotations

import re

import pytest

from tests.e2e.server import Org

ENVELOPE = {"eventId", "sequenceNumber", "eventType", "eventTime", "payload"}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FIELDS = {
    "engagementCenter.Offered": {
        "interactionId",
        "ehubSessionId",
        "channelType",
        "contactName",
        "contactAddress",
        "offerTimeoutSeconds",
    },
    "engagementCenter.AcceptCallTimeout": {"interactionId"},
    "engagementCenter.Active": {"interactionId", "userId", "entityName", "entityType", "channelType"},
    "engagementCenter.Disconnected": {"interactionId", "disconnectedBy", "reason"},
    "messaging.Text": {
        "interactionId",
        "messageId",
        "channelType",
        "entityName",
        "entityType",
        "userId",
        "text",
        "sentTime",
    },
    "messaging.Url": {
        "interactionId",
        "messageId",
        "channelType",
        "entityName",
        "entityType",
        "userId",
        "url",
        "sentTime",
    },
    "messaging.Notification.composing": {
        "interactionId",
        "entityName",
        "entityType",
        "userId",
        "state",
        "expiresAfterSeconds",
        "expiresTime",
    },
    "messaging.Notification.idle": {"interactionId", "entityName", "entityType", "userId", "state"},
}


@pytest.fixture
def server_env() -> dict[str, str]:
    return {"PARLEY_OFFER_TIMEOUT_SECONDS": "1"}


def check(event: dict[str, object], expected: set[str], contact: bool = False) -> None:
    assert set(event) == ENVELOPE
    assert isinstance(event["eventTime"], str) and TIME.match(event["eventTime"])
    payload = event["payload"]
    assert isinstance(payload, dict)
    want = expected - {"userId"} if contact else expected
    assert set(payload) == want, event["eventType"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_event_type_has_exactly_the_contract_fields(org: Org) -> None:
    slow = org.agent(org.create_user("Slow", "Agent"))
    slow.ready()
    customer = org.customer()
    interaction = customer.start_chat("Fields")
    check(slow.wait_for("engagementCenter.Offered"), FIELDS["engagementCenter.Offered"])
    check(slow.wait_for("engagementCenter.AcceptCallTimeout", timeout=5), FIELDS["engagementCenter.AcceptCallTimeout"])
    ada = org.agent(org.create_user("Ada", "Fields"))
    ada.ready()
    offer = ada.wait_for("engagementCenter.Offered", interactionId=interaction)
    ada.post(
        f"/engagementCenter/interactions/{interaction}/accept", {"ehubSessionId": offer["payload"]["ehubSessionId"]}
    )
    check(customer.wait_for("engagementCenter.Active"), FIELDS["engagementCenter.Active"])
    ada.send_text(interaction, "text")
    check(customer.wait_for("messaging.Text"), FIELDS["messaging.Text"])
    ada.post(
        f"/messaging/users/{ada.user_id}/sendUrl",
        {"interactionId": interaction, "entityName": "Ada", "entityType": "Agent", "url": "https://x.example"},
    )
    check(customer.wait_for("messaging.Url"), FIELDS["messaging.Url"])
    ada.post(
        f"/messaging/users/{ada.user_id}/notification",
        {
            "interactionId": interaction,
            "entityName": "Ada",
            "entityType": "Agent",
            "state": "composing",
            "expiresAfterSeconds": 1,
        },
    )
    check(customer.wait_for("messaging.Notification", state="composing"), FIELDS["messaging.Notification.composing"])
    check(customer.wait_for("messaging.Notification", state="idle"), FIELDS["messaging.Notification.idle"])
    customer.post("/messaging/sendText", {"interactionId": interaction, "text": "from the customer"})
    check(ada.wait_for("messaging.Text", entityType="Contact"), FIELDS["messaging.Text"], contact=True)
    customer.post("/messaging/disconnect", {"interactionId": interaction})
    check(ada.wait_for("engagementCenter.Disconnected"), FIELDS["engagementCenter.Disconnected"])
    assert not [e for e in ada.seen if e["eventType"] == "messaging.Notification"]  # never echoed to its sender


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_resume_older_than_what_is_retained_starts_with_a_reset(org: Org) -> None:
    ada = org.agent(org.create_user("Ada", "Reset"))
    ada.ready()
    customer = org.customer()
    interaction = customer.start_chat()
    offer = ada.wait_for("engagementCenter.Offered")["payload"]
    ada.post(f"/engagementCenter/interactions/{interaction}/accept", {"ehubSessionId": offer["ehubSessionId"]})
    for i in range(1010):
        assert customer.post("/messaging/sendText", {"interactionId": interaction, "text": f"m{i}"}).status_code == 202
    while customer.fetch(timeout=0):
        pass
    headers = {**customer.headers(), "Last-Event-ID": "1"}
    with org.http.stream("GET", org.base + "/publicChat/streaming/events/stream", headers=headers) as r:
        lines = []
        for line in r.iter_lines():
            if line.startswith(("event:", "data:")):
                lines.append(line)
            if len(lines) >= 4:
                break
    assert lines[0] == "event: streaming.Reset"
    assert '"oldestAvailable":' in lines[1]
    assert lines[2] == "event: messaging.Text"
