"""``parley chat``: talk to an organization's agents as a web-chat customer, built on the SDK."""

from __future__ import annotations

import contextlib

from parley_client import (
    ActiveEvent,
    AsyncEventStream,
    AsyncTyping,
    AsyncWebChatClient,
    BaseEvent,
    DisconnectedEvent,
    Gone,
    NotificationEvent,
    TextEvent,
    UrlEvent,
)
from parley_terminal.app import ChatApp
from parley_terminal.screen import Screen

HELP = "commands: /url URL  /end (or /quit)  /help — anything else is sent"


class CustomerApp(ChatApp):
    def __init__(self, client: AsyncWebChatClient, name: str, screen: Screen | None = None) -> None:
        super().__init__(screen)
        self.client = client
        self.name = name
        self.connected = False
        self.ended = False

    async def start(self) -> None:
        interaction = await self.client.start_chat(self.name)
        self.view.note(f"Hello {self.name}. Waiting for an agent… (chat {interaction})", "bold")
        self.view.note(HELP)

    def events(self) -> AsyncEventStream:
        return self.client.events(mode="poll")

    def typing(self) -> AsyncTyping | None:
        return self.client.typing() if self.connected else None

    async def stop(self) -> None:
        if not self.ended:
            await self.client.disconnect()

    async def handle(self, event: BaseEvent) -> None:
        if isinstance(event, ActiveEvent):
            self.connected = True
            self.view.note(f"{event.payload.entity_name} joined the chat.", "bold green")
        elif isinstance(event, TextEvent):
            self.view.text(event.payload, event.payload.entity_type == "Contact")
        elif isinstance(event, UrlEvent):
            self.view.url(event.payload, event.payload.entity_type == "Contact")
        elif isinstance(event, NotificationEvent) and event.payload.entity_type != "Contact":
            self.view.typing(event.payload)
        elif isinstance(event, DisconnectedEvent) and not self.ended:
            self.ended = True
            who = "you" if event.payload.disconnected_by == "Contact" else "the agent"
            self.view.note(f"The chat was ended by {who}. Goodbye!", "bold")
            self.quit()

    async def command(self, line: str) -> None:
        name, _, rest = line.partition(" ")
        if not line.startswith("/"):
            await self.client.send_text(line)
        elif name in ("/end", "/quit"):
            self.ended = True  # what follows says goodbye, not the Disconnected event it causes
            with contextlib.suppress(Gone):
                await self.client.disconnect()
            self.view.note("You left the chat. Goodbye!", "bold")
            self.quit()
        elif name == "/url" and rest.strip():
            await self.client.send_url(rest.strip())
        elif name == "/help":
            self.view.note(HELP)
        else:
            self.error(f"unknown command {name}; /help lists them")
