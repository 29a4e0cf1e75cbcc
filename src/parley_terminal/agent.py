"""``parley agent``: an agent desktop in the terminal, built on the SDK."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from parley_client import (
    AcceptCallTimeoutEvent,
    ActiveEvent,
    AsyncClient,
    AsyncEventStream,
    AsyncTyping,
    BaseEvent,
    DisconnectedEvent,
    NotFound,
    NotificationEvent,
    Offered,
    OfferedEvent,
    TextEvent,
    UrlEvent,
    User,
)
from parley_terminal.app import ChatApp
from parley_terminal.screen import Screen

HELP = (
    "commands: /accept  /reject  /end  /url URL  /ready  /notready  /users  /transfer [EMAIL|ID]  /help  /quit"
    " — anything else is sent"
)


@dataclass
class Chat:
    interaction_id: str
    contact: str


async def find_user(client: AsyncClient, email_or_id: str) -> User:
    """A provisioned user by email (any case) or by user id."""
    if "@" in email_or_id:
        page = await client.find_users(email=email_or_id, max_results=1)
        if page.users:
            return page.users[0]
    else:
        token: str | None = None
        while True:
            page = await client.find_users(max_results=1000, continuation_token=token)
            for user in page.users:
                if user.user_id == email_or_id:
                    return user
            token = page.continuation_token
            if not token:
                break
    raise LookupError(f"no user {email_or_id} in organization {client.org}")


class AgentApp(ChatApp):
    def __init__(self, client: AsyncClient, user: str, auto_accept: bool = False, screen: Screen | None = None) -> None:
        super().__init__(screen)
        self.client = client
        self.user_ref = user
        self.auto_accept = auto_accept
        self.me: User | None = None
        self.offer: Offered | None = None
        self.chat: Chat | None = None

    async def start(self) -> None:
        self.me = await find_user(self.client, self.user_ref)
        self.client.entity_name = self.me.display_name
        await self.client.start_session(self.me.user_id)
        await self.client.ready()
        self.view.note(f"Signed in to {self.client.org} as {self.me.display_name} ({self.me.user_id}).", "bold")
        self.view.note("Ready: waiting for offers.")
        self.view.note(HELP)

    def events(self) -> AsyncEventStream:
        return self.client.events(mode="poll")

    def typing(self) -> AsyncTyping | None:
        return self.client.typing(self.chat.interaction_id) if self.chat else None

    async def stop(self) -> None:
        await self.client.end_session()

    async def handle(self, event: BaseEvent) -> None:
        payload = getattr(event, "payload", None)
        mine = self.me is not None and getattr(payload, "user_id", None) == self.me.user_id
        if isinstance(event, OfferedEvent):
            await self._offered(event.payload)
        elif isinstance(event, AcceptCallTimeoutEvent):
            self.offer = None
            self.view.note("The offer timed out; you are not ready now. /ready to take offers again.", "yellow")
        elif isinstance(event, ActiveEvent) and mine:
            contact = self.offer.contact_name if self.offer else "the customer"
            self.chat, self.offer = Chat(event.payload.interaction_id, contact), None
            self.view.note(f"Connected with {contact}. Type to chat; /end to finish.", "bold green")
        elif isinstance(event, TextEvent):
            self.view.text(event.payload, mine)
        elif isinstance(event, UrlEvent):
            self.view.url(event.payload, mine)
        elif isinstance(event, NotificationEvent) and not mine:
            self.view.typing(event.payload)
        elif isinstance(event, DisconnectedEvent):
            self._ended(event.payload.interaction_id, event.payload.disconnected_by, event.payload.reason)

    async def _offered(self, offer: Offered) -> None:
        self.offer = offer
        who = offer.contact_name or offer.contact_address or "a customer"
        line = Text(f"Offer: {offer.channel_type} from {who} — ", style="bold yellow")
        line.append(f"/accept or /reject within {offer.offer_timeout_seconds} s")
        self.screen.print(line)
        if self.auto_accept:
            await self.command("/accept")

    def _ended(self, interaction_id: str, by: str, reason: str = "") -> None:
        if self.chat is None or self.chat.interaction_id != interaction_id:
            return
        who = "you" if by == "Agent" else self.chat.contact if by == "Contact" else by
        self.chat = None
        if reason == "transferred":
            self.view.note("The chat was transferred. Waiting for the next offer.", "bold")
        else:
            self.view.note(f"The chat was ended by {who}. Waiting for the next offer.", "bold")

    async def command(self, line: str) -> None:
        name, _, rest = line.partition(" ")
        if not line.startswith("/"):
            await self._send(line)
        elif name == "/quit":
            self.quit()
        elif name == "/help":
            self.view.note(HELP)
        elif name in ("/accept", "/reject"):
            await self._answer(name == "/accept")
        elif name == "/end":
            await self._end()
        elif name == "/url" and rest.strip():
            await self._send(rest.strip(), url=True)
        elif name == "/ready":
            await self.client.ready()
            self.view.note("Ready: waiting for offers.")
        elif name == "/users":
            await self._users()
        elif name == "/transfer":
            await self._transfer(rest.strip())
        elif name == "/notready":
            await self.client.not_ready()
            self.view.note("Not ready: no new offers.")
        else:
            self.error(f"unknown command {name}; /help lists them")

    async def _users(self) -> None:
        for user in await self.client.users():
            reason = f" ({user.reason_id})" if user.reason_id else ""
            load = f"{user.load}/{user.max_concurrent}"
            self.view.note(f"{user.preferred_name} ({user.user_id}): {user.state}{reason}, {load}")

    async def _transfer(self, to: str) -> None:
        """To a ready colleague (by email or user id), or without one back to the queue."""
        if self.chat is None:
            self.error("no chat in progress")
            return
        target = await find_user(self.client, to) if to else None
        await self.client.transfer(self.chat.interaction_id, to_user_id=target.user_id if target else None)
        self.view.note(f"Transferring to {target.display_name}." if target else "Transferring back to the queue.")

    async def _send(self, content: str, url: bool = False) -> None:
        if self.chat is None:
            self.error("no chat in progress")
        elif url:
            await self.client.send_url(self.chat.interaction_id, content)
        else:
            await self.client.send_text(self.chat.interaction_id, content)

    async def _answer(self, accept: bool) -> None:
        offer = self.offer
        if offer is None:
            self.error("no offer to answer")
            return
        if accept:
            await self.client.accept(offer.interaction_id, offer.ehub_session_id)
        else:
            self.offer = None
            await self.client.reject(offer.interaction_id, offer.ehub_session_id)
            self.view.note("Offer rejected.")

    async def _end(self) -> None:
        if self.chat is None:
            self.error("no chat in progress")
            return
        try:
            await self.client.disconnect(self.chat.interaction_id)
        except NotFound:
            self.chat = None
