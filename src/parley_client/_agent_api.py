"""The agent side's operations (contract sections 3, 4, 6, 7 SMS preview and 8), described once.

Each ``operation`` builds a ``Call``; ``Client`` and ``AsyncClient`` run it with their own I/O
loop. The client remembers the streaming session it started, so callers never pass
``via-client-sessionid`` or their own user id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypedDict
from urllib.parse import quote

import httpx

from parley_client._auth import ClientCredentials
from parley_client._base import DEFAULT_TIMEOUT, BaseClient, Transport
from parley_client._call import Call, message_id, model, no_content, operation
from parley_client._models import (
    CreateSession,
    CreateUser,
    CreateWebhook,
    Empty,
    EntityType,
    InteractionPage,
    InteractionRecord,
    NotificationParms,
    NotReady,
    OfferAnswer,
    Ready,
    Role,
    SendTextParms,
    SendUrlParms,
    Session,
    SmsPreview,
    SmsPreviewParms,
    Transcript,
    Transfer,
    User,
    UserPage,
    UserState,
    UserStateList,
    Webhook,
    WebhookDelivery,
    WebhookDeliveryList,
    WebhookList,
)
from parley_client._retry import Retries


class TypingOptions(TypedDict, total=False):
    """``notify_typing`` and ``typing``: ``expires`` (10 s), ``entity_type`` ("Agent"), ``entity_name``."""

    expires: int
    entity_type: EntityType
    entity_name: str | None


class AgentBase(BaseClient[Transport]):
    """An agent application's state: the streaming session, whose it is, the name to send as."""

    user_id: str | None = None
    credentials: ClientCredentials | None = None

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
        transport: Transport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.entity_name = entity_name
        self.api_key = api_key
        if auth is None and client_id is not None and client_secret is not None:
            auth = ClientCredentials(base_url, org, client_id, client_secret, scope=scope)
        if isinstance(auth, ClientCredentials):
            self.credentials = auth
        self._given_auth = auth
        super().__init__(base_url, org=org, retries=retries, timeout=timeout, transport=transport, headers=headers)

    def _auth(self) -> httpx.Auth | None:
        return self._given_auth

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = super()._headers(extra)
        if self.api_key is not None:
            headers["x-api-key"] = self.api_key
        return headers

    def _ws_credentials(self, token: str) -> dict[str, str]:
        headers = {"authorization": f"Bearer {token}", **self._session_headers()}
        if self.api_key is not None:
            headers["x-api-key"] = self.api_key
        return headers

    def _token_source(self, refresh: bool) -> ClientCredentials:
        if self.credentials is None:
            raise RuntimeError("WebSocket streaming needs client credentials (client_id and client_secret)")
        if refresh:
            self.credentials.invalidate()
        return self.credentials

    @property
    def acting_user(self) -> str:
        if self.user_id is None:
            raise RuntimeError("no user yet: call start_session(user_id) first")
        return quote(self.user_id, safe="")

    def _adopt(self, session: Session | None, user_id: str | None) -> None:
        self._adopt_session(session)
        self.user_id = user_id

    def _interaction(self, interaction_id: str, action: str) -> str:
        return f"{self.prefix}/engagementCenter/interactions/{quote(interaction_id, safe='')}/{action}"

    # -- provisioning ------------------------------------------------------------------------------
    @operation
    def find_users(
        self,
        *,
        email: str | None = None,
        name: str | None = None,
        max_results: int = 100,
        continuation_token: str | None = None,
    ) -> Call[UserPage]:
        """Users of the organization: by exact ``email``, or by a substring of their ``name``."""
        params: dict[str, str | int] = {"maxResults": max_results}
        for key, value in (("email", email), ("preferredNameValue", name), ("continuationToken", continuation_token)):
            if value is not None:
                params[key] = value
        return Call("GET", f"{self.prefix}/provisioning/users", model(UserPage), params=params)

    @operation
    def create_user(
        self,
        first_name: str,
        last_name: str,
        email: str,
        *,
        preferred_name: str = "",
        roles: list[Role] | None = None,
    ) -> Call[User]:
        """Provision a user (roles default to ``["agent"]``)."""
        body = CreateUser(
            first_name=first_name,
            last_name=last_name,
            email=email,
            preferred_name=preferred_name,
            roles=list(roles or ["agent"]),
        )
        return Call("POST", f"{self.prefix}/provisioning/users", model(User), body=body)

    # -- streaming ---------------------------------------------------------------------------------
    @operation
    def start_session(
        self, user_id: str, *, inactivity_delay: int = 60, require_acknowledgement: bool = False
    ) -> Call[Session]:
        """Open a streaming session for ``user_id``; later calls act as that user in that session."""
        decode_session = model(Session)

        def decode(response: httpx.Response) -> Session:
            session = decode_session(response)
            self._adopt(session, user_id)
            return session

        body = CreateSession(
            user_id=user_id, inactivity_delay=inactivity_delay, require_acknowledgement=require_acknowledgement
        )
        return Call("POST", f"{self.prefix}/streaming/session", decode, body=body)

    @operation
    def _reopen_session(self) -> Call[Session]:
        """A session like the one the server lost: the same user, inactivity delay and acknowledgement."""
        lost, user_id = self.session, self.user_id
        if lost is None or user_id is None:
            raise RuntimeError("no session to replace: call start_session(user_id) first")
        delay, ack = lost.inactivity_delay, lost.require_acknowledgement
        return type(self).start_session.build(self, user_id, inactivity_delay=delay, require_acknowledgement=ack)

    @operation
    def end_session(self) -> Call[None]:
        """End the streaming session (the user becomes notReady when it was their last one)."""

        def decode(response: httpx.Response) -> None:
            self._adopt(None, self.user_id)

        return Call("DELETE", f"{self.prefix}/streaming/session", decode, session=True)

    # -- engagement center -------------------------------------------------------------------------
    @operation
    def ready(self, *, max_concurrent: int = 1) -> Call[None]:
        """Become available for offers."""
        path = f"{self.prefix}/engagementCenter/users/{self.acting_user}/ready"
        return Call("POST", path, no_content, body=Ready(max_concurrent=max_concurrent), session=True)

    @operation
    def not_ready(self, *, reason_id: str = "") -> Call[None]:
        """Stop receiving new offers."""
        path = f"{self.prefix}/engagementCenter/users/{self.acting_user}/notReady"
        return Call("POST", path, no_content, body=NotReady(reason_id=reason_id), session=True)

    @operation
    def accept(self, interaction_id: str, ehub_session_id: str) -> Call[None]:
        """Accept an offered interaction (the ids come from the ``OfferedEvent``)."""
        body = OfferAnswer(ehub_session_id=ehub_session_id)
        return Call("POST", self._interaction(interaction_id, "accept"), no_content, body=body, session=True)

    @operation
    def reject(self, interaction_id: str, ehub_session_id: str) -> Call[None]:
        """Turn an offer down; it goes to someone else."""
        body = OfferAnswer(ehub_session_id=ehub_session_id)
        return Call("POST", self._interaction(interaction_id, "reject"), no_content, body=body, session=True)

    @operation
    def disconnect(self, interaction_id: str) -> Call[None]:
        """End the interaction (a monitoring supervisor just leaves it)."""
        return Call("POST", self._interaction(interaction_id, "disconnect"), no_content, body=Empty(), session=True)

    @operation
    def monitor(self, interaction_id: str) -> Call[None]:
        """Join an interaction as a supervisor; send as ``entity_type="Monitor"`` to whisper."""
        return Call("POST", self._interaction(interaction_id, "monitor"), no_content, body=Empty(), session=True)

    @operation
    def transcript(self, interaction_id: str) -> Call[Transcript]:
        """Every message of the interaction, in the order the server accepted them."""
        return Call("GET", self._interaction(interaction_id, "transcript"), model(Transcript), session=True)

    @operation
    def interactions(
        self,
        *,
        state: Literal["queued", "offered", "active", "ended"] | None = None,
        user_id: str | None = None,
        channel_type: Literal["chat", "sms"] | None = None,
        max_results: int = 100,
        continuation_token: str | None = None,
    ) -> Call[InteractionPage]:
        """Interactions, oldest first; an agent sees only those it is or was in."""
        params: dict[str, str | int] = {"maxResults": max_results}
        for key, value in (
            ("state", state), ("userId", user_id), ("channelType", channel_type),
            ("continuationToken", continuation_token),
        ):  # fmt: skip
            if value is not None:
                params[key] = value
        path = f"{self.prefix}/engagementCenter/interactions"
        return Call("GET", path, model(InteractionPage), params=params, session=True)

    @operation
    def interaction(self, interaction_id: str) -> Call[InteractionRecord]:
        """One interaction's record."""
        path = f"{self.prefix}/engagementCenter/interactions/{quote(interaction_id, safe='')}"
        return Call("GET", path, model(InteractionRecord), session=True)

    @operation
    def users(self, *, state: Literal["ready", "notReady"] | None = None) -> Call[list[UserState]]:
        """Every user's availability: state, not-ready reason, since when, load."""
        decode_list = model(UserStateList)

        def decode(response: httpx.Response) -> list[UserState]:
            return decode_list(response).users

        params: dict[str, str | int] = {} if state is None else {"state": state}
        return Call("GET", f"{self.prefix}/engagementCenter/users", decode, params=params, session=True)

    @operation
    def transfer(self, interaction_id: str, *, to_user_id: str | None = None) -> Call[None]:
        """Hand an active interaction to a ready user, or (without ``to_user_id``) back to the queue."""
        body = Transfer(user_id=to_user_id)
        return Call("POST", self._interaction(interaction_id, "transfer"), no_content, body=body, session=True)

    # -- messaging ---------------------------------------------------------------------------------
    def _messaging(self, action: str) -> str:
        return f"{self.prefix}/messaging/users/{self.acting_user}/{action}"

    @operation
    def send_text(
        self, interaction_id: str, text: str, *, entity_type: EntityType = "Agent", entity_name: str | None = None
    ) -> Call[str]:
        """Send text; returns the new message id."""
        body = SendTextParms(
            interaction_id=interaction_id,
            entity_name=entity_name or self.entity_name,
            entity_type=entity_type,
            text=text,
        )
        return Call("POST", self._messaging("sendText"), message_id, body=body, session=True)

    @operation
    def send_url(
        self, interaction_id: str, url: str, *, entity_type: EntityType = "Agent", entity_name: str | None = None
    ) -> Call[str]:
        """Push a URL; returns the new message id."""
        body = SendUrlParms(
            interaction_id=interaction_id, entity_name=entity_name or self.entity_name, entity_type=entity_type, url=url
        )
        return Call("POST", self._messaging("sendUrl"), message_id, body=body, session=True)

    @operation
    def notify_typing(
        self,
        interaction_id: str,
        *,
        expires: int = 10,
        entity_type: EntityType = "Agent",
        entity_name: str | None = None,
    ) -> Call[None]:
        """Say the user is composing for the next ``expires`` seconds (1..30); see also ``typing()``."""
        body = NotificationParms(
            interaction_id=interaction_id,
            entity_name=entity_name or self.entity_name,
            entity_type=entity_type,
            expires_after_seconds=expires,
        )
        return Call("POST", self._messaging("notification"), no_content, body=body, session=True)

    @operation
    def sms_preview(self, text: str) -> Call[SmsPreview]:
        """How ``text`` would travel as SMS: encoding, segments, the characters forcing UCS-2."""
        return Call("POST", f"{self.prefix}/messaging/sms/preview", model(SmsPreview), body=SmsPreviewParms(text=text))

    # -- outbound webhooks (contract 14) -------------------------------------------------------------
    @operation
    def create_webhook(self, url: str, event_types: list[str] | None = None, *, description: str = "") -> Call[Webhook]:
        """Subscribe ``url`` to ``event_types`` (default every type, ``["*"]``); the answer holds
        the signing ``secret``, which is shown only here and by ``rotate_webhook_secret``."""
        body = CreateWebhook(url=url, event_types=event_types or ["*"], description=description)
        return Call("POST", self._webhooks(), model(Webhook), body=body)

    @operation
    def list_webhooks(self) -> Call[list[Webhook]]:
        decode = model(WebhookList)
        return Call("GET", self._webhooks(), lambda response: decode(response).webhooks)

    @operation
    def get_webhook(self, webhook_id: str) -> Call[Webhook]:
        return Call("GET", self._webhooks(webhook_id), model(Webhook))

    @operation
    def delete_webhook(self, webhook_id: str) -> Call[None]:
        """Remove the subscription and its deliveries."""
        return Call("DELETE", self._webhooks(webhook_id), no_content)

    @operation
    def rotate_webhook_secret(self, webhook_id: str) -> Call[Webhook]:
        """A new secret; for 24 h deliveries are signed by it and by the previous one."""
        return Call("POST", self._webhooks(webhook_id, "rotateSecret"), model(Webhook))

    @operation
    def webhook_deliveries(
        self,
        webhook_id: str,
        *,
        status: Literal["pending", "delivered", "failed"] | None = None,
        max_results: int = 100,
    ) -> Call[list[WebhookDelivery]]:
        """The webhook's deliveries, newest first, optionally only those with ``status``."""
        params: dict[str, str | int] = {"maxResults": max_results}
        if status is not None:
            params["status"] = status
        decode = model(WebhookDeliveryList)
        return Call("GET", self._webhooks(webhook_id, "deliveries"), lambda r: decode(r).deliveries, params=params)

    @operation
    def retry_webhook_delivery(self, webhook_id: str, delivery_id: str) -> Call[None]:
        """Send a delivered or dead-lettered delivery again, with a fresh retry schedule."""
        path = self._webhooks(webhook_id, "deliveries", delivery_id, "retry")
        return Call("POST", path, no_content)

    def _webhooks(self, *parts: str) -> str:
        return "/".join((f"{self.prefix}/webhooks", *(quote(p, safe="") for p in parts)))
