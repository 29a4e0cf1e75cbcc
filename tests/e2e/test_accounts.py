"""Token service (contract 1.2), request authentication (1.3), provisioning (8), API key rate limits."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Org, ServerProcess, running_server

TOKEN = "/tokenservice/oauth2/access_token"


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_token_with_basic_auth_and_realm_in_query(module_org: Org) -> None:
    r = module_org.http.post(
        f"{TOKEN}?realm={module_org.org_id}",
        data={"grant_type": "client_credentials"},
        headers=basic(module_org.client_id, module_org.client_secret),
    )
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599
    assert set(body["scope"].split()) == {"messagingapi", "streamingapi", "engagementcenterapi", "provisioningapi"}
    assert r.headers["cache-control"] == "no-store"


def test_token_with_form_credentials_realm_and_scope_subset(module_org: Org) -> None:
    r = module_org.http.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "realm": module_org.org_id,
            "client_id": module_org.client_id,
            "client_secret": module_org.client_secret,
            "scope": "messagingapi streamingapi",
        },
    )
    assert r.status_code == 200
    assert r.json()["scope"] == "messagingapi streamingapi"


@pytest.mark.parametrize(
    ("form", "auth", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, True, 400, "invalid_request"),  # no realm
        ({"grant_type": "password", "realm": "ORG"}, True, 400, "unsupported_grant_type"),
        ({"realm": "ORG"}, True, 400, "invalid_request"),
        ({"grant_type": "client_credentials", "realm": "ORG", "scope": "adminapi"}, True, 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "realm": "ORG"}, False, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "realm": "unknown-org"}, True, 401, "invalid_client"),
    ],
)
def test_token_errors_follow_rfc_6749(
    module_org: Org, form: dict[str, str], auth: bool, status: int, error: str
) -> None:
    form = {k: v.replace("ORG", module_org.org_id) for k, v in form.items()}
    headers = basic(module_org.client_id, module_org.client_secret) if auth else {}
    r = module_org.http.post(TOKEN, data=form, headers=headers)
    assert r.status_code == status
    body = r.json()
    assert body["error"] == error
    assert body["code"] == status and body["errors"][0]["reason"] == error
    if status == 401:
        assert r.headers["www-authenticate"].startswith("Basic")


def test_wrong_secret_is_invalid_client(module_org: Org) -> None:
    r = module_org.http.post(
        f"{TOKEN}?realm={module_org.org_id}",
        data={"grant_type": "client_credentials"},
        headers=basic(module_org.client_id, "wrong"),
    )
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


def test_client_of_another_org_cannot_get_a_token_for_this_realm(module_org: Org, new_org: Callable[[], Org]) -> None:
    other = new_org()
    r = module_org.http.post(
        f"{TOKEN}?realm={module_org.org_id}",
        data={"grant_type": "client_credentials"},
        headers=basic(other.client_id, other.client_secret),
    )
    assert r.status_code == 401


def test_revoked_api_key_and_client_stop_working(module_server: ServerProcess, new_org: Callable[[], Org]) -> None:
    org = new_org()
    created = json.loads(module_server.cli("admin", "apikey", "create", org.org_id, "--json"))
    h = {**org.headers(), "x-api-key": created["apiKey"]}
    assert org.http.get(org.base + "/provisioning/users", headers=h).status_code == 200
    module_server.cli("admin", "apikey", "revoke", created["keyId"])
    module_server.cli("admin", "client", "revoke", org.client_id)
    # The server caches credentials for at most a few seconds.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r = org.http.get(org.base + "/provisioning/users", headers=h)
        if r.status_code == 401:
            break
        time.sleep(0.5)
    assert r.status_code == 401
    assert r.json()["errors"][0]["reason"] in ("invalidApiKey", "invalidToken")
    # The token endpoint too reads a client's record at most once per cache period.
    while time.monotonic() < deadline:
        r = org.http.post(
            f"{TOKEN}?realm={org.org_id}",
            data={"grant_type": "client_credentials"},
            headers=basic(org.client_id, org.client_secret),
        )
        if r.status_code == 401:
            break
        time.sleep(0.5)
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


# -- provisioning --------------------------------------------------------------------------------
def test_provisioning_creates_and_finds_users(new_org: Callable[[], Org]) -> None:
    org = new_org()
    url = org.base + "/provisioning/users"
    r = org.http.post(
        url,
        json={
            "firstName": "Grace",
            "lastName": "Hopper",
            "email": "Grace@Navy.example",
            "preferredName": "Amazing Grace",
            "roles": ["agent", "supervisor"],
        },
        headers=org.headers(),
    )
    assert r.status_code == 201, r.text
    grace = r.json()
    assert set(grace) == {"userId", "firstName", "lastName", "preferredName", "email", "roles"}
    assert grace["roles"] == ["agent", "supervisor"]
    org.create_user("Alan", "Turing")
    dup = org.http.post(
        url, json={"firstName": "G", "lastName": "H", "email": "grace@navy.EXAMPLE"}, headers=org.headers()
    )
    assert dup.status_code == 422
    assert dup.json()["errors"][0]["reason"] == "duplicateEmail"

    by_email = org.http.get(url, params={"email": "GRACE@navy.example"}, headers=org.headers()).json()
    assert by_email["totalItems"] == 1 and by_email["users"][0]["userId"] == grace["userId"]
    by_name = org.http.get(url, params={"preferredNameValue": "amazing"}, headers=org.headers()).json()
    assert [u["userId"] for u in by_name["users"]] == [grace["userId"]]
    by_full = org.http.get(url, params={"preferredNameValue": "turing"}, headers=org.headers()).json()
    assert [u["firstName"] for u in by_full["users"]] == ["Alan"]


def test_provisioning_pages_with_a_continuation_token(new_org: Callable[[], Org]) -> None:
    org = new_org()
    for i in range(5):
        org.create_user(f"User{i}", "Paged")
    url = org.base + "/provisioning/users"
    seen: list[str] = []
    token = None
    while True:
        params: dict[str, str | int] = {"maxResults": 2}
        if token:
            params["continuationToken"] = token
        page = org.http.get(url, params=params, headers=org.headers()).json()
        assert page["totalItems"] == 5
        seen += [u["userId"] for u in page["users"]]
        token = page.get("continuationToken")
        if not token:
            break
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize(
    "body",
    [
        {"firstName": "A", "lastName": "B"},
        {"firstName": "A", "lastName": "B", "email": "nope"},
        {"firstName": "A", "lastName": "B", "email": "a@b.example", "roles": ["admin"]},
        {"firstName": "", "lastName": "B", "email": "a@b.example"},
    ],
)
def test_provisioning_refuses_bad_users(module_org: Org, body: dict[str, object]) -> None:
    r = module_org.http.post(module_org.base + "/provisioning/users", json=body, headers=module_org.headers())
    assert r.status_code == 400


def test_provisioning_needs_its_scope(module_org: Org) -> None:
    token = module_org.fetch_token(scope="messagingapi")
    r = module_org.http.get(
        module_org.base + "/provisioning/users", headers={**module_org.headers(), "Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 401
    assert r.json()["errors"][0]["reason"] == "insufficientScope"


@pytest.mark.parametrize("query", [{"maxResults": 0}, {"maxResults": 1001}, {"continuationToken": "garbage!"}])
def test_provisioning_query_out_of_range_is_400(module_org: Org, query: dict[str, int | str]) -> None:
    r = module_org.http.get(module_org.base + "/provisioning/users", params=query, headers=module_org.headers())
    assert r.status_code == 400


# -- rate limits -----------------------------------------------------------------------------------
def test_api_key_over_its_rate_gets_429_with_retry_after(tmp_path: Path) -> None:
    env = {"PARLEY_RATE_LIMIT_PER_SECOND": "1", "PARLEY_RATE_LIMIT_BURST": "3"}
    with running_server(tmp_path / "data", env) as server:
        creds = server.bootstrap("limited")
        org = Org(server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
        try:
            responses = [org.http.get(org.base + "/provisioning/users", headers=org.headers()) for _ in range(4)]
            assert [r.status_code for r in responses] == [200, 200, 200, 429]
            assert responses[0].headers["ratelimit-policy"] == '"key";q=3;w=3'
            assert responses[0].headers["ratelimit"] == '"key";r=2;t=1'
            limited = responses[3]
            assert int(limited.headers["retry-after"]) >= 1
            assert limited.headers["ratelimit"].startswith('"key";r=0;')
            assert limited.json()["code"] == 429
        finally:
            org.http.close()


def test_failed_authentications_are_limited_per_client_and_per_address(tmp_path: Path) -> None:
    env = {"PARLEY_TOKEN_FAILURE_RATE_PER_SECOND": "0.5", "PARLEY_TOKEN_FAILURE_BURST": "3"}
    with running_server(tmp_path / "data", env) as server, httpx.Client(base_url=server.base_url) as http:
        creds = server.bootstrap("guarded")

        def token(secret: str, address: str, client_id: str = creds["clientId"]) -> httpx.Response:
            # the test's own address is a trusted proxy, so X-Forwarded-For names the client
            headers = {**basic(client_id, secret), "X-Forwarded-For": address}
            return http.post(f"{TOKEN}?realm=guarded", data={"grant_type": "client_credentials"}, headers=headers)

        failed = [token("wrong", f"198.51.100.{n}") for n in range(3)]
        assert [r.status_code for r in failed] == [401] * 3
        assert failed[0].headers.get_list("ratelimit-policy") == ['"client";q=3;w=6', '"address";q=3;w=6']
        assert failed[2].headers.get_list("ratelimit")[0] == '"client";r=0;t=6'
        # the client id is now refused from anywhere, even with its secret, before it is checked
        limited = token(creds["clientSecret"], "192.0.2.50")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) == 2
        assert limited.headers["ratelimit"] == '"client";r=0;t=6'
        assert limited.json()["errors"][0]["reason"] == "rateLimited"
        assert limited.json()["error"] == "too_many_attempts"

        # one address failing with many client ids is refused too, other addresses are not
        assert [token("x", "203.0.113.7", f"guess{n}").status_code for n in range(4)] == [401] * 3 + [429]
        time.sleep(2)  # one failure of the client's drains
        assert token(creds["clientSecret"], "192.0.2.51").status_code == 200


def test_unknown_org_in_path_is_invalid_token(module_org: Org) -> None:
    r = module_org.http.get("/via/v2/organizations/elsewhere/provisioning/users", headers=module_org.headers())
    assert r.status_code == 401
    assert r.json()["errors"][0]["reason"] == "invalidToken"


def test_openapi_document_covers_every_endpoint(module_org: Org) -> None:
    doc = module_org.http.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    paths = doc["paths"]
    base = "/via/v2/organizations/{orgId}"
    for path in ("sendText", "notification", "sendUrl"):
        op = paths[f"{base}/messaging/users/{{userId}}/{path}"]["post"]
        assert "202" in op["responses"]
        assert {"400", "401", "404", "405", "410", "422", "429", "500", "503"} <= set(op["responses"])
    assert "/tokenservice/oauth2/access_token" in paths
    assert f"{base}/streaming/events" in paths and f"{base}/publicChat/messaging/chat" in paths
    # a web token is had without credentials, or renewed with one
    assert paths[f"{base}/webToken"]["post"]["security"] == [{}, {"webToken": []}]
    schemas = doc["components"]["schemas"]
    assert schemas["SendTextParms"]["properties"]["entityType"]["enum"] == ["Agent", "Monitor", "System"]
    page = module_org.http.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]


def test_health_and_unknown_static_file(module_org: Org) -> None:
    health = module_org.http.get("/healthz")
    assert health.json() == {"status": "ok"}
    assert "server" not in health.headers  # the server software is not advertised
    assert "date" in health.headers
    assert module_org.http.get("/static/nothing.js").status_code == 404
    js = module_org.http.get("/static/docs.js")
    assert js.status_code == 200
    again = module_org.http.get("/static/docs.js", headers={"If-None-Match": js.headers["etag"]})
    assert again.status_code == 304
