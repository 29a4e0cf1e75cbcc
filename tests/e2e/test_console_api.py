"""The read APIs and transfer of contract 12 over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.server import Agent, Org, open_chat


def get(agent: Agent, path: str, **params: Any) -> Any:
    r = agent.org.http.get(agent.org.base + path, params=params, headers=agent.org.headers(agent.session_id))
    assert r.status_code == 200, r.text
    return r.json()


def test_interactions_are_listed_with_filters_and_continuation(org: Org) -> None:
    ada = org.agent(org.create_user("Ada", "List"))
    sue = org.agent(org.create_user("Sue", "List", ["supervisor"]))
    ada.ready(max_concurrent=2)
    _, first = open_chat(org, ada, "First")
    _, second = open_chat(org, ada, "Second")
    waiting = org.customer().start_chat("Waiting")

    page = get(sue, "/engagementCenter/interactions", maxResults=2)
    assert page["totalItems"] == 3 and len(page["interactions"]) == 2
    rest = get(sue, "/engagementCenter/interactions", maxResults=2, continuationToken=page["continuationToken"])
    assert "continuationToken" not in rest
    listed = [i["interactionId"] for i in [*page["interactions"], *rest["interactions"]]]
    assert listed == [first, second, waiting]
    record = page["interactions"][0]
    assert record["state"] == "active" and record["userIds"] == [ada.user_id] and record["contactName"] == "First"
    assert set(record) == {
        "interactionId", "channelType", "state", "contactName", "contactAddress", "userIds", "createdTime",
        "acceptedTime",
    }  # fmt: skip
    queued = get(sue, "/engagementCenter/interactions", state="queued")["interactions"]
    assert [i["interactionId"] for i in queued] == [waiting]
    assert get(sue, "/engagementCenter/interactions", userId=ada.user_id)["totalItems"] == 2
    assert get(sue, "/engagementCenter/interactions", channelType="sms")["totalItems"] == 0
    assert get(ada, "/engagementCenter/interactions")["totalItems"] == 2  # an agent sees its own
    assert get(sue, f"/engagementCenter/interactions/{waiting}")["state"] == "queued"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_read_apis_refuse_what_the_caller_may_not_see(org: Org) -> None:
    ada = org.agent(org.create_user("Ada", "Refused"))
    bob = org.agent(org.create_user("Bob", "Refused"))
    bob.ready()
    _, bobs = open_chat(org, bob)
    h = org.headers(ada.session_id)

    other = org.http.get(org.base + "/engagementCenter/interactions", params={"userId": bob.user_id}, headers=h)
    assert (other.status_code, other.json()["errors"][0]["reason"]) == (422, "notSupervisor")
    hidden = org.http.get(org.base + f"/engagementCenter/interactions/{bobs}", headers=h)
    assert (hidden.status_code, hidden.json()["errors"][0]["scope"]) == (404, "interactionId")
    bad = org.http.get(
        org.base + "/engagementCenter/interactions", params={"state": "lost", "maxResults": 0}, headers=h
    )
    assert bad.status_code == 400 and {e["scope"] for e in bad.json()["errors"]} == {"state", "maxResults"}
    token = org.http.get(org.base + "/engagementCenter/interactions", params={"continuationToken": "x"}, headers=h)
    assert (token.status_code, token.json()["errors"][0]["reason"]) == (400, "invalidContinuationToken")
    no_session = org.http.get(org.base + "/engagementCenter/interactions", headers=org.headers())
    assert (no_session.status_code, no_session.json()["errors"][0]["reason"]) == (400, "missingSession")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_users_show_state_reason_since_and_load(org: Org) -> None:
    ada = org.agent(org.create_user("Ada", "State"))
    bob = org.agent(org.create_user("Bob", "State"))
    sue = org.agent(org.create_user("Sue", "State", ["supervisor"]))
    ada.ready(max_concurrent=3)
    open_chat(org, ada)
    assert bob.post(f"/engagementCenter/users/{bob.user_id}/notReady", {"reasonId": "lunch"}).status_code == 202

    users = {u["userId"]: u for u in get(sue, "/engagementCenter/users")["users"]}
    assert users[ada.user_id]["state"] == "ready" and users[ada.user_id]["load"] == 1
    assert users[ada.user_id]["maxConcurrent"] == 3 and "reasonId" not in users[ada.user_id]
    assert (users[bob.user_id]["state"], users[bob.user_id]["reasonId"]) == ("notReady", "lunch")
    assert users[bob.user_id]["preferredName"] == "Bob State" and users[bob.user_id]["since"].endswith("Z")
    ready = get(sue, "/engagementCenter/users", state="ready")["users"]
    assert [u["userId"] for u in ready] == [ada.user_id]
    assert get(bob, "/engagementCenter/users", state="ready")["users"] == ready  # agents see it too, to transfer


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_chat_transferred_between_two_agents_keeps_its_customer_and_transcript(org: Org) -> None:
    ada = org.agent(org.create_user("Ada", "Transfer"))
    bob = org.agent(org.create_user("Bob", "Transfer"))
    ada.ready()
    customer, interaction = open_chat(org, ada)
    assert ada.send_text(interaction, "Let me pass you to Bob").status_code == 202
    path = f"/engagementCenter/interactions/{interaction}/transfer"

    busy = ada.post(path, {"userId": bob.user_id})
    assert (busy.status_code, busy.json()["errors"][0]["reason"]) == (422, "userUnavailable")
    unknown = ada.post(path, {"userId": "usr_nobody"})
    assert (unknown.status_code, unknown.json()["errors"][0]["scope"]) == (404, "userId")
    bob.ready()
    assert ada.post(path, {"userId": bob.user_id}).status_code == 202

    gone = ada.wait_for("engagementCenter.Disconnected", interactionId=interaction)["payload"]
    assert gone == {"interactionId": interaction, "disconnectedBy": "Agent", "reason": "transferred"}
    offer = bob.wait_for("engagementCenter.Offered", interactionId=interaction)["payload"]
    accepted = bob.post(
        f"/engagementCenter/interactions/{interaction}/accept", {"ehubSessionId": offer["ehubSessionId"]}
    )
    assert accepted.status_code == 202
    assert customer.wait_for("engagementCenter.Active", userId=bob.user_id)["payload"]["interactionId"] == interaction
    late = ada.send_text(interaction, "still here?")
    assert (late.status_code, late.json()["errors"][0]["reason"]) == (422, "notParticipant")
    assert bob.send_text(interaction, "Bob here").status_code == 202
    texts = [m["text"] for m in get(bob, f"/engagementCenter/interactions/{interaction}/transcript")["messages"]]
    assert texts == ["Let me pass you to Bob", "Bob here"]
    assert get(ada, f"/engagementCenter/interactions/{interaction}")["userIds"] == [ada.user_id, bob.user_id]

    assert bob.post(f"/engagementCenter/interactions/{interaction}/disconnect", {}).status_code == 202
    ended = bob.post(path, {})
    assert (ended.status_code, ended.json()["errors"][0]["reason"]) == (410, "interactionEnded")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_supervisor_sends_a_chat_back_to_the_queue_or_ends_it(org: Org) -> None:
    ada = org.agent(org.create_user("Ada", "Queue"))
    sue = org.agent(org.create_user("Sue", "Queue", ["supervisor"]))
    ada.ready()
    customer, interaction = open_chat(org, ada)

    assert sue.post(f"/engagementCenter/interactions/{interaction}/transfer").status_code == 202
    ada.wait_for("engagementCenter.Disconnected", interactionId=interaction, reason="transferred")
    state = get(sue, f"/engagementCenter/interactions/{interaction}")["state"]
    assert state == "queued"
    assert sue.post(f"/engagementCenter/interactions/{interaction}/disconnect").status_code == 202
    ended = customer.wait_for("engagementCenter.Disconnected", interactionId=interaction)["payload"]
    assert ended["reason"] == "supervisorEnded"
    assert "endedTime" in get(sue, f"/engagementCenter/interactions/{interaction}")
