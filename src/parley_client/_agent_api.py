"""The agent side's operations (contract sections 3, 4, 6, 7 SMS preview and 8), described once.

Each function builds a ``Call``; ``Client`` and ``AsyncClient`` expose it as a method. The
client remembers the streaming session it started, so callers never pass
``via-client-sessionid`` or their own user id.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

import httpx

from parley_client._auth import ClientCredentials
from parley_client._base import BaseClient
from parley_client._call import Call, message_id, model, no_content
from parley_client._models import (
    CreateSession,
    CreateUser,
    Empty,
    EntityType,
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
    User,
    UserPage,
)


class AgentBase(BaseClient):
    """An agent application's state: the streaming session, whose it is, the name to send as."""

    user_id: str | None = None
    entity_name: str = "Agent"
    api_key: str | None = None
    credentials: ClientCredentials | None = None

    def _setup(
        self,
        client_id: str | None,
        client_secret: str | None,
        api_key: str | None,
        scope: str | None,
        auth: httpx.Auth | None,
        headers: Mapping[str, str] | None,
    ) -> tuple[httpx.Auth | None, dict[str, str]]:
        """The httpx auth and default headers for these credentials."""
        if auth is None and client_id is not None and client_secret is not None:
            self.credentials = ClientCredentials(self.base_url, self.org, client_id, client_secret, scope=scope)
            auth = self.credentials
        elif isinstance(auth, ClientCredentials):
            self.credentials = auth
        self.api_key = api_key
        default_headers = self._headers(headers)
        if api_key is not None:
            default_headers["x-api-key"] = api_key
        return auth, default_headers

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


def _interaction(c: AgentBase, interaction_id: str, action: str) -> str:
    return f"{c.prefix}/engagementCenter/interactions/{quote(interaction_id, safe='')}/{action}"


# -- provisioning ----------------------------------------------------------------------------------
def find_users(
    c: AgentBase,
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
    return Call("GET", f"{c.prefix}/provisioning/users", model(UserPage), params=params)


def create_user(
    c: AgentBase,
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
    return Call("POST", f"{c.prefix}/provisioning/users", model(User), body=body)


# -- streaming -------------------------------------------------------------------------------------
def start_session(
    c: AgentBase, user_id: str, *, inactivity_delay: int = 60, require_acknowledgement: bool = False
) -> Call[Session]:
    """Open a streaming session for ``user_id``; later calls act as that user in that session."""
    decode_session = model(Session)

    def decode(response: httpx.Response) -> Session:
        session = decode_session(response)
        c._adopt(session, user_id)
        return session

    body = CreateSession(
        user_id=user_id, inactivity_delay=inactivity_delay, require_acknowledgement=require_acknowledgement
    )
    return Call("POST", f"{c.prefix}/streaming/session", decode, body=body)


def end_session(c: AgentBase) -> Call[None]:
    """End the streaming session (the user becomes notReady when it was their last one)."""

    def decode(response: httpx.Response) -> None:
        c._adopt(None, c.user_id)

    return Call("DELETE", f"{c.prefix}/streaming/session", decode, session=True)


# -- engagement center -----------------------------------------------------------------------------
def ready(c: AgentBase, *, max_concurrent: int = 1) -> Call[None]:
    """Become available for offers."""
    path = f"{c.prefix}/engagementCenter/users/{c.acting_user}/ready"
    return Call("POST", path, no_content, body=Ready(max_concurrent=max_concurrent), session=True)


def not_ready(c: AgentBase, *, reason_id: str = "") -> Call[None]:
    """Stop receiving new offers."""
    path = f"{c.prefix}/engagementCenter/users/{c.acting_user}/notReady"
    return Call("POST", path, no_content, body=NotReady(reason_id=reason_id), session=True)


def accept(c: AgentBase, interaction_id: str, ehub_session_id: str) -> Call[None]:
    """Accept an offered interaction (the ids come from the ``OfferedEvent``)."""
    body = OfferAnswer(ehub_session_id=ehub_session_id)
    return Call("POST", _interaction(c, interaction_id, "accept"), no_content, body=body, session=True)


def reject(c: AgentBase, interaction_id: str, ehub_session_id: str) -> Call[None]:
    """Turn an offer down; it goes to someone else."""
    body = OfferAnswer(ehub_session_id=ehub_session_id)
    return Call("POST", _interaction(c, interaction_id, "reject"), no_content, body=body, session=True)


def disconnect(c: AgentBase, interaction_id: str) -> Call[None]:
    """End the interaction (a monitoring supervisor just leaves it)."""
    return Call("POST", _interaction(c, interaction_id, "disconnect"), no_content, body=Empty(), session=True)


def monitor(c: AgentBase, interaction_id: str) -> Call[None]:
    """Join an interaction as a supervisor; send as ``entity_type="Monitor"`` to whisper."""
    return Call("POST", _interaction(c, interaction_id, "monitor"), no_content, body=Empty(), session=True)


def transcript(c: AgentBase, interaction_id: str) -> Call[Transcript]:
    """Every message of the interaction, in the order the server accepted them."""
    return Call("GET", _interaction(c, interaction_id, "transcript"), model(Transcript), session=True)


# -- messaging -------------------------------------------------------------------------------------
def _messaging(c: AgentBase, action: str) -> str:
    return f"{c.prefix}/messaging/users/{c.acting_user}/{action}"


def send_text(
    c: AgentBase, interaction_id: str, text: str, *, entity_type: EntityType = "Agent", entity_name: str | None = None
) -> Call[str]:
    """Send text; returns the new message id."""
    body = SendTextParms(
        interaction_id=interaction_id, entity_name=entity_name or c.entity_name, entity_type=entity_type, text=text
    )
    return Call("POST", _messaging(c, "sendText"), message_id, body=body, session=True)


def send_url(
    c: AgentBase, interaction_id: str, url: str, *, entity_type: EntityType = "Agent", entity_name: str | None = None
) -> Call[str]:
    """Push a URL; returns the new message id."""
    body = SendUrlParms(
        interaction_id=interaction_id, entity_name=entity_name or c.entity_name, entity_type=entity_type, url=url
    )
    return Call("POST", _messaging(c, "sendUrl"), message_id, body=body, session=True)


def notify_typing(
    c: AgentBase,
    interaction_id: str,
    *,
    expires: int = 10,
    entity_type: EntityType = "Agent",
    entity_name: str | None = None,
) -> Call[None]:
    """Say the user is composing for the next ``expires`` seconds (1..30); see also ``typing()``."""
    body = NotificationParms(
        interaction_id=interaction_id,
        entity_name=entity_name or c.entity_name,
        entity_type=entity_type,
        expires_after_seconds=expires,
    )
    return Call("POST", _messaging(c, "notification"), no_content, body=body, session=True)


def sms_preview(c: AgentBase, text: str) -> Call[SmsPreview]:
    """How ``text`` would travel as SMS: encoding, segments, the characters forcing UCS-2."""
    return Call("POST", f"{c.prefix}/messaging/sms/preview", model(SmsPreview), body=SmsPreviewParms(text=text))
