"""The console in Chromium (contract 12): sign-in, the agent desktop, the supervisor view.

Customers are driven over HTTP (tests.e2e.server.Customer); agents and supervisors use the
console the way a person would: by role and accessible name, from the keyboard where it matters.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.accessibility import axe_violations
from tests.browser.conftest import Problems
from tests.browser.helpers import SCREENSHOTS
from tests.e2e.server import PARLEY, Customer, Org, free_port, running_server, start_server

PASSWORD = "a long console password"
NewPage = Callable[..., Page]


def console_user(org: Org, first: str, roles: list[str] | None = None) -> tuple[str, str]:
    """A user with a console password: (email, userId)."""
    user_id = org.create_user(first, "Console", roles)
    email = f"{first.lower()}.console@ex.com"
    done = subprocess.run(
        [PARLEY, "admin", "user", "password", org.org_id, email, "--stdin"],
        input=PASSWORD + "\n", env=org.server.env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return email, user_id


def open_console(page: Page, org: Org) -> None:
    page.goto(f"{org.server.base_url}/console?org={org.org_id}")


def sign_in(page: Page, org: Org, email: str, password: str = PASSWORD) -> None:
    open_console(page, org)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def desk(new_page: NewPage, org: Org, email: str) -> Page:
    page = new_page()
    sign_in(page, org, email)
    expect(page.get_by_role("switch", name="Ready")).to_be_visible()
    return page


def go_ready(page: Page) -> None:
    page.get_by_role("switch", name="Ready").check()
    expect(page.get_by_text("Ready for chats")).to_be_visible()


def accept_offer(page: Page, contact: str) -> None:
    dialog = page.get_by_role("dialog", name="Incoming chat")
    expect(dialog).to_be_visible(timeout=10_000)
    expect(dialog).to_contain_text(contact)
    dialog.get_by_role("button", name="Accept").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name=re.compile(re.escape(contact)))).to_be_visible()


def log(page: Page) -> Any:
    return page.get_by_role("log", name="Conversation")


def send(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")


def customer_texts(customer: Customer, wait: int = 0) -> list[str]:
    return [e["payload"]["text"] for e in customer.drain(wait) if e["eventType"] == "messaging.Text"]


def shot(page: Page, name: str) -> None:
    """A screenshot of a screen (for docs/console.md), which must also pass axe-core."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), animations="disabled")
    assert axe_violations(page) == [], name


def test_sign_in_wrong_then_right_survives_a_reload_and_signs_out(
    shop: Org, new_page: NewPage, problems: Problems
) -> None:
    email, _ = console_user(shop, "Ada")
    page = new_page()
    sign_in(page, shop, email, "not the password")
    expect(page.get_by_role("alert")).to_contain_text("the email or password is wrong")
    shot(page, "sign-in")
    sign_in(page, shop, email)
    expect(page.get_by_role("switch", name="Ready")).to_be_visible()
    assert page.evaluate("document.cookie") == ""  # the credential is out of the page's reach

    page.reload()
    expect(page.get_by_role("switch", name="Ready")).to_be_visible()
    alerts = page.get_by_role("checkbox", name="Alert me when hidden")
    alerts.check()
    page.reload()
    expect(alerts).to_be_checked()  # a preference kept in the browser
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert problems.scripting() == []


def test_keyboard_only_sign_in(shop: Org, new_page: NewPage) -> None:
    email, _ = console_user(shop, "Kim")
    page = new_page()
    page.goto(f"{shop.server.base_url}/console")
    expect(page.get_by_label("Organization")).to_be_focused()
    page.keyboard.type(shop.org_id)
    page.keyboard.press("Tab")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    ready = page.get_by_role("switch", name="Ready")
    expect(ready).to_be_focused()
    page.keyboard.press("Space")
    expect(ready).to_be_checked()


def test_ready_offer_accept_text_both_ways_with_typing_then_end(
    shop: Org, new_page: NewPage, problems: Problems
) -> None:
    email, _ = console_user(shop, "Ada")
    page = desk(new_page, shop, email)
    shot(page, "desk")
    go_ready(page)
    customer = shop.customer()
    interaction = customer.start_chat("Carla Customer")
    expect(page.get_by_role("dialog", name="Incoming chat")).to_contain_text(re.compile(r"Answer within \d+ s"))
    shot(page, "incoming-chat")
    accept_offer(page, "Carla Customer")
    customer.wait_for("engagementCenter.Active")

    assert (
        customer.post("/messaging/notification", {"interactionId": interaction, "state": "composing"}).status_code
        == 202
    )
    expect(page.get_by_text("Carla Customer is typing…")).to_be_visible()
    assert (
        customer.post("/messaging/sendText", {"interactionId": interaction, "text": "Where is my order?"}).status_code
        == 202
    )
    expect(log(page)).to_contain_text("Where is my order?")
    expect(page.get_by_text("Carla Customer is typing…")).to_be_hidden()

    page.get_by_role("textbox", name="Message").press_sequentially("On its w")
    assert customer.wait_for("messaging.Notification", state="composing")["payload"]["entityName"] == "Ada Console"
    page.get_by_role("textbox", name="Message").press_sequentially("ay")
    page.get_by_role("textbox", name="Message").press("Enter")
    assert customer.wait_for("messaging.Text", text="On its way")["payload"]["entityName"] == "Ada Console"
    expect(log(page)).to_contain_text("On its way")
    page.get_by_role("textbox", name="Link").fill("https://example.com/track")
    page.get_by_role("button", name="Send link").click()
    assert customer.wait_for("messaging.Url")["payload"]["url"] == "https://example.com/track"
    shot(page, "conversation")

    page.get_by_role("button", name="End chat").click()
    customer.wait_for("engagementCenter.Disconnected")
    expect(page.get_by_text("Chat ended. Read-only transcript.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message")).to_be_hidden()
    shot(page, "ended")
    page.get_by_role("switch", name="Ready").click()  # unchecking asks for a reason first
    expect(page.get_by_role("dialog", name="Not ready")).to_be_visible()
    shot(page, "not-ready")
    page.get_by_label("Reason").select_option(label="Lunch")
    page.get_by_role("button", name="Set not ready").click()
    expect(page.get_by_text("Not ready (lunch)")).to_be_visible()
    expect(log(page)).to_contain_text("Where is my order?")
    assert problems.scripting() == []


def test_a_rejected_offer_goes_away(shop: Org, new_page: NewPage) -> None:
    email, _ = console_user(shop, "Ada")
    page = desk(new_page, shop, email)
    go_ready(page)
    shop.customer().start_chat("Rita Rejected")
    dialog = page.get_by_role("dialog", name="Incoming chat")
    expect(dialog).to_contain_text("Rita Rejected", timeout=10_000)
    dialog.get_by_role("button", name="Reject").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("navigation", name="Conversations")).not_to_contain_text("Rita Rejected")


def test_two_chats_at_once_with_unread_counts(shop: Org, new_page: NewPage) -> None:
    email, _ = console_user(shop, "Ada")
    page = desk(new_page, shop, email)
    go_ready(page)
    first, second = shop.customer(), shop.customer()
    one = first.start_chat("First Customer")
    accept_offer(page, "First Customer")
    two = second.start_chat("Second Customer")
    accept_offer(page, "Second Customer")
    first.wait_for("engagementCenter.Active")
    assert first.post("/messaging/sendText", {"interactionId": one, "text": "hello from one"}).status_code == 202
    conversations = page.get_by_role("navigation", name="Conversations")
    expect(conversations.get_by_label("1 unread")).to_be_visible()
    conversations.get_by_role("button", name=re.compile("First Customer")).click()
    expect(log(page)).to_contain_text("hello from one")
    expect(conversations.get_by_label("1 unread")).to_have_count(0)
    send(page, "answer to one")
    assert first.wait_for("messaging.Text", text="answer to one")
    assert "answer to one" not in customer_texts(second)
    assert two


def test_a_reload_mid_chat_shows_a_message_sent_meanwhile_exactly_once(shop: Org, new_page: NewPage) -> None:
    email, _ = console_user(shop, "Ada")
    page = desk(new_page, shop, email)
    go_ready(page)
    customer = shop.customer()
    interaction = customer.start_chat("Rhea Reload")
    accept_offer(page, "Rhea Reload")
    customer.wait_for("engagementCenter.Active")
    send(page, "before the reload")
    expect(log(page)).to_contain_text("before the reload")

    page.evaluate("window.stop()")
    page.goto("about:blank")
    assert (
        customer.post("/messaging/sendText", {"interactionId": interaction, "text": "sent meanwhile"}).status_code
        == 202
    )
    page.go_back()
    expect(log(page)).to_contain_text("sent meanwhile")
    time.sleep(1.5)  # a duplicate would arrive with the resumed stream
    text = log(page).inner_text()
    assert text.count("sent meanwhile") == 1 and text.count("before the reload") == 1
    expect(page.get_by_role("switch", name="Ready")).to_be_checked()


def test_a_chat_is_transferred_between_two_agents(shop: Org, new_page: NewPage) -> None:
    ada_email, _ = console_user(shop, "Ada")
    bob_email, _ = console_user(shop, "Bob")
    ada = desk(new_page, shop, ada_email)
    go_ready(ada)
    customer = shop.customer()
    customer.start_chat("Tess Transfer")
    accept_offer(ada, "Tess Transfer")
    customer.wait_for("engagementCenter.Active")
    bob = desk(new_page, shop, bob_email)
    go_ready(bob)

    ada.get_by_role("button", name="Transfer", exact=True).click()
    dialog = ada.get_by_role("dialog", name="Transfer")
    expect(dialog.get_by_label("Transfer to")).to_contain_text("Bob Console")
    shot(ada, "transfer")
    dialog.get_by_label("Transfer to").select_option(label="Bob Console")
    dialog.get_by_role("button", name="Transfer chat").click()
    expect(ada.get_by_text("Transferred. Read-only transcript.")).to_be_visible()
    accept_offer(bob, "Tess Transfer")
    assert customer.wait_for("engagementCenter.Active", entityName="Bob Console")
    send(bob, "Bob here")
    assert customer.wait_for("messaging.Text", text="Bob here")


def test_a_supervisor_monitors_and_whispers_without_the_customer_seeing_it(shop: Org, new_page: NewPage) -> None:
    ada_email, _ = console_user(shop, "Ada")
    sue_email, _ = console_user(shop, "Sue", ["agent", "supervisor"])
    ada = desk(new_page, shop, ada_email)
    go_ready(ada)
    customer = shop.customer()
    customer.start_chat("Mona Monitored")
    accept_offer(ada, "Mona Monitored")
    customer.wait_for("engagementCenter.Active")

    sue = desk(new_page, shop, sue_email)
    agents = sue.get_by_role("table", name="Agents")
    expect(agents).to_contain_text("Ada")
    expect(agents).to_contain_text("1 / 3")
    interactions = sue.get_by_role("table", name="Interactions")
    expect(interactions).to_contain_text("Mona Monitored")
    shot(sue, "supervisor")
    interactions.get_by_role("button", name="Monitor Mona Monitored").click()
    whisper = sue.get_by_role("textbox", name="Whisper")
    expect(whisper).to_be_visible()
    whisper.fill("offer the discount")
    whisper.press("Enter")
    expect(log(ada)).to_contain_text("offer the discount")
    expect(log(sue)).to_contain_text("offer the discount")
    shot(sue, "monitor")
    send(ada, "visible to all")
    customer.wait_for("messaging.Text", text="visible to all")
    seen = [e["payload"] for e in customer.seen if e["eventType"] == "messaging.Text"]
    assert all(p["entityType"] != "Monitor" for p in seen)
    assert "offer the discount" not in [p["text"] for p in seen]
    sue.reload()
    expect(sue.get_by_role("textbox", name="Whisper")).to_be_visible()
    expect(log(sue)).to_contain_text("visible to all")


def test_the_first_screen_is_interactive_within_a_second(shop: Org, new_page: NewPage) -> None:
    """From the start of navigation to the mark the console sets once its first screen takes input
    (the sign-in form, or the signed-in desk with its conversations and stream set up)."""
    email, _ = console_user(shop, "Tia")
    page = new_page()
    open_console(page, shop)
    expect(page.get_by_label("Organization")).to_be_focused()
    sign_in(page, shop, email)
    expect(page.get_by_role("switch", name="Ready")).to_be_focused()
    timings = []
    for _ in range(3):
        page.reload()
        expect(page.get_by_role("switch", name="Ready")).to_be_focused()
        timings.append(page.evaluate("performance.getEntriesByName('console-interactive')[0].startTime"))
    print(f"console interactive after {sorted(timings)} ms")
    assert sorted(timings)[1] < 1000, timings


def test_an_sms_draft_shows_its_encoding_and_segment_count(
    browser_server_env: dict[str, str], tmp_path: Path, new_page: NewPage
) -> None:
    secret = "console-webhook-secret"
    env = {
        **browser_server_env,
        # A gateway that is not running: the handset's SMS still arrives through the webhook.
        "PARLEY_SMS_GATEWAY": f"kannel://parley:pw@127.0.0.1:{free_port()}",
        "PARLEY_SMS_WEBHOOK_SECRET": secret,
    }
    with running_server(tmp_path / "data", env) as server:
        creds = server.bootstrap("smsorg")
        org = Org(server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
        server.cli("admin", "number", "add", org.org_id, "+4930901820")
        email, _ = console_user(org, "Ada")
        page = desk(new_page, org, email)
        go_ready(page)
        mo = {"secret": secret, "id": "mo-1", "from": "+4915100000001", "to": "+4930901820", "text": "Hi there",
              "charset": "UTF-8", "time": "1700000000"}  # fmt: skip
        assert org.http.get("/sms/kannel/mo", params=mo).status_code == 200
        accept_offer(page, "+4915100000001")
        expect(log(page)).to_contain_text("Hi there")
        info = page.get_by_text(re.compile("^SMS: "))
        box = page.get_by_role("textbox", name="Message")
        box.fill("Hello")
        box.press("End")  # typing fires the preview
        expect(info).to_have_text("SMS: GSM-7, 5 characters, 1 segment")
        box.fill("x" * 160 + "€")
        box.press("End")
        expect(info).to_have_text("SMS: GSM-7, 161 characters, 2 segments")
        box.fill("Grüße 😀")
        box.press("End")
        expect(info).to_contain_text("UCS-2 (because of 😀)")
        shot(page, "sms")
        org.http.close()


def test_a_server_restart_mid_chat_loses_and_duplicates_nothing(
    browser_server_env: dict[str, str], tmp_path: Path, new_page: NewPage
) -> None:
    port = free_port()
    server = start_server(tmp_path / "data", browser_server_env, port)
    try:
        creds = server.bootstrap("restartorg")
        org = Org(server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
        email, _ = console_user(org, "Ada")
        page = desk(new_page, org, email)
        go_ready(page)
        customer = org.customer()
        interaction = customer.start_chat("Remy Restart")
        accept_offer(page, "Remy Restart")
        customer.wait_for("engagementCenter.Active")
        send(page, "before the restart")
        expect(log(page)).to_contain_text("before the restart")

        server.stop()
        server = start_server(tmp_path / "data", browser_server_env, port)
        # In-process events: every streaming session, the customer's too, ends with the process.
        again = org.http.post(org.base + "/publicChat/streaming/session", json={}, headers={
            "Authorization": f"Bearer {customer.token}"})  # fmt: skip
        customer.session_id = again.json()["sessionId"]
        sent = customer.post("/messaging/sendText", {"interactionId": interaction, "text": "after the restart"})
        assert sent.status_code == 202, sent.text
        expect(log(page)).to_contain_text("after the restart", timeout=15_000)
        time.sleep(1.5)
        text = log(page).inner_text()
        assert text.count("before the restart") == 1 and text.count("after the restart") == 1
        send(page, "still here")
        assert customer.wait_for("messaging.Text", text="still here")
        expect(page.get_by_role("switch", name="Ready")).not_to_be_checked()  # as the restarted server says
        org.http.close()
    finally:
        server.stop()


def test_an_offer_notifies_while_the_tab_is_hidden_when_the_user_asked(shop: Org, new_page: NewPage) -> None:
    email, _ = console_user(shop, "Ada")
    page = new_page(permissions=["notifications"])
    sign_in(page, shop, email)
    page.get_by_role("checkbox", name="Alert me when hidden").check()
    go_ready(page)
    # The tab goes to the background; notifications are recorded instead of shown.
    page.evaluate("""() => {
        Object.defineProperty(document, "hidden", { get: () => true });
        window.shown = [];
        window.Notification = class { constructor(title, options) { window.shown.push([title, options.body]); } };
        window.Notification.permission = "granted";
    }""")
    shop.customer().start_chat("Nia Notified")
    expect(page.get_by_role("dialog", name="Incoming chat")).to_be_visible(timeout=10_000)
    assert page.evaluate("window.shown") == [["Incoming chat", "Nia Notified · chat"]]
