"""The blocking clients: ``Client`` for agent applications, ``WebChatClient`` for customers.

Their operations are described once (``_agent_api``, ``_webchat_api``); what is written here is
only what blocks: the heartbeat thread, the WebSocket's token and ``start_chat``'s three steps.
"""

from __future__ import annotations

from typing import Any, Unpack

import httpx

from parley_client._agent_api import AgentBase, TypingOptions
from parley_client._models import Transcript
from parley_client._streams import SyncHost
from parley_client._typing import Typing
from parley_client._webchat_api import CustomerBase


class Client(AgentBase[httpx.BaseTransport], SyncHost):
    """An agent application's connection to Parley (blocking).

    ``start_session(user_id)`` opens a streaming session; from then on the client acts as that
    user and sends ``via-client-sessionid`` itself. Pass ``transport`` (any httpx transport, e.g.
    ``httpx.MockTransport``) to replace the network.
    """

    def typing(self, interaction_id: str, **options: Unpack[TypingOptions]) -> Typing:
        """``with client.typing(interaction_id):`` says composing now and every ``expires - 1`` s."""
        return Typing(lambda: self.notify_typing(interaction_id, **options), options.get("expires", 10))

    def _ws_headers(self, refresh: bool) -> dict[str, str]:
        return self._ws_credentials(self._token_source(refresh).get_token(self._http))

    def _renew_session(self, chats: set[str]) -> list[Transcript]:
        self._reopen_session()
        return [self.transcript(chat) for chat in sorted(chats)]


class WebChatClient(CustomerBase[httpx.BaseTransport], SyncHost):
    """A web-chat customer (blocking): ``start_chat(name)``, then send, receive and ``disconnect()``."""

    def start_chat(
        self, contact_name: str, *, contact_email: str | None = None, contact_data: dict[str, Any] | None = None
    ) -> str:
        """Get a web token and a streaming session if there are none yet, then ask for an agent."""
        if self.web_token is None:
            self.get_web_token()
        if self.session is None:
            self.start_session()
        return self._chat(contact_name, contact_email=contact_email, contact_data=contact_data)

    def typing(self, *, expires: int = 10) -> Typing:
        """``with customer.typing():`` says composing now and every ``expires - 1`` s."""
        return Typing(lambda: self.notify_typing(expires=expires), expires)

    def _ws_headers(self, refresh: bool) -> dict[str, str]:
        return self._ws_credentials()

    def _renew_session(self, chats: set[str]) -> list[Transcript]:
        self.start_session()
        return [self.transcript(chat) for chat in sorted(chats)]
