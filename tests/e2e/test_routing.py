"""Routing over real HTTP (contract 6): offers, timeouts, reject, longest idle, sessions ending."""

from __future__ import annotations

import pytest

from tests.e2e.server import Org


@pytest.fixture
def server_env() -> dict[str, str]:
    return {"PARLEY_OFFER_TIMEOUT_SECONDS": "1"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_unanswered_offer_times_out_and_goes_to_the_next_agent(org: Org) -> None:
    first = org.agent(org.create_user("First", "Ready"))
    second = org.agent(org.create_user("Second", "Ready"))
    first.ready()
    second.ready()
    customer = org.customer()
    interaction = customer.start_chat()
    offer = first.wait_for("engagementCenter.Offered", interactionId=interaction)
    assert offer["payload"]["offerTimeoutSeconds"] == 1
    timeout = first.wait_for("engagementCenter.AcceptCallTimeout", timeout=5)
    assert timeout["payload"] == {"interactionId": interaction}
    again = second.wait_for("engagementCenter.Offered", interactionId=interaction, timeout=5)["payload"]
    stale = first.post(
        f"/engagementCenter/interactions/{interaction}/accept", {"ehubSessionId": offer["payload"]["ehubSessionId"]}
    )
    assert stale.status_code == 422
    assert stale.json()["errors"][0]["reason"] == "notOffered"
    r = second.post(f"/engagementCenter/interactions/{interaction}/accept", {"ehubSessionId": again["ehubSessionId"]})
    assert r.status_code == 202
    # the first agent was made notReady by the timeout: a new chat goes nowhere until they are ready again
    other = org.customer().start_chat("Next")
    assert not [e for e in first.drain(wait=2) if e["eventType"] == "engagementCenter.Offered"]
    first.ready()
    first.wait_for("engagementCenter.Offered", interactionId=other)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_rejected_offer_goes_to_someone_else(org: Org) -> None:
    first = org.agent(org.create_user("Rejecting", "Agent"))
    first.ready()
    customer = org.customer()
    interaction = customer.start_chat()
    offer = first.wait_for("engagementCenter.Offered", interactionId=interaction)["payload"]
    wrong = first.post(f"/engagementCenter/interactions/{interaction}/reject", {"ehubSessionId": "ehub_wrong"})
    assert wrong.status_code == 422
    assert (
        first.post(
            f"/engagementCenter/interactions/{interaction}/reject", {"ehubSessionId": offer["ehubSessionId"]}
        ).status_code
        == 202
    )
    second = org.agent(org.create_user("Taking", "Agent"))
    second.ready()
    second.wait_for("engagementCenter.Offered", interactionId=interaction)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_longest_idle_agent_gets_the_next_offer(org: Org) -> None:
    agents = [org.agent(org.create_user(f"Agent{i}", "Idle")) for i in range(3)]
    for agent in agents:
        agent.ready()
    for i, agent in enumerate(agents):
        interaction = org.customer().start_chat(f"C{i}")
        agent.wait_for("engagementCenter.Offered", interactionId=interaction)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_agent_whose_last_session_ends_is_offered_nothing(org: Org) -> None:
    leaving = org.agent(org.create_user("Leaving", "Agent"))
    leaving.ready()
    org.http.delete(org.base + "/streaming/session", headers=org.headers(leaving.session_id))
    staying = org.agent(org.create_user("Staying", "Agent"))
    staying.ready()
    interaction = org.customer().start_chat()
    staying.wait_for("engagementCenter.Offered", interactionId=interaction)
    back = org.agent(leaving.user_id)
    assert not [e for e in back.drain(wait=1) if e["eventType"] == "engagementCenter.Offered"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_customer_leaving_the_queue_withdraws_the_offer(org: Org) -> None:
    agent = org.agent(org.create_user("Queue", "Agent"))
    customer = org.customer()
    interaction = customer.start_chat()
    agent.ready()
    agent.wait_for("engagementCenter.Offered", interactionId=interaction)
    assert customer.post("/messaging/disconnect", {"interactionId": interaction}).status_code == 202
    gone = agent.wait_for("engagementCenter.Disconnected", interactionId=interaction)["payload"]
    assert gone["disconnectedBy"] == "Contact"
    assert customer.post("/messaging/disconnect", {"interactionId": interaction}).status_code == 410


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_monitor_requires_the_supervisor_role(org: Org) -> None:
    agent = org.agent(org.create_user("Plain", "Agent"))
    agent.ready()
    customer = org.customer()
    interaction = customer.start_chat()
    offer = agent.wait_for("engagementCenter.Offered")["payload"]
    agent.post(f"/engagementCenter/interactions/{interaction}/accept", {"ehubSessionId": offer["ehubSessionId"]})
    peer = org.agent(org.create_user("Peer", "Agent"))
    r = peer.post(f"/engagementCenter/interactions/{interaction}/monitor", {})
    assert r.status_code == 422
    assert r.json()["errors"][0]["reason"] == "notSupervisor"
