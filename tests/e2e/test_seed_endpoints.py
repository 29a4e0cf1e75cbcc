"""Every status path of the seed's three endpoints (contract sections 2 and 3), over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.server import Agent, Customer, Org, open_chat

ENDPOINTS = ["sendText", "notification", "sendUrl"]


def body_for(endpoint: str, interaction: str, **override: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"interactionId": interaction, "entityName": "Ada", "entityType": "Agent"}
    body.update(
        {
            "sendText": {"text": "hello"},
            "notification": {"state": "composing"},
            "sendUrl": {"url": "https://a.example"},
        }[endpoint]
    )
    body.update(override)
    return body


@pytest.fixture(scope="module")
def ada(module_org: Org) -> Agent:
    agent = module_org.agent(module_org.create_user("Ada", "Agent"))
    assert agent.ready(max_concurrent=50).status_code == 202
    return agent


@pytest.fixture(scope="module")
def chat(module_org: Org, ada: Agent) -> tuple[Customer, str]:
    return open_chat(module_org, ada)


@pytest.fixture
def interaction(chat: tuple[Customer, str]) -> str:
    return chat[1]


def post(
    org: Org,
    agent: Agent,
    endpoint: str,
    body: Any,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    user_id: str | None = None,
) -> httpx.Response:
    h = headers if headers is not None else org.headers(agent.session_id)
    url = f"{org.base}/messaging/users/{user_id or agent.user_id}/{endpoint}"
    if content is not None:
        return org.http.post(url, content=content, headers=h)
    return org.http.post(url, json=body, headers=h)


def error(r: httpx.Response, status: int) -> list[dict[str, str]]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == status
    assert isinstance(body["message"], str) and body["message"]
    errors: list[dict[str, str]] = body["errors"]
    assert errors and all(set(e) == {"scope", "reason", "message"} for e in errors)
    return errors


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_accepted_request_answers_202_with_empty_body_and_ratelimit_headers(
    module_org: Org, ada: Agent, interaction: str, endpoint: str
) -> None:
    r = post(module_org, ada, endpoint, body_for(endpoint, interaction))
    assert r.status_code == 202, r.text
    assert r.content == b""
    bucket = "typing" if endpoint == "notification" else "key"
    assert r.headers["ratelimit-policy"] == f'"{bucket}";q=200;w=2'
    assert r.headers["ratelimit"].startswith(f'"{bucket}";r=')
    if endpoint != "notification":
        assert r.headers["x-message-id"].startswith("msg_")


# -- 401 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("headers", "scope", "reason"),
    [
        ({}, "authorization", "missingToken"),
        ({"Authorization": "Bearer nope"}, "authorization", "invalidToken"),
        ({"Authorization": "Basic abc"}, "authorization", "invalidToken"),
        ({"x-api-key": None}, "x-api-key", "missingApiKey"),
        ({"x-api-key": "pak_unknown"}, "x-api-key", "invalidApiKey"),
    ],
)
def test_authentication_failures_answer_401_with_bearer_challenge(
    module_org: Org, ada: Agent, interaction: str, endpoint: str, headers: dict[str, Any], scope: str, reason: str
) -> None:
    h = module_org.headers(ada.session_id)
    if not headers:
        del h["Authorization"]
    for k, v in headers.items():
        if v is None:
            del h[k]
        else:
            h[k] = v
    r = post(module_org, ada, endpoint, body_for(endpoint, interaction), headers=h)
    errors = error(r, 401)
    assert errors[0]["scope"] == scope and errors[0]["reason"] == reason
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_token_without_messaging_scope_is_insufficient(module_org: Org, ada: Agent, interaction: str) -> None:
    token = module_org.fetch_token(scope="streamingapi")
    h = {**module_org.headers(ada.session_id), "Authorization": f"Bearer {token}"}
    errors = error(post(module_org, ada, "sendText", body_for("sendText", interaction), headers=h), 401)
    assert errors[0] == {"scope": "authorization", "reason": "insufficientScope", "message": errors[0]["message"]}


def test_token_and_key_of_another_organization_are_refused(
    module_org: Org, ada: Agent, interaction: str, new_org: Callable[[], Org]
) -> None:
    other_org = new_org()
    h = {**module_org.headers(ada.session_id), "Authorization": f"Bearer {other_org.token}"}
    assert (
        error(post(module_org, ada, "sendText", body_for("sendText", interaction), headers=h), 401)[0]["reason"]
        == "invalidToken"
    )
    h = {**module_org.headers(ada.session_id), "x-api-key": other_org.api_key}
    assert (
        error(post(module_org, ada, "sendText", body_for("sendText", interaction), headers=h), 401)[0]["reason"]
        == "invalidApiKey"
    )


# -- 404 / 400 session -------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_unknown_user_is_404(module_org: Org, ada: Agent, interaction: str, endpoint: str) -> None:
    errors = error(post(module_org, ada, endpoint, body_for(endpoint, interaction), user_id="usr_nobody"), 404)
    assert errors[0]["scope"] == "userId" and errors[0]["reason"] == "notFound"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_missing_unknown_or_foreign_session_is_400(
    module_org: Org, ada: Agent, interaction: str, endpoint: str
) -> None:
    h = module_org.headers()
    errors = error(post(module_org, ada, endpoint, body_for(endpoint, interaction), headers=h), 400)
    assert errors[0] == {"scope": "via-client-sessionid", "reason": "missingSession", "message": errors[0]["message"]}
    h = module_org.headers("ses_unknown")
    assert (
        error(post(module_org, ada, endpoint, body_for(endpoint, interaction), headers=h), 400)[0]["reason"]
        == "invalidSession"
    )
    someone = module_org.agent(module_org.create_user("Other", endpoint))
    h = module_org.headers(someone.session_id)
    assert (
        error(post(module_org, ada, endpoint, body_for(endpoint, interaction), headers=h), 400)[0]["reason"]
        == "invalidSession"
    )


# -- 400 body ----------------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "emptyBody"), (b"   ", "emptyBody"), (b"{nope", "malformedJson"), (b"[1, 2]", "invalidType")],
)
def test_unreadable_bodies_are_400(module_org: Org, ada: Agent, endpoint: str, content: bytes, reason: str) -> None:
    h = {**module_org.headers(ada.session_id), "content-type": "application/json"}
    assert error(post(module_org, ada, endpoint, None, headers=h, content=content), 400)[0]["reason"] == reason


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_bad_field_is_named_once(module_org: Org, ada: Agent, endpoint: str) -> None:
    errors = error(post(module_org, ada, endpoint, {"entityType": "Robot", "entityName": 7}), 400)
    by_scope = {e["scope"]: e["reason"] for e in errors}
    assert by_scope["interactionId"] == "missing"
    assert by_scope["entityType"] == "invalidValue"
    assert by_scope["entityName"] == "invalidType"
    required = {"sendText": "text", "notification": "state", "sendUrl": "url"}[endpoint]
    assert by_scope[required] == "missing"
    assert len(errors) == 4


@pytest.mark.parametrize(
    ("endpoint", "override", "scope"),
    [
        ("sendText", {"text": ""}, "text"),
        ("sendText", {"text": " \n\t "}, "text"),
        ("sendText", {"text": 5}, "text"),
        ("sendText", {"entityType": "Contact"}, "entityType"),
        ("sendText", {"entityType": "agent"}, "entityType"),
        ("sendText", {"entityName": "x" * 129}, "entityName"),
        ("sendText", {"interactionId": ""}, "interactionId"),
        ("notification", {"state": "typing"}, "state"),
        ("notification", {"expiresAfterSeconds": 0}, "expiresAfterSeconds"),
        ("notification", {"expiresAfterSeconds": 31}, "expiresAfterSeconds"),
        ("notification", {"expiresAfterSeconds": "10"}, "expiresAfterSeconds"),
        ("notification", {"expiresAfterSeconds": 2.5}, "expiresAfterSeconds"),
        ("sendUrl", {"url": "javascript:alert(1)"}, "url"),
        ("sendUrl", {"url": "/relative/path"}, "url"),
        ("sendUrl", {"url": "ftp://files.example/x"}, "url"),
        ("sendUrl", {"url": "https://"}, "url"),
        ("sendUrl", {"url": "https://a.example/" + "x" * 2048}, "url"),
    ],
)
def test_out_of_contract_values_are_400_naming_the_field(
    module_org: Org, ada: Agent, interaction: str, endpoint: str, override: dict[str, Any], scope: str
) -> None:
    errors = error(post(module_org, ada, endpoint, body_for(endpoint, interaction, **override)), 400)
    assert [e["scope"] for e in errors] == [scope]


def test_unknown_extra_fields_are_ignored(module_org: Org, ada: Agent, interaction: str) -> None:
    r = post(module_org, ada, "sendText", body_for("sendText", interaction, color="blue", nested={"a": 1}))
    assert r.status_code == 202, r.text


# -- 404 interaction / 410 / 422 -----------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_unknown_interaction_is_404(module_org: Org, ada: Agent, endpoint: str) -> None:
    errors = error(post(module_org, ada, endpoint, body_for(endpoint, "int_missing")), 404)
    assert errors[0]["scope"] == "interactionId"


@pytest.fixture(scope="module")
def ended_interaction(module_org: Org, ada: Agent) -> str:
    _, interaction = open_chat(module_org, ada, "Ended")
    assert ada.post(f"/engagementCenter/interactions/{interaction}/disconnect", {}).status_code == 202
    return interaction


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_ended_interaction_is_410(module_org: Org, ada: Agent, ended_interaction: str, endpoint: str) -> None:
    errors = error(post(module_org, ada, endpoint, body_for(endpoint, ended_interaction)), 410)
    assert errors[0]["reason"] == "interactionEnded"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_user_outside_the_interaction_is_not_a_participant(module_org: Org, interaction: str, endpoint: str) -> None:
    bob = module_org.agent(module_org.create_user("Bob", f"Outside{endpoint}"))
    errors = error(post(module_org, bob, endpoint, body_for(endpoint, interaction)), 422)
    assert errors[0]["reason"] == "notParticipant"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_agent_may_not_pose_as_monitor(module_org: Org, ada: Agent, interaction: str, endpoint: str) -> None:
    errors = error(post(module_org, ada, endpoint, body_for(endpoint, interaction, entityType="Monitor")), 422)
    assert errors[0] == {"scope": "entityType", "reason": "entityTypeNotAllowed", "message": errors[0]["message"]}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_agent_may_send_as_system(module_org: Org, ada: Agent, interaction: str, endpoint: str) -> None:
    assert post(module_org, ada, endpoint, body_for(endpoint, interaction, entityType="System")).status_code == 202


def test_monitor_must_send_as_monitor(module_org: Org, ada: Agent, interaction: str) -> None:
    sam = module_org.agent(module_org.create_user("Sam", "Supervisor", ["supervisor"]))
    assert sam.post(f"/engagementCenter/interactions/{interaction}/monitor", {}).status_code == 202
    for endpoint in ENDPOINTS:
        errors = error(post(module_org, sam, endpoint, body_for(endpoint, interaction, entityType="Agent")), 422)
        assert errors[0]["reason"] == "entityTypeNotAllowed"
        assert post(module_org, sam, endpoint, body_for(endpoint, interaction, entityType="Monitor")).status_code == 202


def test_offered_agent_must_accept_before_sending(new_org: Callable[[], Org]) -> None:
    org = new_org()
    dan = org.agent(org.create_user("Dan", "Offered"))
    customer = org.customer()
    interaction = customer.start_chat("Waiting")
    dan.ready()
    dan.wait_for("engagementCenter.Offered", interactionId=interaction)
    for endpoint in ENDPOINTS:
        errors = error(post(org, dan, endpoint, body_for(endpoint, interaction)), 422)
        assert errors[0]["reason"] == "notActive"
    r = customer.post("/messaging/sendText", {"interactionId": interaction, "text": "anyone?"})
    assert error(r, 422)[0]["reason"] == "notActive"


def test_chat_text_over_4096_characters_is_too_long(module_org: Org, ada: Agent, interaction: str) -> None:
    assert post(module_org, ada, "sendText", body_for("sendText", interaction, text="é" * 4096)).status_code == 202
    errors = error(post(module_org, ada, "sendText", body_for("sendText", interaction, text="é" * 4097)), 422)
    assert errors[0]["reason"] == "textTooLong" and "4096" in errors[0]["message"]


# -- 405 / 413 / 415 / unknown path --------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_wrong_method_is_405_with_allow(module_org: Org, ada: Agent, endpoint: str) -> None:
    for method in ("GET", "PUT", "DELETE"):
        r = module_org.http.request(
            method, f"{module_org.base}/messaging/users/{ada.user_id}/{endpoint}", headers=module_org.headers()
        )
        error(r, 405)
        assert r.headers["allow"] == "POST"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_body_over_64_kib_is_413(module_org: Org, ada: Agent, interaction: str, endpoint: str) -> None:
    big = body_for(endpoint, interaction, padding="x" * (64 * 1024))
    assert error(post(module_org, ada, endpoint, big), 413)[0]["reason"] == "bodyTooLarge"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_non_json_body_is_415(module_org: Org, ada: Agent, interaction: str, endpoint: str) -> None:
    h = {**module_org.headers(ada.session_id), "content-type": "text/plain"}
    r = post(module_org, ada, endpoint, None, headers=h, content=b'{"interactionId": "x"}')
    assert error(r, 415)[0]["scope"] == "content-type"


def test_unknown_path_is_404_in_the_error_body(module_org: Org) -> None:
    assert error(module_org.http.get("/via/v2/nothing/here"), 404)[0]["reason"] == "unknownPath"


# -- idempotency ---------------------------------------------------------------------------------
def test_retry_with_the_same_idempotency_key_delivers_once(
    module_org: Org, ada: Agent, chat: tuple[Customer, str]
) -> None:
    customer, interaction = chat
    customer.drain()
    body = body_for("sendText", interaction, text="exactly once")
    first = post(
        module_org, ada, "sendText", body, headers=module_org.headers(ada.session_id, **{"Idempotency-Key": "k-1"})
    )
    again = post(
        module_org, ada, "sendText", body, headers=module_org.headers(ada.session_id, **{"Idempotency-Key": "k-1"})
    )
    assert first.status_code == again.status_code == 202
    assert first.headers["x-message-id"] == again.headers["x-message-id"]
    texts = [e for e in customer.drain(wait=1) if e["payload"].get("text") == "exactly once"]
    assert len(texts) == 1
    other = post(
        module_org,
        ada,
        "sendText",
        {**body, "text": "different"},
        headers=module_org.headers(ada.session_id, **{"Idempotency-Key": "k-1"}),
    )
    errors = error(other, 422)
    assert errors[0] == {"scope": "idempotency-key", "reason": "idempotencyKeyReused", "message": errors[0]["message"]}


def test_a_retry_is_the_same_request_when_its_decoded_body_is_the_same(
    module_org: Org, ada: Agent, chat: tuple[Customer, str]
) -> None:
    customer, interaction = chat
    customer.drain()
    body = body_for("sendText", interaction, text="same request")
    h = {**module_org.headers(ada.session_id, **{"Idempotency-Key": "k-decoded"}), "content-type": "application/json"}
    compact = json.dumps(body, separators=(",", ":")).encode()
    reordered = json.dumps(dict(reversed(body.items())), indent=2).encode()
    first = post(module_org, ada, "sendText", None, headers=h, content=compact)
    again = post(module_org, ada, "sendText", None, headers=h, content=reordered)
    assert first.status_code == again.status_code == 202, again.text
    assert first.headers["x-message-id"] == again.headers["x-message-id"]
    assert len([e for e in customer.drain(wait=1) if e["payload"].get("text") == "same request"]) == 1
    other_value = json.dumps({**body, "text": "same request!"}).encode()
    assert error(post(module_org, ada, "sendText", None, headers=h, content=other_value), 422)[0]["reason"] == (
        "idempotencyKeyReused"
    )
    other_path = post(module_org, ada, "sendUrl", body_for("sendUrl", interaction), headers=h)
    assert error(other_path, 422)[0]["reason"] == "idempotencyKeyReused"


def test_failed_request_is_not_remembered_for_its_idempotency_key(
    module_org: Org, ada: Agent, interaction: str
) -> None:
    h = module_org.headers(ada.session_id, **{"Idempotency-Key": "k-after-error"})
    assert post(module_org, ada, "sendText", body_for("sendText", interaction, text=""), headers=h).status_code == 400
    assert post(module_org, ada, "sendText", body_for("sendText", interaction), headers=h).status_code == 202
