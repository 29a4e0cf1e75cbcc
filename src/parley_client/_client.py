"""The blocking clients: ``Client`` for agent applications, ``WebChatClient`` for customers."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from parley_client import _agent_api as agent
from parley_client import _streaming_api as streaming
from parley_client import _webchat_api as webchat
from parley_client._auth import BearerToken
from parley_client._base import DEFAULT_TIMEOUT
from parley_client._call import sync_op
from parley_client._models import EntityType
from parley_client._retry import Retries
from parley_client._streams import SyncHost
from parley_client._typing import Typing


class _Closing(SyncHost):
    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class Client(agent.AgentBase, _Closing):
    """An agent application's connection to Parley (blocking).

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
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(base_url, org, retries)
        self.entity_name = entity_name
        auth, default_headers = self._setup(client_id, client_secret, api_key, scope, auth, headers)
        self._http = httpx.Client(
            base_url=self.base_url, auth=auth, headers=default_headers, timeout=timeout, transport=transport
        )

    find_users = sync_op(agent.find_users)
    create_user = sync_op(agent.create_user)
    start_session = sync_op(agent.start_session)
    end_session = sync_op(agent.end_session)
    poll = sync_op(streaming.poll)
    acknowledge = sync_op(streaming.acknowledge)
    ready = sync_op(agent.ready)
    not_ready = sync_op(agent.not_ready)
    accept = sync_op(agent.accept)
    reject = sync_op(agent.reject)
    disconnect = sync_op(agent.disconnect)
    monitor = sync_op(agent.monitor)
    transcript = sync_op(agent.transcript)
    send_text = sync_op(agent.send_text)
    send_url = sync_op(agent.send_url)
    notify_typing = sync_op(agent.notify_typing)
    sms_preview = sync_op(agent.sms_preview)

    def typing(
        self,
        interaction_id: str,
        *,
        expires: int = 10,
        entity_type: EntityType = "Agent",
        entity_name: str | None = None,
    ) -> Typing:
        """``with client.typing(interaction_id):`` says composing now and every ``expires - 1`` s."""

        def send() -> None:
            self.notify_typing(interaction_id, expires=expires, entity_type=entity_type, entity_name=entity_name)

        return Typing(send, expires)

    def _ws_headers(self, refresh: bool) -> dict[str, str]:
        return self._ws_credentials(self._token_source(refresh).get_token(self._http))


class WebChatClient(webchat.CustomerBase, _Closing):
    """A web-chat customer (blocking): ``start_chat(name)``, then send, receive and ``disconnect()``."""

    def __init__(
        self,
        base_url: str,
        *,
        org: str,
        retries: Retries | int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(base_url, org, retries)
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=BearerToken(lambda: self.web_token),
            headers=self._headers(headers),
            timeout=timeout,
            transport=transport,
        )

    get_web_token = sync_op(webchat.get_web_token)
    renew_web_token = sync_op(webchat.renew_web_token)
    start_session = sync_op(webchat.start_session)
    poll = sync_op(streaming.poll)
    send_text = sync_op(webchat.send_text)
    send_url = sync_op(webchat.send_url)
    notify_typing = sync_op(webchat.notify_typing)
    disconnect = sync_op(webchat.disconnect)

    def start_chat(
        self, contact_name: str, *, contact_email: str | None = None, contact_data: dict[str, Any] | None = None
    ) -> str:
        """Get a web token and a streaming session if there are none yet, then ask for an agent."""
        if self.web_token is None:
            self.get_web_token()
        if self.session is None:
            self.start_session()
        return self._run(webchat.chat(self, contact_name, contact_email=contact_email, contact_data=contact_data))

    def typing(self, *, expires: int = 10) -> Typing:
        """``with customer.typing():`` says composing now and every ``expires - 1`` s."""
        return Typing(lambda: self.notify_typing(expires=expires), expires)

    def _ws_headers(self, refresh: bool) -> dict[str, str]:
        return self._ws_credentials()
