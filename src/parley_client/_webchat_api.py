"""The web-chat customer's operations (contract section 7), described once.

The web token is the only credential. The client keeps the token, the streaming session and
the interaction it started, so every later call needs nothing but its content.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from parley_client._auth import BearerToken
from parley_client._base import BaseClient, Transport
from parley_client._call import Call, message_id, model, no_content, operation
from parley_client._models import (
    ChatStarted,
    ContactDisconnect,
    ContactNotification,
    ContactText,
    ContactUrl,
    Empty,
    Session,
    StartChat,
    Transcript,
    WebToken,
)


class CustomerBase(BaseClient[Transport]):
    """A web-chat customer's state: the web token, the streaming session, the chat it started."""

    web_token: str | None = None
    interaction_id: str | None = None

    def _auth(self) -> httpx.Auth:
        return BearerToken(lambda: self.web_token)

    @property
    def streaming_path(self) -> str:
        return f"{self.prefix}/publicChat/streaming"

    def _interaction(self, interaction_id: str | None) -> str:
        chosen = interaction_id or self.interaction_id
        if chosen is None:
            raise RuntimeError("no chat yet: call start_chat() first")
        return chosen

    def _known_chats(self) -> set[str]:
        return {self.interaction_id} if self.interaction_id else set()

    def _ws_credentials(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.web_token}", **self._session_headers()}

    def _keeping_web_token(self) -> Callable[[httpx.Response], WebToken]:
        decode_token = model(WebToken)

        def decode(response: httpx.Response) -> WebToken:
            token = decode_token(response)
            self.web_token = token.token_id
            return token

        return decode

    @operation
    def get_web_token(self) -> Call[WebToken]:
        """A new customer identity: a web token valid for an hour (by default). The earlier token,
        streaming session and interaction belonged to another identity and are dropped first."""
        self.web_token = None
        self.interaction_id = None
        self._adopt_session(None)
        return Call("POST", f"{self.prefix}/webToken", self._keeping_web_token(), body=Empty())

    @operation
    def renew_web_token(self) -> Call[WebToken]:
        """A fresh web token for the same customer, asked for with the current (unexpired) one, so
        the streaming session and the chat carry on past the first token's expiry."""
        if self.web_token is None:
            raise ValueError("there is no web token to renew; get_web_token() first")
        return Call("POST", f"{self.prefix}/webToken", self._keeping_web_token(), body=Empty())

    @operation
    def start_session(self) -> Call[Session]:
        """The customer's streaming session."""
        decode_session = model(Session)

        def decode(response: httpx.Response) -> Session:
            session = decode_session(response)
            self._adopt_session(session)
            return session

        return Call("POST", f"{self.streaming_path}/session", decode, body=Empty())

    @operation
    def _chat(
        self, contact_name: str, *, contact_email: str | None = None, contact_data: dict[str, Any] | None = None
    ) -> Call[str]:
        """Ask for an agent; returns the new interaction's id."""
        decode_started = model(ChatStarted)

        def decode(response: httpx.Response) -> str:
            self.interaction_id = decode_started(response).interaction_id
            return self.interaction_id

        body = StartChat(contact_name=contact_name, contact_email=contact_email, contact_data=contact_data or {})
        return Call("POST", f"{self.prefix}/publicChat/messaging/chat", decode, body=body, session=True)

    @operation
    def send_text(self, text: str, *, interaction_id: str | None = None) -> Call[str]:
        """Send text as the customer; returns the new message id."""
        body = ContactText(interaction_id=self._interaction(interaction_id), text=text)
        return Call("POST", f"{self.prefix}/publicChat/messaging/sendText", message_id, body=body, session=True)

    @operation
    def send_url(self, url: str, *, interaction_id: str | None = None) -> Call[str]:
        """Send a URL as the customer; returns the new message id."""
        body = ContactUrl(interaction_id=self._interaction(interaction_id), url=url)
        return Call("POST", f"{self.prefix}/publicChat/messaging/sendUrl", message_id, body=body, session=True)

    @operation
    def notify_typing(self, *, expires: int = 10, interaction_id: str | None = None) -> Call[None]:
        """Say the customer is composing for the next ``expires`` seconds; see also ``typing()``."""
        body = ContactNotification(interaction_id=self._interaction(interaction_id), expires_after_seconds=expires)
        return Call("POST", f"{self.prefix}/publicChat/messaging/notification", no_content, body=body, session=True)

    @operation
    def transcript(self, interaction_id: str | None = None) -> Call[Transcript]:
        """The chat so far, as the customer sees it (supervisors' whispers left out)."""
        path = f"{self.prefix}/publicChat/interactions/{quote(self._interaction(interaction_id), safe='')}/transcript"
        return Call("GET", path, model(Transcript), session=True)

    @operation
    def disconnect(self, *, interaction_id: str | None = None) -> Call[None]:
        """End the chat."""
        body = ContactDisconnect(interaction_id=self._interaction(interaction_id))
        return Call("POST", f"{self.prefix}/publicChat/messaging/disconnect", no_content, body=body, session=True)
