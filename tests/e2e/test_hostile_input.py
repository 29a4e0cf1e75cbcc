"""Every endpoint of the OpenAPI document, fed malformed input: never a 5xx, always the error body.

The requests carry valid credentials (an agent's token, API key and streaming session; a
customer's web token and session), so the malformed part is what gets past authentication.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.e2e.server import Agent, Customer, Org, open_chat

BODIES: list[tuple[str, bytes, str]] = [
    ("empty", b"", "application/json"),
    ("truncated", b'{"interactionId": "x", "text": ', "application/json"),
    ("array", b"[1, 2, 3]", "application/json"),
    ("string", b'"just a string"', "application/json"),
    (
        "wrong types",
        b'{"interactionId": 5, "text": null, "entityType": "Nope", "userId": [], "url": {}}',
        "application/json",
    ),
    (
        "huge numbers",
        b'{"maxConcurrent": 99999999999999999999999, "expiresAfterSeconds": 1e309, "inactivityDelay": -1}',
        "application/json",
    ),
    (
        "control characters",
        b'{"contactName": "\\u0000\\u001b", "text": "\\ud800", "email": "\\u0000"}',
        "application/json",
    ),
    ("deep nesting", b"[" * 5000 + b"]" * 5000, "application/json"),
    ("not JSON", b"hello", "text/plain"),
    ("invalid UTF-8", b'{"text": "\xff\xfe"}', "application/json"),
    ("form", b"grant_type=client_credentials&scope=%00", "application/x-www-form-urlencoded"),
]
QUERIES = ["maxEvents=abc&timeout=-5", "maxResults=1e99&continuationToken=%00&timeout=0", "email=%ff&timeout=9e99"]
STRANGE_IDS = ["%00", "x" * 300, "..%2F..%2Fetc", "%E2%80%AE"]


@pytest.fixture(scope="module")
def module_server_env() -> dict[str, str]:
    """The module calls every operation of the API many times with one key; the per-key rate limit
    (tested elsewhere) would answer 429 before the checks these tests are about."""
    return {"PARLEY_RATE_LIMIT_PER_SECOND": "0"}


@pytest.fixture(scope="module")
def people(module_org: Org) -> tuple[Agent, Customer, str]:
    agent = module_org.agent(module_org.create_user("Hostile", "Tester"))
    assert agent.ready(max_concurrent=5).status_code == 202
    customer, interaction = open_chat(module_org, agent)
    return agent, customer, interaction


def operations(org: Org) -> list[tuple[str, str]]:
    spec: dict[str, Any] = org.http.get("/openapi.json").json()
    found = [
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]
    return sorted(found, key=lambda op: op[0] == "DELETE")  # ending a session last keeps it for the rest


def fill(path: str, org: Org, agent: Agent, interaction: str, strange: str | None = None) -> str:
    real = {"orgId": org.org_id, "userId": agent.user_id, "interactionId": interaction}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if strange is not None and name != "orgId":
            return strange
        return real.get(name, "unknown")

    return re.sub(r"\{([A-Za-z_]+)\}", value, path)


def credentials(path: str, agent: Agent, customer: Customer) -> dict[str, str]:
    if "/publicChat/" in path or path.endswith("/webToken"):
        return customer.headers()
    return agent.org.headers(agent.session_id)


def ask(http: httpx.Client, method: str, url: str, what: str, **kw: Any) -> None:
    """Send one request and check the answer; an event stream that opens is closed unread."""
    with http.stream(method, url, timeout=30, **kw) as response:
        assert response.status_code < 500, f"{what}: {response.status_code} {response.read()[:300]!r}"
        if response.status_code >= 400 and response.headers.get("content-type", "").startswith("application/json"):
            body = httpx.Response(response.status_code, content=response.read()).json()
            assert isinstance(body.get("code"), int | str) and body.get("message"), f"{what}: {body}"


def test_malformed_bodies_and_queries_never_cause_a_server_error(
    module_org: Org, people: tuple[Agent, Customer, str]
) -> None:
    agent, customer, interaction = people
    http = module_org.http
    checked = 0
    for method, template in operations(module_org):
        path = fill(template, module_org, agent, interaction)
        headers = credentials(template, agent, customer)
        if method in ("POST", "PUT", "PATCH"):
            for name, body, content_type in BODIES:
                sent = {**headers, "Content-Type": content_type}
                ask(http, method, path, f"{method} {template} with {name} body", content=body, headers=sent)
                checked += 1
        else:
            for query in QUERIES:
                ask(http, method, f"{path}?{query}", f"{method} {template}?{query}", headers=headers)
                checked += 1
    assert checked > 100


def test_strange_path_parameters_never_cause_a_server_error(
    module_org: Org, people: tuple[Agent, Customer, str]
) -> None:
    agent, customer, interaction = people
    for method, template in operations(module_org):
        if "{" not in template.replace("{orgId}", ""):
            continue
        for strange in STRANGE_IDS:
            path = fill(template, module_org, agent, interaction, strange)
            headers = {**credentials(template, agent, customer), "Content-Type": "application/json"}
            content = b"{}" if method != "GET" else None
            what = f"{method} {template} with {strange!r}"
            ask(module_org.http, method, path, what, content=content, headers=headers, params={"timeout": 0})


@pytest.mark.parametrize(
    "headers",
    [
        {"via-client-sessionid": "\u00ff" * 10},
        {"Idempotency-Key": "\x85"},
        {"Idempotency-Key": "k" * 5000},
        {"x-api-key": "pak_" + "a" * 10_000},
        {"Authorization": "Bearer " + "a" * 10_000},
        {"Last-Event-ID": "-1"},
    ],
)
def test_strange_headers_never_cause_a_server_error(
    module_org: Org, people: tuple[Agent, Customer, str], headers: dict[str, str]
) -> None:
    agent, _, interaction = people
    body = {"interactionId": interaction, "text": "hi", "entityType": "Agent", "entityName": "H"}
    strange = {name: value.encode("latin-1") for name, value in headers.items()}  # as raw bytes
    sent: dict[str, str | bytes] = {**module_org.headers(agent.session_id), **strange}
    url = module_org.base + f"/messaging/users/{agent.user_id}/sendText"
    ask(module_org.http, "POST", url, f"sendText with {list(headers)}", json=body, headers=sent)


def test_nul_characters_are_refused_by_name_on_every_backend(
    module_org: Org, people: tuple[Agent, Customer, str]
) -> None:
    _, customer, interaction = people
    newcomer = module_org.customer()
    r = newcomer.post("/messaging/chat", {"contactName": "Nul\u0000Name"})
    assert r.status_code == 400
    assert r.json()["errors"][0]["scope"] == "contactName"

    r = customer.post("/messaging/sendText", {"interactionId": interaction, "text": "bad\u0000text"})
    assert (r.status_code, r.json()["errors"][0]["scope"]) == (400, "text")

    r = module_org.http.get(module_org.base + "/provisioning/users?email=a%00b", headers=module_org.headers())
    assert (r.status_code, r.json()["errors"][0]["scope"]) == (400, "email")

    r = module_org.http.post(
        f"/tokenservice/oauth2/access_token?realm={module_org.org_id}",
        content=b"grant_type=client_credentials&client_id=a%00&client_secret=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
