"""The asyncio clients: ``AsyncClient`` for agent applications, ``AsyncWebChatClient`` for customers.

Their operations are described once (``_agent_api``, ``_webchat_api``); what is written here is
only what awaits: the heartbeat task, the WebSocket's token and ``start_chat``'s three steps.
"""

from __future__ import annotations

from typing import Any, Unpack

import httpx

from parley_client._agent_api import AgentBase, TypingOptions
from parley_client._async_streams import AsyncHost
from parley_client._models import Transcript
from parley_client._typing import AsyncTyping
from parley_client._webchat_api import CustomerBase


class AsyncClient(AgentBase[httpx.AsyncBaseTransport], AsyncHost):
    """An agent application's connection to Parley (asyncio); the awaitable twin of ``Client``."""

    def typing(self, interaction_id: str, **options: Unpack[TypingOptions]) -> AsyncTyping:
        """``async with client.typing(interaction_id):`` says composing now and every ``expires - 1`` s."""
        return AsyncTyping(lambda: self.notify_typing(interaction_id, **options), options.get("expires", 10))

    async def _ws_headers(self, refresh: bool) -> dict[str, str]:
        return self._ws_credentials(await self._token_source(refresh).aget_token(self._http))

    async def _renew_session(self, chats: set[str]) -> list[Transcript]:
        await self._reopen_session()
        return [await self.transcript(chat) for chat in sorted(chats)]


class AsyncWebChatClient(CustomerBase[httpx.AsyncBaseTransport], AsyncHost):
    """A web-chat customer (asyncio): ``await start_chat(name)``, then send, receive and ``disconnect()``."""

    async def start_chat(
        self, contact_name: str, *, contact_email: str | None = None, contact_data: dict[str, Any] | None = None
    ) -> str:
        """Get a web token and a streaming session if there are none yet, then ask for an agent."""
        if self.web_token is None:
            await self.get_web_token()
        if self.session is None:
            await self.start_session()
        return await self._chat(contact_name, contact_email=contact_email, contact_data=contact_data)

    def typing(self, *, expires: int = 10) -> AsyncTyping:
        """``async with customer.typing():`` says composing now and every ``expires - 1`` s."""
        return AsyncTyping(lambda: self.notify_typing(expires=expires), expires)

    async def _ws_headers(self, refresh: bool) -> dict[str, str]:
        return self._ws_credentials()

    async def _renew_session(self, chats: set[str]) -> list[Transcript]:
        await self.start_session()
        return [await self.transcript(chat) for chat in sorted(chats)]
