"""The ports the use cases need. Adapters in ``parley.adapters`` implement them.

Every port has an in-memory adapter that passes the same contract tests as the real ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from parley.domain.accounts import AccessToken, ApiKey, ConsoleSession, Invite, OAuthClient, Organization, User
from parley.domain.interactions import Interaction, Message
from parley.domain.sms_records import (
    DeliveryReport,
    InboundSms,
    OptChange,
    OutboxState,
    PartReport,
    SmsNumber,
    SmsOutbound,
)
from parley.domain.typing import TypingKey, Typist
from parley.domain.webhooks import Delivery, DeliveryStatus, Webhook

# --------------------------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """The first 2xx answer to a request that carried an ``Idempotency-Key``."""

    api_key_id: str  # the API key (or web-token subject) the key is scoped to
    key: str
    fingerprint: str  # hash of method + path + decoded body; a reuse with another one is refused
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    created_at: float


class IdempotentWrite(Protocol):
    """A message write that carries an ``Idempotency-Key``: the edge says what its replay
    record is, and the store commits that record with the message."""

    def record(self, message: Message) -> IdempotencyRecord: ...


@dataclass(frozen=True, slots=True)
class UserPage:
    users: list[User]
    total: int
    continuation_token: str | None


@dataclass(frozen=True, slots=True)
class InteractionQuery:
    """Which interactions to list; None matches any. ``user_id`` matches who is or was in it."""

    org_id: str
    state: str | None = None
    user_id: str | None = None
    channel_type: str | None = None
    limit: int = 100
    continuation_token: str | None = None


@dataclass(frozen=True, slots=True)
class InteractionPage:
    interactions: list[Interaction]
    total: int
    continuation_token: str | None


@dataclass(frozen=True, slots=True)
class OpenInteractions:
    """How many interactions are in each open state, and since when the oldest queued one waits."""

    by_state: dict[str, int]
    oldest_queued_at: float | None


class Store(Protocol):
    """Durable state. Writes return only after the data is committed.

    Uniqueness failures raise ``parley.domain.errors.AlreadyExists`` with a reason
    (``duplicateOrganization``, ``duplicateEmail``, ``idempotencyKeyExists`` ...).
    """

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> None:
        """Return once the database answered a trivial query (readiness); raise if it cannot."""
        ...

    # organizations and credentials
    async def add_organization(self, org: Organization) -> None: ...
    async def get_organization(self, org_id: str) -> Organization | None: ...
    async def list_organizations(self) -> list[Organization]: ...
    async def add_client(self, client: OAuthClient) -> None: ...
    async def get_client(self, client_id: str) -> OAuthClient | None: ...
    async def list_clients(self, org_id: str) -> list[OAuthClient]:
        """Revoked ones too, oldest first."""
        ...

    async def list_api_keys(self, org_id: str) -> list[ApiKey]:
        """Revoked ones too, oldest first."""
        ...

    async def revoke_client(self, client_id: str, at: float) -> bool: ...
    async def set_client_secret(self, client_id: str, secret_hash: str) -> bool:
        """False if there is no live client of that id."""
        ...

    async def add_api_key(self, key: ApiKey) -> None: ...
    async def get_api_key_by_hash(self, key_hash: str) -> ApiKey | None: ...
    async def revoke_api_key(self, key_id: str, at: float) -> bool: ...
    async def add_token(self, token: AccessToken) -> None: ...
    async def get_token(self, token_hash: str) -> AccessToken | None: ...
    async def revoke_tokens_of_client(self, client_id: str, at: float) -> int: ...

    # console sign-in (contract 12): passwords (argon2id hashes), signed-in consoles, invitations
    async def set_password(self, org_id: str, user_id: str, password_hash: str, at: float) -> None: ...
    async def get_password(self, org_id: str, user_id: str) -> str | None: ...
    async def add_console_session(self, session: ConsoleSession) -> None: ...
    async def get_console_session(self, secret_hash: str) -> ConsoleSession | None: ...
    async def revoke_console_session(self, session_id: str, at: float) -> bool: ...
    async def add_invite(self, invite: Invite) -> None: ...
    async def use_invite(self, invite_hash: str, at: float) -> Invite | None:
        """Mark a live invitation used and return it; None if unknown, used or expired."""
        ...

    # users
    async def add_user(self, user: User) -> None: ...
    async def get_user(self, org_id: str, user_id: str) -> User | None: ...
    async def find_users(
        self,
        org_id: str,
        *,
        email: str | None = None,
        name_contains: str | None = None,
        limit: int = 100,
        continuation_token: str | None = None,
    ) -> UserPage: ...

    # interactions and messages
    async def add_interaction(self, interaction: Interaction) -> None: ...
    async def save_interaction(self, interaction: Interaction) -> None: ...
    async def get_interaction(self, org_id: str, interaction_id: str) -> Interaction | None: ...
    async def open_interactions(self) -> list[Interaction]: ...
    async def find_interactions(self, query: InteractionQuery) -> InteractionPage:
        """Oldest first (creation time, then id)."""
        ...

    async def count_open_interactions(self) -> OpenInteractions: ...
    async def add_message(
        self, message: Message, idempotency: IdempotencyRecord | None = None, deliveries: Sequence[Delivery] = ()
    ) -> None:
        """Store a message with its idempotency record and webhook deliveries, all or none. A
        delivery whose order key already has a pending one waits in line behind it."""
        ...

    async def transcript(self, org_id: str, interaction_id: str) -> list[Message]: ...

    # idempotency
    async def get_idempotency(self, api_key_id: str, key: str) -> IdempotencyRecord | None: ...
    async def put_idempotency(self, record: IdempotencyRecord) -> None: ...
    async def purge_idempotency(self, older_than: float) -> int: ...

    # retention (PARLEY_RETENTION_DAYS)
    async def purge_ended_interactions(self, ended_before: float, interactions: int, messages: int) -> tuple[int, int]:
        """Delete at most ``interactions`` ended before ``ended_before`` with their messages, at
        most ``messages`` of those in this call (the rest go in the next); returns (interactions,
        messages) deleted. An interaction goes only once it has no message left."""
        ...

    # deployment-wide secrets (web-token signing key)
    async def get_or_create_secret(self, name: str, value: str) -> str: ...

    # SMS sender numbers: a number (E.164) belongs to one organization (``duplicateSmsNumber``)
    async def add_sms_number(self, number: SmsNumber) -> None: ...
    async def remove_sms_number(self, org_id: str, number: str) -> bool: ...
    async def get_sms_number(self, number: str) -> SmsNumber | None: ...
    async def list_sms_numbers(self, org_id: str) -> list[SmsNumber]: ...

    # SMS opt-outs: every change is kept; the last one is the number's state
    async def add_opt_change(self, change: OptChange) -> None: ...
    async def opt_history(self, org_id: str, number: str) -> list[OptChange]:
        """Oldest first."""
        ...

    # SMS outbox (``duplicateMessage`` on a reused id) and the delivery reports on its messages
    async def add_sms_outbound(self, outbound: SmsOutbound) -> None: ...
    async def get_sms_outbound(self, message_id: str) -> SmsOutbound | None: ...
    async def due_sms_outbound(self, now: float, limit: int) -> list[SmsOutbound]:
        """Queued messages whose next attempt is due by ``now``, earliest first."""
        ...

    async def claim_sms_outbound(self, message_id: str, attempts: int, lease_until: float, at: float) -> bool:
        """Take the next attempt of a queued message that has had ``attempts`` so far: counts
        it and holds the message until ``lease_until``. False if another worker took it first."""
        ...

    async def reschedule_sms_outbound(
        self, message_id: str, next_attempt_at: float | None, error: str, at: float
    ) -> None:
        """Set when a queued message is next tried (None: the gateway has it)."""
        ...

    async def set_sms_outbound_state(
        self, message_id: str, state: OutboxState, gateway_code: int | None, error: str, at: float
    ) -> None:
        """Record what became of a message; it is not tried again."""
        ...

    async def add_sms_report(self, report: PartReport) -> bool:
        """False when this report (message, part, code) was already stored."""
        ...

    async def sms_reports(self, message_id: str) -> list[PartReport]: ...

    # inbound SMS seen, by the gateway's id, so a gateway's retry is not taken twice
    async def claim_inbound_sms(self, gateway_id: str, org_id: str, at: float) -> bool:
        """False when this gateway id was already claimed."""
        ...

    async def release_inbound_sms(self, gateway_id: str) -> None: ...

    # outbound webhooks and their deliveries
    async def add_webhook(self, webhook: Webhook) -> None: ...
    async def save_webhook(self, webhook: Webhook) -> None: ...
    async def delete_webhook(self, org_id: str, webhook_id: str) -> bool:
        """Remove a webhook and its deliveries; False if the org has no such webhook."""
        ...

    async def all_webhooks(self) -> list[Webhook]: ...
    async def claim_deliveries(self, webhook_id: str, now: float, lease_until: float, limit: int) -> list[Delivery]:
        """Take up to ``limit`` of a webhook's pending deliveries due by ``now`` (none waiting in
        line): counts an attempt on each and holds it until ``lease_until``. A delivery another
        worker claimed first is not returned. Oldest first."""
        ...

    async def release_waiting(self, webhook_id: str, now: float) -> int:
        """Make due the first waiting delivery of every order key that has no other pending one.

        Storage does this itself as each delivery ends; this repairs what a race between
        instances left waiting (a delivery stored while the one before it was ending elsewhere).
        Returns how many were released."""
        ...

    async def finish_attempt(
        self,
        delivery: Delivery,
        status: DeliveryStatus,
        next_attempt_at: float | None,
        status_code: int | None,
        error: str,
        at: float,
    ) -> bool:
        """Record the outcome of the attempt ``delivery`` holds (its ``attempts`` count); once it
        is delivered or failed, the next delivery of its order key is due at ``at``. False if that
        attempt no longer holds it (its lease ran out and another worker took it)."""
        ...

    async def list_deliveries(self, webhook_id: str, status: DeliveryStatus | None, limit: int) -> list[Delivery]:
        """Newest first."""
        ...

    async def retry_delivery(self, webhook_id: str, delivery_id: str, at: float) -> bool:
        """Make a delivered or dead-lettered delivery pending again with a fresh retry schedule:
        due at ``at``, or in line if its order key has a pending delivery. False if the webhook
        has no such delivery that is not pending."""
        ...


# --------------------------------------------------------------------------------------------
# SMS gateway (Kannel today; an SMPP adapter implements the same port)
# --------------------------------------------------------------------------------------------


class SmsGatewayError(Exception):
    """The gateway refused a message or could not be reached; ``answer`` is what it said.

    ``status`` is the gateway's HTTP status, or None when there was no answer at all.
    """

    def __init__(self, answer: str, *, status: int | None = None) -> None:
        super().__init__(f"SMS gateway {'unreachable' if status is None else f'answered {status}'}: {answer}")
        self.answer = answer
        self.status = status

    @property
    def temporary(self) -> bool:
        """Worth retrying: the gateway was down, overloaded or failed, rather than refusing."""
        return self.status is None or self.status >= 500


class SmsTransport(Protocol):
    async def send(self, sender: str, receiver: str, text: str, *, message_id: str) -> None:
        """Hand ``text`` to the gateway for ``receiver`` (both numbers in E.164).

        Delivery reports come back later tagged with ``message_id``; a text sent in several
        segments may yield one report per segment. Raises ``SmsGatewayError``.
        """
        ...

    async def aclose(self) -> None: ...


class SmsWebhooks(Protocol):
    """How the SMS gateway calls Parley back: two paths below ``PARLEY_SMS_WEBHOOK_URL``, and
    what their query strings say (a wrong shared secret is refused, 401)."""

    inbound_path: str
    report_path: str

    def inbound(self, query: str) -> InboundSms: ...
    def report(self, query: str) -> DeliveryReport: ...


# --------------------------------------------------------------------------------------------
# Webhook receivers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookAnswer:
    """What a receiver made of one attempt: its status (None: no answer) and why it failed."""

    status_code: int | None
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender(Protocol):
    async def post(self, url: str, headers: dict[str, str], body: bytes) -> WebhookAnswer:
        """POST ``body`` to ``url``; never raises for the receiver's faults, reports them."""
        ...

    async def aclose(self) -> None: ...


# --------------------------------------------------------------------------------------------
# Event engine: streaming sessions, their ordered event queues, typing state
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamSession:
    session_id: str
    org_id: str
    owner: str  # "user:<userId>" or "contact:<contactId>"
    created_at: float
    inactivity_delay: int
    require_ack: bool

    @property
    def user_id(self) -> str | None:
        return self.owner[5:] if self.owner.startswith("user:") else None


# Immutable through Final, with __init__ spelled out: see "Values on the hot path" in docs/architecture.md.
@dataclass(slots=True, init=False, unsafe_hash=True)
class Envelope:
    event_id: Final[str]
    sequence_number: Final[int]
    event_type: Final[str]
    event_time: Final[str]
    payload: Final[dict[str, Any]]
    # The payload as JSON, if the engine encoded it once for every session that receives the
    # event (b"" if not): each poll's answer then copies it instead of encoding it again.
    payload_json: Final[bytes]

    def __init__(
        self,
        event_id: str,
        sequence_number: int,
        event_type: str,
        event_time: str,
        payload: dict[str, Any],
        payload_json: bytes = b"",
    ) -> None:
        self.event_id = event_id
        self.sequence_number = sequence_number
        self.event_type = event_type
        self.event_time = event_time
        self.payload = payload
        self.payload_json = payload_json


@dataclass(frozen=True, slots=True)
class Reset:
    """The resume point is older than what is retained; events before ``oldest_available`` are gone."""

    oldest_available: int


class SessionDropped(Exception):
    """The session is unknown, expired or was dropped; ``reason`` says which for the error body."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EventEngine(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> None:
        """Return once the engine's backend answered (readiness); raise if it cannot."""
        ...

    def release_waiters(self) -> None:
        """The server is stopping: every waiting poll returns now with what it holds, and no
        later poll waits. Everything else keeps working until close()."""
        ...

    @property
    def closed(self) -> bool:
        """True once close() began: waits return at once, so streaming loops must stop."""
        ...

    async def create_session(self, session: StreamSession) -> None: ...
    async def get_session(self, session_id: str) -> StreamSession:
        """Raises SessionDropped if unknown, expired or dropped."""
        ...

    async def delete_session(self, session_id: str) -> StreamSession | None: ...
    async def sessions_of(self, org_id: str, owner: str) -> list[str]: ...
    async def touch(self, session_id: str) -> None: ...
    async def sweep(self) -> list[StreamSession]:
        """Drop sessions idle past their inactivity delay; returns them."""
        ...

    async def publish(self, org_id: str, owners: Sequence[str], event_type: str, payload: dict[str, Any]) -> None:
        """Append one event to every live session of every owner, in call order."""
        ...

    async def next_events(
        self, session_id: str, max_events: int, timeout: float, after: int | None = None
    ) -> list[Envelope | Reset]:
        """Wait up to ``timeout`` for events and hand them out.

        ``after=None`` is a long poll: without acknowledgement each event is handed out once;
        with acknowledgement every un-acknowledged event is handed out again. ``after=N`` is a
        resume from sequence number N (SSE ``Last-Event-ID`` / WebSocket ``resumeAfter``): every
        retained event after N, preceded by a ``Reset`` if N is older than what is retained.
        """
        ...

    async def acknowledge(self, session_id: str, sequence_number: int) -> None: ...

    # Typing state (contract section 3), as ``parley.domain.typing.TypingTracker`` does it.
    # Keys are (interaction id, sender id); the ``Typist`` is what the idle event must say about
    # the sender, stored with the state.
    async def typing_composing(self, key: TypingKey, expires_after: int, now: float, typist: Typist) -> bool: ...
    async def typing_stop(self, key: TypingKey) -> Typist | None: ...
    async def typing_stop_interaction(self, interaction_id: str) -> list[tuple[TypingKey, Typist]]: ...
    async def typing_expire(self, now: float) -> list[tuple[TypingKey, Typist]]: ...
