"""The customer side of web chat over real HTTP (contract 7)."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Agent, Customer, Org, open_chat, running_server, start_server


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


def test_a_renewed_web_token_carries_on_the_same_customers_chat(
    module_org: Org, ada: Agent, chat: tuple[Customer, str]
) -> None:
    customer, interaction = chat
    r = module_org.http.post(
        module_org.base + "/webToken", json={}, headers={"Authorization": f"Bearer {customer.token}"}
    )
    assert r.status_code == 200, r.text
    renewed = r.json()["tokenId"]
    assert renewed != customer.token

    customer.token = renewed  # the same streaming session and interaction go on with it
    assert customer.post("/messaging/sendText", {"interactionId": interaction, "text": "still me"}).status_code == 202
    assert customer.wait_for("messaging.Text", text="still me")["payload"]["interactionId"] == interaction


@pytest.mark.parametrize("token", ["Bearer nope", "Basic x", "Bearer a.b.c"])
def test_renewing_needs_a_valid_web_token(module_org: Org, token: str) -> None:
    r = module_org.http.post(module_org.base + "/webToken", json={}, headers={"Authorization": token})
    assert r.status_code == 401
    assert r.json()["errors"][0]["reason"] == "invalidToken"


def test_an_expired_web_token_can_no_longer_be_renewed_or_used(tmp_path: Path) -> None:
    with running_server(tmp_path / "data", {"PARLEY_WEB_TOKEN_SECONDS": "10"}) as server:
        server.bootstrap("brief")
        base = "/via/v2/organizations/brief"
        with httpx.Client(base_url=server.base_url) as http:
            first = http.post(base + "/webToken", json={}).json()
            auth = {"Authorization": f"Bearer {first['tokenId']}"}
            renewed = http.post(base + "/webToken", json={}, headers=auth).json()
            assert renewed["expirationTime"] >= first["expirationTime"]
            time.sleep(11)
            for path in ("/webToken", "/publicChat/streaming/session"):
                r = http.post(base + path, json={}, headers=auth)
                assert r.status_code == 401, path
                assert "expired" in r.json()["errors"][0]["message"]


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


def test_a_long_poll_whose_client_left_takes_no_events(module_org: Org, ada: Agent, chat: tuple[Customer, str]) -> None:
    customer, interaction = chat
    customer.drain()
    with pytest.raises(httpx.ReadTimeout):
        module_org.http.get(
            module_org.base + "/publicChat/streaming/events",
            params={"timeout": 20, "maxEvents": 100},
            headers=customer.headers(),
            timeout=0.5,
        )
    time.sleep(0.3)
    assert ada.send_text(interaction, "still here?").status_code == 202
    customer.wait_for("messaging.Text", text="still here?", timeout=5)


def test_pages_of_other_origins_may_call_the_customer_api(module_org: Org) -> None:
    url = module_org.base + "/publicChat/messaging/sendText"
    pre = module_org.http.options(
        url,
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, via-client-sessionid",
        },
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert "via-client-sessionid" in pre.headers["access-control-allow-headers"]
    r = module_org.http.post(module_org.base + "/webToken", json={}, headers={"Origin": "https://shop.example"})
    assert r.headers["access-control-allow-origin"] == "*"
    denied = module_org.http.post(url, json={}, headers={"Origin": "https://shop.example"})
    assert denied.status_code == 401
    assert denied.headers["access-control-allow-origin"] == "*"
    assert "x-request-id" in denied.headers["access-control-expose-headers"]
    agent_side = module_org.http.options(
        module_org.base + "/streaming/events", headers={"Origin": "https://shop.example"}
    )
    assert agent_side.status_code == 405
    assert "access-control-allow-origin" not in agent_side.headers


def test_server_stops_promptly_with_an_event_stream_open(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        server.bootstrap("closing")
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            token = http.post("/via/v2/organizations/closing/webToken", json={}).json()["tokenId"]
            headers = {"Authorization": f"Bearer {token}"}
            session = http.post(
                "/via/v2/organizations/closing/publicChat/streaming/session", json={}, headers=headers
            ).json()["sessionId"]
            headers["via-client-sessionid"] = session
            with http.stream(
                "GET", "/via/v2/organizations/closing/publicChat/streaming/events/stream", headers=headers
            ) as r:
                assert r.status_code == 200
                next(r.iter_lines())
                started = time.monotonic()
                server.process.send_signal(signal.SIGTERM)
                server.process.wait(15)
                assert time.monotonic() - started < 10
    finally:
        if server.process.poll() is None:
            server.kill()


def test_a_chat_nobody_takes_within_the_queue_timeout_ends_with_the_configured_message(tmp_path: Path) -> None:
    sorry = "All our agents are busy; please write to help@example.com."
    env = {"PARLEY_QUEUE_TIMEOUT_SECONDS": "2", "PARLEY_QUEUE_TIMEOUT_MESSAGE": sorry}
    with running_server(tmp_path / "data", env) as server:
        creds = server.bootstrap("busy")
        org = Org(server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
        try:
            customer = org.customer()
            interaction = customer.start_chat()
            text = customer.wait_for("messaging.Text", timeout=10, interactionId=interaction)["payload"]
            assert (text["entityType"], text["text"]) == ("System", sorry)
            ended = customer.wait_for("engagementCenter.Disconnected", timeout=5)["payload"]
            assert (ended["disconnectedBy"], ended["reason"]) == ("System", "queueTimeout")
            r = customer.post("/messaging/sendText", {"interactionId": interaction, "text": "hello?"})
            assert r.status_code == 410
        finally:
            org.http.close()
