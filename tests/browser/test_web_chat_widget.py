"""The customer web chat widget in Chromium, against a real server, with an agent answering over HTTP."""

from __future__ import annotations

import contextlib
import http.server
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.accessibility import axe_violations
from tests.browser.conftest import DESKTOP, MOBILE, Problems
from tests.browser.helpers import Widget, accept_next_chat, agent_says, agent_types
from tests.e2e.server import Org, ServerProcess, start_server

pytestmark = pytest.mark.browser

NewPage = Callable[..., Page]


def open_demo(new_page: NewPage, shop: Org, viewport: dict[str, int] = DESKTOP) -> Widget:
    page = new_page(viewport)
    response = page.goto(f"{shop.server.base_url}/demo?org={shop.org_id}")
    assert response is not None and response.ok
    assert "script-src 'self'" in response.headers["content-security-policy"]
    return Widget(page)


def test_demo_page_and_widget_assets_are_served_safely(server: ServerProcess) -> None:
    page = httpx.get(f"{server.base_url}/demo?org=acme")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert 'data-org-id="acme"' in page.text and "<script>" not in page.text and "style=" not in page.text
    assert '<script src="/static/widget.js" data-org-id="demo"' in httpx.get(f"{server.base_url}/demo").text
    refused = httpx.get(f"{server.base_url}/demo", params={"org": '"><script>alert(1)</script>'})
    assert refused.status_code == 400 and refused.json()["errors"][0]["scope"] == "org"
    for name in ("widget.js", "widget.css", "demo.css"):
        asset = httpx.get(f"{server.base_url}/static/{name}")
        assert asset.status_code == 200 and "max-age" in asset.headers["cache-control"]
        again = httpx.get(f"{server.base_url}/static/{name}", headers={"if-none-match": asset.headers["etag"]})
        assert again.status_code == 304
    assert "eval(" not in httpx.get(f"{server.base_url}/static/widget.js").text


def test_customer_chats_with_an_agent_from_start_to_end(new_page: NewPage, shop: Org, problems: Problems) -> None:
    ada = shop.agent(shop.create_user("Ada", "Lovelace"))
    widget = open_demo(new_page, shop)
    widget.screenshot("desktop-closed")
    widget.button("Open chat").click()
    expect(widget.page.get_by_label("Your name")).to_be_focused()
    widget.screenshot("desktop-start-form")
    widget.page.get_by_label("Your name").fill("Carla")
    widget.page.get_by_label("Email").fill("carla@example.com")
    widget.button("Start chat").click()
    expect(widget.status).to_contain_text("Waiting for an agent")

    interaction = accept_next_chat(ada)
    expect(widget.page.get_by_text("Ada Lovelace joined the chat")).to_be_visible()
    expect(widget.status).to_contain_text("Connected")

    # the agent's reply, with a link that opens safely and markup that stays text
    agent_says(ada, interaction, "Hi Carla! Tracking: https://track.example/p/1. <b>Not bold</b>")
    reply = widget.message("Hi Carla!")
    expect(reply).to_be_visible()
    link = reply.get_by_role("link")
    expect(link).to_have_attribute("href", "https://track.example/p/1")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(reply).to_contain_text("<b>Not bold</b>")
    assert reply.locator("b").count() == 0

    # the agent types: the indicator shows, then goes when the notification expires
    agent_types(ada, interaction, expires_after=2)
    expect(widget.typing).to_contain_text("Ada is typing")
    shown = time.monotonic()
    expect(widget.typing).to_be_hidden(timeout=5000)
    assert time.monotonic() - shown < 4

    # the customer types (the agent sees it) and sends a URL on its own: it arrives as a URL
    widget.input.press_sequentially("https://shop.example/orders/42", delay=5)
    composing = ada.wait_for("messaging.Notification", entityType="Contact")["payload"]
    assert composing["state"] == "composing" and composing["expiresAfterSeconds"] == 10
    widget.input.press("Enter")
    assert ada.wait_for("messaging.Url", entityType="Contact")["payload"]["url"] == "https://shop.example/orders/42"
    widget.send("It was due on Monday")
    assert ada.wait_for("messaging.Text", entityType="Contact")["payload"]["text"] == "It was due on Monday"
    agent_says(ada, interaction, "Let me check that for you.")
    expect(widget.message("Let me check that for you.")).to_be_visible()
    widget.screenshot("desktop-conversation")

    # a reload in the middle: the whole conversation once, and the chat goes on
    before = widget.bubbles()
    assert len(before) == 4
    widget.page.reload()
    expect(widget.message("Let me check that for you.")).to_be_visible()
    expect(widget.status).to_contain_text("Connected")
    agent_says(ada, interaction, "It ships tomorrow.")
    expect(widget.message("It ships tomorrow.")).to_be_visible()
    assert widget.bubbles() == [*before, "It ships tomorrow."]
    assert widget.page.get_by_text("joined the chat").count() == 1
    widget.send("Thanks!")
    assert ada.wait_for("messaging.Text", entityType="Contact")["payload"]["text"] == "Thanks!"

    # the customer ends the chat; the agent is told
    widget.button("End chat").click()
    widget.page.get_by_role("group", name="End this chat?").get_by_role("button", name="End chat").click()
    assert ada.wait_for("engagementCenter.Disconnected")["payload"]["disconnectedBy"] == "Contact"
    expect(widget.status).to_contain_text("Chat ended")
    expect(widget.button("Start a new chat")).to_be_focused()
    widget.screenshot("desktop-ended")
    assert widget.bubbles() == [*before, "It ships tomorrow.", "Thanks!"]
    assert problems.messages == []


def test_keyboard_only_customer_on_a_phone(new_page: NewPage, shop: Org, problems: Problems) -> None:
    ada = shop.agent(shop.create_user("Ada", "Phone"))
    widget = open_demo(new_page, shop, MOBILE)
    page = widget.page
    widget.screenshot("mobile-closed")

    launcher = widget.button("Open chat")
    for _ in range(20):  # Tab through the page until the launcher has focus
        page.keyboard.press("Tab")
        if launcher.evaluate("b => b.getRootNode().activeElement === b"):
            break
    else:
        raise AssertionError("the launcher cannot be reached with Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Your name")).to_be_focused()
    box = widget.window.bounding_box()
    assert box is not None and round(box["width"]) == MOBILE["width"] and round(box["height"]) == MOBILE["height"]
    widget.screenshot("mobile-start-form")
    page.keyboard.type("Pat")
    page.keyboard.press("Enter")
    expect(widget.status).to_contain_text("Waiting for an agent")
    expect(widget.input).to_be_focused()

    # written before an agent joins: held, then sent when one does
    page.keyboard.type("Hello, anyone there?")
    page.keyboard.press("Enter")
    expect(widget.page.get_by_text("Sends when an agent joins")).to_be_visible()
    interaction = accept_next_chat(ada)
    assert ada.wait_for("messaging.Text", entityType="Contact")["payload"]["text"] == "Hello, anyone there?"
    agent_says(ada, interaction, "Hello Pat! " + "A long answer that wraps over several lines. " * 4)
    expect(widget.message("Hello Pat!")).to_be_visible()
    expect(widget.page.get_by_text("Sends when an agent joins")).to_be_hidden()
    log = page.get_by_role("log", name="Conversation")
    expect(log).to_have_attribute("aria-live", "polite")
    widget.screenshot("mobile-conversation")
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]

    # Escape closes the window and gives focus back to the launcher; the chat goes on
    page.keyboard.press("Escape")
    expect(widget.window).to_be_hidden()
    expect(launcher).to_be_focused()
    agent_says(ada, interaction, "Are you still there?")
    expect(widget.button("Open chat, 1 new message")).to_be_visible()
    page.keyboard.press("Enter")
    expect(widget.message("Are you still there?")).to_be_visible()
    assert problems.messages == []


def test_network_drop_loses_and_repeats_nothing(new_page: NewPage, shop: Org, problems: Problems) -> None:
    ada = shop.agent(shop.create_user("Ada", "Offline"))
    widget = open_demo(new_page, shop)
    widget.start_chat("Nico")
    interaction = accept_next_chat(ada)
    agent_says(ada, interaction, "First")
    expect(widget.message("First")).to_be_visible()

    widget.page.context.set_offline(True)
    expect(widget.status).to_contain_text("Reconnecting")
    agent_says(ada, interaction, "Second, while you were away")
    agent_says(ada, interaction, "Third")
    widget.send("typed offline")
    widget.screenshot("desktop-reconnecting")
    widget.page.context.set_offline(False)

    expect(widget.message("Third")).to_be_visible()
    expect(widget.status).to_contain_text("Connected")
    assert ada.wait_for("messaging.Text", entityType="Contact")["payload"]["text"] == "typed offline"
    expect(widget.page.locator('.pw-msg[data-status="sent"]')).to_have_count(1)
    assert sorted(widget.bubbles()) == sorted(["First", "Second, while you were away", "Third", "typed offline"])
    texts = [e["payload"].get("text") for e in ada.drain(1) if e["eventType"] == "messaging.Text"]
    assert "typed offline" not in texts  # sent exactly once, however often it was retried
    assert problems.scripting() == []


def poll_page(page: Page, shop: Org) -> str:
    """A page of the server's origin embedding the widget with the long-poll transport; its address."""
    html = (
        "<!doctype html><html lang='en'><head><title>Poll</title></head><body><h1>Shop</h1>"
        f"<script src='/static/widget.js' data-org-id='{shop.org_id}' data-transport='poll'></script></body></html>"
    )
    address = f"{shop.server.base_url}/poll-page"
    page.route(address, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
    return address


def test_long_poll_transport_carries_a_chat(new_page: NewPage, shop: Org, problems: Problems) -> None:
    ada = shop.agent(shop.create_user("Ada", "Poll"))
    page = new_page(DESKTOP)
    page.goto(poll_page(page, shop))
    widget = Widget(page)
    widget.start_chat("Polly")
    interaction = accept_next_chat(ada)
    agent_says(ada, interaction, "Polled hello")
    expect(widget.message("Polled hello")).to_be_visible()
    widget.send("Polled reply")
    assert ada.wait_for("messaging.Text", entityType="Contact")["payload"]["text"] == "Polled reply"
    assert ada.post(f"/engagementCenter/interactions/{interaction}/disconnect", {}).status_code == 202
    expect(widget.status).to_contain_text("Chat ended")
    expect(page.get_by_text("The chat has ended")).to_be_visible()
    assert problems.messages == []


def test_a_long_poll_answer_lost_on_the_way_is_asked_again_from_the_last_event(new_page: NewPage, shop: Org) -> None:
    ada = shop.agent(shop.create_user("Ada", "Poll"))
    page = new_page(DESKTOP)
    lost: list[str] = []

    def lose_the_answer_with_the_text(route: Route) -> None:
        answer = route.fetch()  # the server hands the events out, then the answer never arrives
        if "Lost on the way" in answer.text() and not lost:
            lost.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.fulfill(response=answer)

    address = poll_page(page, shop)
    page.route(re.compile(r"/publicChat/streaming/events\?"), lose_the_answer_with_the_text)
    page.goto(address)
    widget = Widget(page)
    widget.start_chat("Polly")
    interaction = accept_next_chat(ada)
    expect(widget.status).to_contain_text("Connected")
    agent_says(ada, interaction, "Lost on the way")
    expect(widget.message("Lost on the way")).to_be_visible()
    assert lost and "after=" in lost[0]
    page.unroute_all(behavior="ignoreErrors")  # the poll still held by the handler ends with the page


def test_chat_survives_a_server_crash_and_restart(
    new_page: NewPage, tmp_path: Path, browser_server_env: dict[str, str], problems: Problems
) -> None:
    # The in-process event engine forgets every streaming session on restart (as Redis without
    # persistence does): the widget's session answers invalidSession, the widget opens another for
    # the same interaction and catches up from its transcript.
    first = start_server(tmp_path / "data", browser_server_env)
    port = int(first.base_url.rsplit(":", 1)[1])
    creds = first.bootstrap("restart")
    shop = Org(first, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
    second = None
    try:
        ada_id = shop.create_user("Ada", "Restart")
        ada = shop.agent(ada_id)
        widget = open_demo(new_page, shop)
        widget.start_chat("Rita")
        interaction = accept_next_chat(ada)
        agent_says(ada, interaction, "Before the restart")
        expect(widget.message("Before the restart")).to_be_visible()

        first.kill()  # a crash; SIGTERM does not stop a server that holds an open event stream
        expect(widget.status).to_contain_text("Reconnecting")
        widget.page.context.set_offline(True)  # the widget comes back only after the agent has spoken
        second = start_server(tmp_path / "data", browser_server_env, port=port)
        ada = shop.agent(ada_id)
        agent_says(ada, interaction, "While you were away")  # no session of the widget holds this
        widget.page.context.set_offline(False)
        expect(widget.status).to_contain_text("Connected", timeout=20_000)
        expect(widget.message("While you were away")).to_be_visible()  # caught up from the transcript
        agent_says(ada, interaction, "After the restart")
        expect(widget.message("After the restart")).to_be_visible()
        widget.send("Still here")
        assert ada.wait_for("messaging.Text", entityType="Contact")["payload"]["text"] == "Still here"
        assert widget.bubbles() == ["Before the restart", "While you were away", "After the restart", "Still here"]
    finally:
        shop.http.close()
        for server in (first, second):
            if server is not None and server.process.poll() is None:
                server.kill()
    assert problems.scripting() == []  # failed requests are expected here; script errors are not


def test_a_chat_outlasts_its_first_web_token(
    new_page: NewPage, tmp_path: Path, browser_server_env: dict[str, str], problems: Problems
) -> None:
    # Web tokens of 12 s: the widget renews each about 4 s before it expires, with itself as the
    # credential, so the same customer, streaming session and chat carry on.
    env = {**browser_server_env, "PARLEY_WEB_TOKEN_SECONDS": "12"}
    server = start_server(tmp_path / "data", env)
    creds = server.bootstrap("renew")
    shop = Org(server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
    try:
        ada = shop.agent(shop.create_user("Ada", "Renew"))
        widget = open_demo(new_page, shop)
        renewals: list[int] = []
        widget.page.on(
            "response",
            lambda r: (
                renewals.append(r.status)
                if r.url.endswith("/webToken") and r.request.headers.get("authorization")
                else None
            ),
        )
        widget.start_chat("Rena")
        interaction = accept_next_chat(ada)
        agent_says(ada, interaction, "Take your time")
        expect(widget.message("Take your time")).to_be_visible()

        time.sleep(15)  # past the first token's expiry
        agent_says(ada, interaction, "Still with you")
        expect(widget.message("Still with you")).to_be_visible()
        widget.send("Thanks, still here")
        assert ada.wait_for("messaging.Text", entityType="Contact")["payload"]["text"] == "Thanks, still here"
        expect(widget.status).to_contain_text("Connected")
        assert renewals and set(renewals) == {200}
        assert widget.bubbles() == ["Take your time", "Still with you", "Thanks, still here"]
    finally:
        shop.http.close()
        server.kill()
    assert problems.messages == []


def test_the_demo_page_and_the_widget_pass_axe_core_in_every_phase(new_page: NewPage, shop: Org) -> None:
    ada = shop.agent(shop.create_user("Ada", "Lovelace"))
    found: dict[str, list[str]] = {}
    widget = open_demo(new_page, shop)
    found["closed"] = axe_violations(widget.page)
    widget.button("Open chat").click()
    found["start form"] = axe_violations(widget.page)
    widget.page.get_by_label("Your name").fill("Carla")
    widget.button("Start chat").click()
    expect(widget.status).to_contain_text("Waiting for an agent")
    widget.send("Anyone there?")
    found["waiting"] = axe_violations(widget.page)
    interaction = accept_next_chat(ada)
    agent_says(ada, interaction, "Hi Carla! See https://track.example/p/1")
    agent_types(ada, interaction, expires_after=10)
    expect(widget.typing).to_contain_text("Ada is typing")
    found["conversation"] = axe_violations(widget.page)
    widget.button("End chat").click()
    found["confirm end"] = axe_violations(widget.page)
    widget.page.get_by_role("group", name="End this chat?").get_by_role("button", name="End chat").click()
    expect(widget.status).to_contain_text("Chat ended")
    found["ended"] = axe_violations(widget.page)
    phone = open_demo(new_page, shop, MOBILE)
    phone.button("Open chat").click()
    found["phone start form"] = axe_violations(phone.page)
    blocking = [f"{phase}: {violation}" for phase, violations in found.items() for violation in violations]
    assert blocking == [], "\n".join(blocking)


@contextlib.contextmanager
def site_serving(html: str) -> Iterator[str]:
    """A web site of its own origin (another port) whose only page is ``html``; its address."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page) as site:
        thread = threading.Thread(target=site.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{site.server_address[1]}/"
        finally:
            site.shutdown()


def test_a_page_of_another_origin_embeds_the_widget_served_by_parley(new_page: NewPage, shop: Org) -> None:
    ada = shop.agent(shop.create_user("Ada", "Lovelace"))
    embed = f'<script src="{shop.server.base_url}/static/widget.js" data-org-id="{shop.org_id}" defer></script>'
    with site_serving(f"<!doctype html><html lang='en'><title>Shop</title><h1>Shop</h1>{embed}</html>") as site:
        page = new_page()
        page.goto(site)
        widget = Widget(page)
        widget.start_chat("Carla")  # web token, session and chat: CORS requests with a bearer token
        interaction = accept_next_chat(ada)
        agent_says(ada, interaction, "Hello from the other origin")
        expect(widget.message("Hello from the other origin")).to_be_visible()
        widget.send("Thanks")
        assert ada.wait_for("messaging.Text", entityType="Contact")["payload"]["text"] == "Thanks"
