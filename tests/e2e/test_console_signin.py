"""Console sign-in over real HTTP (contract 12): passwords, limits, the cookie, user-bound tokens."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import PARLEY, Org, free_port

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PASSWORD = "correct horse battery"


def set_password(org: Org, email: str, password: str) -> None:
    done = subprocess.run(
        [PARLEY, "admin", "user", "password", org.org_id, email, "--stdin"],
        input=password + "\n",
        env=org.server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def console(org: Org) -> httpx.Client:
    return httpx.Client(base_url=org.server.base_url, timeout=30)


@pytest.fixture
def browser(org: Org) -> Iterator[httpx.Client]:
    with console(org) as client:
        yield client


def sign_in(browser: httpx.Client, org: Org, email: str, password: str) -> httpx.Response:
    return browser.post("/console/api/session", json={"orgId": org.org_id, "email": email, "password": password})


@SQLITE
def test_a_user_signs_in_mints_tokens_bound_to_itself_and_signs_out(org: Org, browser: httpx.Client) -> None:
    ada = org.create_user("Ada", "Signin")
    bob = org.create_user("Bob", "Signin")
    set_password(org, "ada.signin@ex.com", PASSWORD)

    r = sign_in(browser, org, "ADA.signin@ex.com", PASSWORD)
    assert r.status_code == 200, r.text
    assert r.json()["userId"] == ada
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console/api" in cookie
    assert PASSWORD not in r.text

    minted = browser.post("/console/api/token")
    assert minted.status_code == 200, minted.text
    body = minted.json()
    assert body["expiresIn"] <= 600 and body["userId"] == ada
    headers = {"Authorization": f"Bearer {body['accessToken']}", "x-api-key": body["apiKey"]}
    own = browser.post(org.base + "/streaming/session", json={"userId": ada}, headers=headers)
    assert own.status_code == 200, own.text
    other = browser.post(org.base + "/streaming/session", json={"userId": bob}, headers=headers)
    assert other.status_code == 401
    assert other.json()["errors"][0] == {
        "scope": "authorization",
        "reason": "insufficientScope",
        "message": "this credential acts only as its own user",
    }
    session = {**headers, "via-client-sessionid": own.json()["sessionId"]}
    ready_as_bob = browser.post(org.base + f"/engagementCenter/users/{bob}/ready", json={}, headers=session)
    assert ready_as_bob.json()["errors"][0]["reason"] == "insufficientScope"
    assert browser.post(org.base + f"/engagementCenter/users/{ada}/ready", json={}, headers=session).status_code == 202
    provisioning = browser.get(org.base + "/provisioning/users", headers=headers)
    assert provisioning.json()["errors"][0]["reason"] == "insufficientScope"

    assert browser.delete("/console/api/session").status_code == 204
    after = browser.get(org.base + "/streaming/events", params={"timeout": 0}, headers=session)
    assert (after.status_code, after.json()["errors"][0]["reason"]) == (401, "invalidToken")
    assert browser.post("/console/api/token").status_code == 401
    with console(org) as stranger:
        assert stranger.post("/console/api/token").status_code == 401


@SQLITE
def test_failed_sign_ins_answer_one_generic_message_and_are_limited_per_account(
    org: Org, browser: httpx.Client
) -> None:
    org.create_user("Cy", "Limited")
    set_password(org, "cy.limited@ex.com", PASSWORD)

    wrong = sign_in(browser, org, "cy.limited@ex.com", "not the password")
    nobody = sign_in(browser, org, "nobody@ex.com", PASSWORD)
    no_org = browser.post("/console/api/session", json={"orgId": "nowhere", "email": "a@b.c", "password": "x"})
    assert wrong.status_code == nobody.status_code == no_org.status_code == 401
    assert wrong.json() == nobody.json() == no_org.json()
    assert "set-cookie" not in wrong.headers
    for _ in range(4):
        assert sign_in(browser, org, "cy.limited@ex.com", "still wrong").status_code == 401
    limited = sign_in(browser, org, "cy.limited@ex.com", PASSWORD)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["errors"][0]["message"] == wrong.json()["errors"][0]["message"]


@SQLITE
def test_an_invitation_link_sets_a_password_once(org: Org, browser: httpx.Client) -> None:
    dee = org.create_user("Dee", "Invited")
    out = org.server.cli("admin", "user", "invite", org.org_id, "dee.invited@ex.com", "--json")
    link = httpx.URL(json.loads(out)["link"])
    assert link.path == "/console" and link.fragment.startswith("invite=")
    token = link.fragment.removeprefix("invite=")

    short = browser.post("/console/api/invite", json={"token": token, "password": "short"})
    assert (short.status_code, short.json()["errors"][0]["reason"]) == (400, "invalidPassword")
    accepted = browser.post("/console/api/invite", json={"token": token, "password": PASSWORD})
    assert accepted.status_code == 200 and accepted.json()["userId"] == dee
    again = browser.post("/console/api/invite", json={"token": token, "password": "another long one"})
    assert (again.status_code, again.json()["errors"][0]["reason"]) == (401, "invalidInvite")
    assert sign_in(browser, org, "dee.invited@ex.com", PASSWORD).status_code == 200


def test_the_demo_banner_prints_console_passwords_that_sign_in(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PARLEY_DATA_DIR": str(tmp_path / "data"), "PARLEY_LOG_LEVEL": "warning"}
    with subprocess.Popen(
        [PARLEY, "serve", "--demo", "--port", str(port)], env=env, stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            banner = [next(process.stdout) for _ in range(14)]
            passwords = [line.split()[-1] for line in banner if "console password" in line]
            assert len(passwords) == 2
            assert f"  console        http://127.0.0.1:{port}/console?org=demo\n" in banner
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    httpx.get(base + "/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            body = {"orgId": "demo", "email": "sam@demo.example", "password": passwords[1]}
            signed_in = httpx.post(base + "/console/api/session", json=body, timeout=30)
            assert signed_in.status_code == 200 and "supervisor" in signed_in.json()["roles"]
        finally:
            process.terminate()
            process.wait(30)
