"""The whole story over real HTTP: a customer chats with an agent, a supervisor whispers, it ends."""

from __future__ import annotations

import time

from tests.e2e.server import Org


def test_customer_and_agent_hold_a_whole_conversation(org: Org) -> None:
    ada = org.agent(org.create_user("Ada", "Lovelace"))
    sam = org.agent(org.create_user("Sam", "Super", ["agent", "supervisor"]))
    carla = org.customer()
    interaction = carla.start_chat("Carla")

    assert ada.ready().status_code == 202
    offer = ada.wait_for("engagementCenter.Offered")["payload"]
    assert offer["interactionId"] == interaction
    assert offer["channelType"] == "chat"
    assert offer["contactName"] == "Carla"
    assert offer["offerTimeoutSeconds"] == 30

    r = ada.post(f"/engagementCenter/interactions/{interaction}/accept", {"ehubSessionId": offer["ehubSessionId"]})
    assert r.status_code == 202, r.text
    assert ada.wait_for("engagementCenter.Active")["payload"]["userId"] == ada.user_id
    assert carla.wait_for("engagementCenter.Active")["payload"]["interactionId"] == interaction

    # agent -> customer text, echoed to the agent's own session
    r = ada.send_text(interaction, "Hello Carla, how can I help?")
    assert r.status_code == 202 and r.content == b""
    message_id = r.headers["x-message-id"]
    text = carla.wait_for("messaging.Text")["payload"]
    assert text["text"] == "Hello Carla, how can I help?"
    assert text["messageId"] == message_id
    assert text["entityType"] == "Agent" and text["userId"] == ada.user_id
    assert ada.wait_for("messaging.Text")["payload"]["messageId"] == message_id

    # customer -> agent text and URL
    assert (
        carla.post("/messaging/sendText", {"interactionId": interaction, "text": "My order is late"}).status_code == 202
    )
    got = ada.wait_for("messaging.Text", entityType="Contact")["payload"]
    assert got["text"] == "My order is late" and got["entityName"] == "Carla" and "userId" not in got
    url = "https://shop.example/orders/42"
    assert carla.post("/messaging/sendUrl", {"interactionId": interaction, "url": url}).status_code == 202
    assert ada.wait_for("messaging.Url")["payload"]["url"] == url

    # agent typing with a short expiry: composing, then idle from the server on its own
    r = ada.post(
        f"/messaging/users/{ada.user_id}/notification",
        {
            "interactionId": interaction,
            "entityName": "Ada",
            "entityType": "Agent",
            "state": "composing",
            "expiresAfterSeconds": 1,
        },
    )
    assert r.status_code == 202, r.text
    composing = carla.wait_for("messaging.Notification", state="composing")["payload"]
    assert composing["expiresAfterSeconds"] == 1 and composing["userId"] == ada.user_id
    started = time.monotonic()
    carla.wait_for("messaging.Notification", state="idle", timeout=5)
    assert time.monotonic() - started < 3

    # a supervisor joins and whispers: agent sees it, the customer never does
    sam_info = sam.post(f"/engagementCenter/interactions/{interaction}/monitor", {})
    assert sam_info.status_code == 202, sam_info.text
    r = sam.send_text(interaction, "Offer a voucher", entity_type="Monitor")
    assert r.status_code == 202, r.text
    whisper = ada.wait_for("messaging.Text", entityType="Monitor")["payload"]
    assert whisper["text"] == "Offer a voucher"

    r = ada.post(
        f"/messaging/users/{ada.user_id}/sendUrl",
        {"interactionId": interaction, "entityName": "Ada", "entityType": "Agent", "url": "https://v.example/x"},
    )
    assert r.status_code == 202
    carla.wait_for("messaging.Url")

    # the agent ends it; everyone is told; the interaction is gone
    assert ada.post(f"/engagementCenter/interactions/{interaction}/disconnect", {}).status_code == 202
    assert carla.wait_for("engagementCenter.Disconnected")["payload"]["disconnectedBy"] == "Agent"
    r = ada.send_text(interaction, "still there?")
    assert r.status_code == 410
    assert r.json()["errors"][0]["reason"] == "interactionEnded"

    assert all(e["payload"].get("entityType") != "Monitor" for e in carla.seen)
    seqs = [e["sequenceNumber"] for e in carla.seen]
    assert seqs == list(range(1, len(seqs) + 1))

    transcript = ada.org.http.get(
        f"{org.base}/engagementCenter/interactions/{interaction}/transcript", headers=org.headers(ada.session_id)
    ).json()
    kinds = [(m["entityType"], m.get("text") or m.get("url")) for m in transcript["messages"]]
    assert kinds == [
        ("Agent", "Hello Carla, how can I help?"),
        ("Contact", "My order is late"),
        ("Contact", url),
        ("Monitor", "Offer a voucher"),
        ("Agent", "https://v.example/x"),
    ]
