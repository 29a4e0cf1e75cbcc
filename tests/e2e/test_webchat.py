"""The customer side of web chat over real HTTP (contract 7)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Agent, Customer, Org, open_chat, running_server


@pytest.fixture(scope="module")
def ada(module_org: Org) -> Agent:
    agent = module_org.agent(module_org.create_user("Ada", "Web"))
    assert agent.ready(max_concurrent=50).status_code == 202
    return agent


@pytest.fixture(scope="module")
def chat(module_org: Org, ada: Agent) -> tuple[Customer, str]:
    return open_chat(module_org, ada)


def test_web_token_is_a_jwt_with_an_expiration_time(module_org: Org) -> None:
    r = module_org.http.post(module_org.base + "/webToken", json={})
    assert r.status_code == 200
    body = r.json()
    assert body["tokenId"].count(".") == 2
    assert body["expirationTime"].endswith("Z")


def test_web_token_for_an_unknown_org_is_404(module_org: Org) -> None:
    r = module_org.http.post("/via/v2/organizations/nope/webToken", json={})
    assert r.status_code == 404


@pytest.mark.parametrize("token", ["", "Bearer nope", "Bearer a.b.c", "Basic x"])
def test_bad_web_token_is_401_with_bearer_challenge(module_org: Org, token: str) -> None:
    headers = {"Authorization": token} if token else {}
    r = module_org.http.post(module_org.base + "/publicChat/streaming/session", json={}, headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["errors"][0]["scope"] == "authorization"


def test_agent_token_is_not_a_web_token(module_org: Org) -> None:
    r = module_org.http.post(
        module_org.base + "/publicChat/streaming/session",
        json={},
        headers={"Authorization": f"Bearer {module_org.token}"},
    )
    assert r.status_code == 401


def test_web_token_of_another_org_is_refused(module_org: Org, new_org: Callable[[], Org]) -> None:
    other = new_org()
    token = module_org.http.post(f"{other.base}/webToken", json={}).json()["tokenId"]
    r = module_org.http.post(
        module_org.base + "/publicChat/streaming/session", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 401


def test_another_customers_interaction_is_404(module_org: Org, chat: tuple[Customer, str]) -> None:
    _, interaction = chat
    stranger = module_org.customer()
    for path, body in (
        ("/messaging/sendText", {"interactionId": interaction, "text": "hi"}),
        ("/messaging/sendUrl", {"interactionId": interaction, "url": "https://x.example"}),
        ("/messaging/notification", {"interactionId": interaction, "state": "composing"}),
        ("/messaging/disconnect", {"interactionId": interaction}),
    ):
        r = stranger.post(path, body)
        assert r.status_code == 404, (path, r.text)


def test_customer_typing_reaches_the_agent_not_the_customer(
    module_org: Org, ada: Agent, chat: tuple[Customer, str]
) -> None:
    customer, interaction = chat
    customer.drain()
    r = customer.post(
        "/messaging/notification", {"interactionId": interaction, "state": "composing", "expiresAfterSeconds": 5}
    )
    assert r.status_code == 202
    typing = ada.wait_for("messaging.Notification", entityType="Contact")["payload"]
    assert typing["state"] == "composing" and typing["expiresAfterSeconds"] == 5
    assert "userId" not in typing
    # the customer's next text ends its typing at once
    customer.post("/messaging/sendText", {"interactionId": interaction, "text": "done typing"})
    ada.wait_for("messaging.Notification", entityType="Contact", state="idle")
    assert not [e for e in customer.drain(wait=1) if e["eventType"] == "messaging.Notification"]


def test_renewals_within_a_second_are_absorbed(module_org: Org, ada: Agent, chat: tuple[Customer, str]) -> None:
    customer, interaction = chat
    ada.drain()
    for _ in range(5):
        customer.post("/messaging/notification", {"interactionId": interaction, "state": "composing"})
    composing = [e for e in ada.drain(wait=1) if e["payload"].get("state") == "composing"]
    assert len(composing) == 1


def test_customer_sees_its_own_text_echoed(module_org: Org, chat: tuple[Customer, str]) -> None:
    customer, interaction = chat
    customer.drain()
    r = customer.post("/messaging/sendText", {"interactionId": interaction, "text": "echo me"})
    assert r.status_code == 202
    assert r.headers["x-message-id"].startswith("msg_")
    echo = customer.wait_for("messaging.Text")["payload"]
    assert echo["text"] == "echo me" and echo["entityType"] == "Contact"


def test_customer_may_not_read_the_transcript(module_org: Org, chat: tuple[Customer, str]) -> None:
    customer, interaction = chat
    r = module_org.http.get(
        f"{module_org.base}/engagementCenter/interactions/{interaction}/transcript", headers=customer.headers()
    )
    assert r.status_code == 401


@pytest.mark.parametrize(
    "body",
    [{}, {"contactName": ""}, {"contactName": "x", "contactEmail": "not-an-email"}, {"contactName": 5}],
)
def test_start_chat_validates_its_body(module_org: Org, body: dict[str, object]) -> None:
    customer = module_org.customer()
    assert customer.post("/messaging/chat", body).status_code == 400


def test_web_tokens_are_rate_limited_per_client_address(tmp_path: Path) -> None:
    env = {"PARLEY_WEBTOKEN_RATE_PER_SECOND": "1", "PARLEY_WEBTOKEN_RATE_BURST": "3"}
    with running_server(tmp_path / "data", env) as server:
        server.bootstrap("limited")
        with httpx.Client(base_url=server.base_url) as http:
            codes = [http.post("/via/v2/organizations/limited/webToken", json={}).status_code for _ in range(5)]
            assert codes[:3] == [200, 200, 200]
            assert codes[3] == 429
            r = http.post("/via/v2/organizations/limited/webToken", json={})
            assert r.status_code == 429
            assert int(r.headers["retry-after"]) >= 1
            assert r.json()["errors"][0]["reason"] == "rateLimited"
