"""Both sides of a chat in a browser test: the widget as a customer uses it, the agent over HTTP."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.e2e.server import Agent

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


class Widget:
    """The customer's side: the chat widget on a page, used the way a person would."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def button(self, name: str) -> Locator:
        return self.page.get_by_role("button", name=name, exact=True)

    @property
    def window(self) -> Locator:
        return self.page.get_by_role("dialog", name=re.compile("support|Chat with us"))

    @property
    def input(self) -> Locator:
        return self.page.get_by_role("textbox", name="Message")

    @property
    def status(self) -> Locator:
        return self.page.locator(".pw-status")

    @property
    def typing(self) -> Locator:
        return self.page.locator(".pw-typing")

    def bubbles(self) -> list[str]:
        return self.page.locator(".pw-msg__bubble").all_inner_texts()

    def message(self, text: str) -> Locator:
        return self.page.locator(".pw-msg__bubble", has_text=text)

    def start_chat(self, name: str, email: str = "") -> None:
        self.button("Open chat").click()
        self.page.get_by_label("Your name").fill(name)
        if email:
            self.page.get_by_label("Email").fill(email)
        self.button("Start chat").click()
        expect(self.status).to_contain_text("Waiting for an agent")

    def send(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), animations="disabled")


def accept_next_chat(agent: Agent) -> str:
    """The agent goes ready, takes the next offer and returns its interaction id."""
    assert agent.ready().status_code == 202
    offer = agent.wait_for("engagementCenter.Offered")["payload"]
    body = {"ehubSessionId": offer["ehubSessionId"]}
    r = agent.post(f"/engagementCenter/interactions/{offer['interactionId']}/accept", body)
    assert r.status_code == 202, r.text
    return str(offer["interactionId"])


def agent_says(agent: Agent, interaction_id: str, text: str) -> str:
    body = {"interactionId": interaction_id, "entityName": "Ada", "entityType": "Agent", "text": text}
    r = agent.post(f"/messaging/users/{agent.user_id}/sendText", body)
    assert r.status_code == 202, r.text
    return r.headers["x-message-id"]


def agent_types(agent: Agent, interaction_id: str, expires_after: int) -> None:
    body = {
        "interactionId": interaction_id,
        "entityName": "Ada",
        "entityType": "Agent",
        "state": "composing",
        "expiresAfterSeconds": expires_after,
    }
    r = agent.post(f"/messaging/users/{agent.user_id}/notification", body)
    assert r.status_code == 202, r.text
