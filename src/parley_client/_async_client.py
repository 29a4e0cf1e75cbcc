"""The asyncio clients: ``AsyncClient`` for agent applications, ``AsyncWebChatClient`` for customers."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from parley_client import _agent_api as agent
from parley_client import _streaming_api as streaming
from parley_client import _webchat_api as webchat
from parley_client._async_streams import AsyncHost
from parley_client._auth import BearerToken
from parley_client._base import DEFAULT_TIMEOUT
from parley_client._call import async_op
from parley_client._models import EntityType
from parley_client._retry import Retries
from parley_client._typing import AsyncTyping


class _Closing(AsyncHost):
    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class AsyncClient(agent.AgentBase, _Closing):
    """An agent application's connection to Parley (asyncio).

    ``start_session(user_id)`` opens a streaming session; from then on the client acts as that
    user and sends ``via-client-sessionid`` itself. Pass ``transport`` (any httpx transport, e.g.
    ``httpx.MockTransport``) to replace the network.
    """

    def __init__(
        self,
        base_url: str,
        *,
        org: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        api_key: str | None = None,
        scope: str | None = None,
        auth: httpx.Auth | None = None,
        entity_name: str = "Agent",
        retries: Retries | int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(base_url, org, retries)
        self.entity_name = entity_name
        auth, default_headers = self._setup(client_id, client_secret, api_key, scope, auth, headers)
        self._http = httpx.AsyncClient(
            base_url=self.base_url, auth=auth, headers=default_headers, timeout=timeout, transport=transport
        )

    find_users = async_op(agent.find_users)
    create_user = async_op(agent.create_user)
    start_session = async_op(agent.start_session)
    end_session = async_op(agent.end_session)
    poll = async_op(streaming.poll)
    acknowledge = async_op(streaming.acknowledge)
    ready = async_op(agent.ready)
    not_ready = async_op(agent.not_ready)
    accept = async_op(agent.accept)
    reject = async_op(agent.reject)
    disconnect = async_op(agent.disconnect)
    monitor = async_op(agent.monitor)
    transcript = async_op(agent.transcript)
    send_text = async_op(agent.send_text)
    send_url = async_op(agent.send_url)
    notify_typing = async_op(agent.notify_typing)
    sms_preview = async_op(agent.sms_preview)

    def typing(
        self,
        interaction_id: str,
        *,
        expires: int = 10,
        entity_type: EntityType = "Agent",
        entity_name: str | None = None,
    ) -> AsyncTyping:
        """``async with client.typing(interaction_id):`` says composing now and every ``expires - 1`` s."""

        async def send() -> None:
            await self.notify_typing(interaction_id, expires=expires, entity_type=entity_type, entity_name=entity_name)

        return AsyncTyping(send, expires)

    async def _ws_headers(self, refresh: bool) -> dict[str, str]:
        return self._ws_credentials(await self._token_source(refresh).aget_token(self._http))


class AsyncWebChatClient(webchat.CustomerBase, _Closing):
    """A web-chat customer (asyncio): ``start_chat(name)``, then send, receive and ``disconnect()``."""

    def __init__(
        self,
        base_url: str,
        *,
        org: str,
        retries: Retries | int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(base_url, org, retries)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=BearerToken(lambda: self.web_token),
            headers=self._headers(headers),
            timeout=timeout,
            transport=transport,
        )

    get_web_token = async_op(webchat.get_web_token)
    renew_web_token = async_op(webchat.renew_web_token)
    start_session = async_op(webchat.start_session)
    poll = async_op(streaming.poll)
    send_text = async_op(webchat.send_text)
    send_url = async_op(webchat.send_url)
    notify_typing = async_op(webchat.notify_typing)
    disconnect = async_op(webchat.disconnect)

    async def start_chat(
        self, contact_name: str, *, contact_email: str | None = None, contact_data: dict[str, Any] | None = None
    ) -> str:
        """Get a web token and a streaming session if there are none yet, then ask for an agent."""
        if self.web_token is None:
            await self.get_web_token()
        if self.session is None:
            await self.start_session()
        return await self._run(webchat.chat(self, contact_name, contact_email=contact_email, contact_data=contact_data))

    def typing(self, *, expires: int = 10) -> AsyncTyping:
        """``async with customer.typing():`` says composing now and every ``expires - 1`` s."""
        return AsyncTyping(lambda: self.notify_typing(expires=expires), expires)

    async def _ws_headers(self, refresh: bool) -> dict[str, str]:
        return self._ws_credentials()
