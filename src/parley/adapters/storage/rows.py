"""How domain objects become table rows and back, and the search and paging rules every
adapter shares, so the in-memory store behaves exactly like the SQL ones."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any, Final

import msgspec

from parley.domain.accounts import AccessToken, ApiKey, ConsoleSession, Invite, OAuthClient, User
from parley.domain.errors import InvalidRequest
from parley.domain.interactions import (
    ChannelType,
    EntityType,
    Interaction,
    InteractionState,
    Message,
    MessageKind,
)
from parley.domain.sms_records import OptChange, OptState, OutboxState, PartReport, ReportState, SmsNumber, SmsOutbound
from parley.domain.webhooks import DELIVERY_STATUS_OF, Delivery, Webhook
from parley.service.ports import IdempotencyRecord, InteractionQuery

Row = Sequence[Any]

_encode: Final = msgspec.json.Encoder().encode
_decode: Final = msgspec.json.decode


def dump(value: Any) -> str:
    return _encode(value).decode()


def load_strs(raw: str) -> list[str]:
    return _decode(raw, type=list[str])


# -- credentials -------------------------------------------------------------------------------
CLIENT_COLUMNS: Final = "client_id, org_id, secret_hash, scopes, created_at, name, revoked_at"
API_KEY_COLUMNS: Final = "key_id, org_id, key_hash, created_at, name, revoked_at"
TOKEN_COLUMNS: Final = "token_hash, org_id, client_id, scopes, issued_at, expires_at, revoked_at, user_id"


def client_row(c: OAuthClient) -> Row:
    return (c.client_id, c.org_id, c.secret_hash, dump(sorted(c.scopes)), c.created_at, c.name, c.revoked_at)


def client_of(r: Row) -> OAuthClient:
    return OAuthClient(r[0], r[1], r[2], frozenset(load_strs(r[3])), r[4], r[5], r[6])


def api_key_row(k: ApiKey) -> Row:
    return (k.key_id, k.org_id, k.key_hash, k.created_at, k.name, k.revoked_at)


def api_key_of(r: Row) -> ApiKey:
    return ApiKey(r[0], r[1], r[2], r[3], r[4], r[5])


def token_row(t: AccessToken) -> Row:
    return (
        t.token_hash,
        t.org_id,
        t.client_id,
        dump(sorted(t.scopes)),
        t.issued_at,
        t.expires_at,
        t.revoked_at,
        t.user_id,
    )


def token_of(r: Row) -> AccessToken:
    return AccessToken(r[0], r[1], r[2], frozenset(load_strs(r[3])), r[4], r[5], r[6], r[7])


CONSOLE_SESSION_COLUMNS: Final = (
    "session_id, secret_hash, org_id, user_id, api_key_id, created_at, expires_at, revoked_at"
)
INVITE_COLUMNS: Final = "invite_hash, org_id, user_id, created_at, expires_at, used_at"


def console_session_row(c: ConsoleSession) -> Row:
    return (c.session_id, c.secret_hash, c.org_id, c.user_id, c.api_key_id, c.created_at, c.expires_at, c.revoked_at)


def console_session_of(r: Row) -> ConsoleSession:
    return ConsoleSession(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7])


def invite_row(i: Invite) -> Row:
    return (i.invite_hash, i.org_id, i.user_id, i.created_at, i.expires_at, i.used_at)


def invite_of(r: Row) -> Invite:
    return Invite(r[0], r[1], r[2], r[3], r[4], r[5])


# -- users ---------------------------------------------------------------------------------------
USER_COLUMNS: Final = "user_id, org_id, first_name, last_name, preferred_name, email, roles, created_at"
USER_INSERT_COLUMNS: Final[str] = USER_COLUMNS + ", email_lower, name_search"


def name_search(user: User) -> str:
    """What ``name_contains`` looks in: the preferred name and the full name, lower-cased."""
    return f"{user.preferred_name.lower()}\n{user.full_name.lower()}"


def user_row(u: User) -> Row:
    return (
        u.user_id, u.org_id, u.first_name, u.last_name, u.preferred_name, u.email,
        dump(list(u.roles)), u.created_at, u.email.lower(), name_search(u),
    )  # fmt: skip


def user_of(r: Row) -> User:
    return User(r[0], r[1], r[2], r[3], r[4], r[5], tuple(load_strs(r[6])), r[7])


def user_key(user: User) -> tuple[float, str]:
    """Users are listed by creation time, then id, so pages are stable."""
    return (user.created_at, user.user_id)


def encode_page_token(after: tuple[float, str]) -> str:
    """A continuation token: the sort key of the last item of a page (a user's or an interaction's)."""
    return base64.urlsafe_b64encode(_encode(after)).decode()


def decode_page_token(token: str) -> tuple[float, str]:
    try:
        created_at, item_id = _decode(base64.urlsafe_b64decode(token), type=tuple[float, str])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise InvalidRequest.of(
            "continuationToken", "invalidContinuationToken", "the continuation token is not one we issued"
        ) from None
    return created_at, item_id


# -- interactions and messages -------------------------------------------------------------------
INTERACTION_COLUMNS: Final = (
    "interaction_id, org_id, channel_type, contact_id, contact_name, created_at, contact_address, "
    "contact_email, contact_data, state, offered_to, ehub_session_id, offered_at, agent_ids, "
    "monitor_ids, declined_by, ended_at, ended_by, end_reason, last_seq, accepted_at, former_user_ids"
)
# What is written: the columns read back, and the users searched by ``find_interactions``.
INTERACTION_WRITE_COLUMNS: Final[str] = INTERACTION_COLUMNS + ", user_search"
# Everything but the id and the organization; ``save_interaction`` writes these.
INTERACTION_MUTABLE: Final[list[str]] = INTERACTION_WRITE_COLUMNS.split(", ")[2:]


def user_search(i: Interaction) -> str:
    """Every user who is or was in the interaction, each between newlines, for a substring search."""
    return "\n" + "".join(u + "\n" for u in i.everyone)


def interaction_row(i: Interaction) -> Row:
    return (
        i.interaction_id, i.org_id, str(i.channel_type), i.contact_id, i.contact_name, i.created_at,
        i.contact_address, i.contact_email, dump(i.contact_data), str(i.state), i.offered_to,
        i.ehub_session_id, i.offered_at, dump(i.agent_ids), dump(i.monitor_ids), dump(i.declined_by),
        i.ended_at, i.ended_by, i.end_reason, i.last_seq, i.accepted_at, dump(i.former_user_ids), user_search(i),
    )  # fmt: skip


def interaction_of(r: Row) -> Interaction:
    return Interaction(
        r[0], r[1], ChannelType(r[2]), r[3], r[4], r[5], r[6], r[7], _decode(r[8]), InteractionState(r[9]),
        r[10], r[11], r[12], load_strs(r[13]), load_strs(r[14]), load_strs(r[15]), r[16], r[17], r[18], r[19],
        r[20], load_strs(r[21]),
    )  # fmt: skip


def interaction_key(i: Interaction) -> tuple[float, str]:
    """Interactions are listed by creation time, then id, so pages are stable."""
    return (i.created_at, i.interaction_id)


def interaction_matches(i: Interaction, query: InteractionQuery) -> bool:
    """The rule the SQL stores' WHERE clause follows."""
    return (
        (query.state is None or str(i.state) == query.state)
        and (query.channel_type is None or str(i.channel_type) == query.channel_type)
        and (query.user_id is None or query.user_id in i.everyone)
    )


def copy_interaction(i: Interaction) -> Interaction:
    """A detached copy, as a database round trip would give."""
    return interaction_of(interaction_row(i))


MESSAGE_COLUMNS: Final = (
    "message_id, org_id, interaction_id, seq, kind, body, entity_type, entity_name, user_id, sent_at"
)


def message_row(m: Message) -> Row:
    return (
        m.message_id, m.org_id, m.interaction_id, m.seq, str(m.kind), m.body, str(m.entity_type),
        m.entity_name, m.user_id, m.sent_at,
    )  # fmt: skip


def message_of(r: Row) -> Message:
    return Message(r[0], r[1], r[2], r[3], MessageKind(r[4]), r[5], EntityType(r[6]), r[7], r[8], r[9])


# -- idempotency ---------------------------------------------------------------------------------
IDEMPOTENCY_COLUMNS: Final = "api_key_id, key, fingerprint, status, headers, body, created_at"


def idempotency_row(i: IdempotencyRecord) -> Row:
    return (i.api_key_id, i.key, i.fingerprint, i.status, dump(i.headers), i.body, i.created_at)


def idempotency_of(r: Row) -> IdempotencyRecord:
    headers = _decode(r[4], type=tuple[tuple[str, str], ...])
    return IdempotencyRecord(r[0], r[1], r[2], r[3], headers, bytes(r[5]), r[6])


# -- SMS -----------------------------------------------------------------------------------------
SMS_NUMBER_COLUMNS: Final = "number, org_id, created_at"
OPT_CHANGE_COLUMNS: Final = "org_id, number, state, keyword, changed_at"
OUTBOUND_COLUMNS: Final = (
    "message_id, org_id, interaction_id, to_number, from_number, body, segments, attempts, "
    "next_attempt_at, state, created_at, gateway_code, error, updated_at"
)
REPORT_COLUMNS: Final = "message_id, part, state, code, received_at"


def sms_number_row(n: SmsNumber) -> Row:
    return (n.number, n.org_id, n.created_at)


def sms_number_of(r: Row) -> SmsNumber:
    return SmsNumber(r[0], r[1], r[2])


def opt_change_row(c: OptChange) -> Row:
    return (c.org_id, c.number, c.state, c.keyword, c.changed_at)


_OPT_STATES: Final[dict[str, OptState]] = {"out": "out", "in": "in"}


def opt_change_of(r: Row) -> OptChange:
    return OptChange(r[0], r[1], _OPT_STATES[r[2]], r[3], r[4])


def outbound_row(o: SmsOutbound) -> Row:
    return (
        o.message_id, o.org_id, o.interaction_id, o.to_number, o.from_number, o.body, o.segments, o.attempts,
        o.next_attempt_at, str(o.state), o.created_at, o.gateway_code, o.error, o.updated_at,
    )  # fmt: skip


def outbound_of(r: Row) -> SmsOutbound:
    return SmsOutbound(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], OutboxState(r[9]), r[10], r[11], r[12], r[13]
    )


def report_row(p: PartReport) -> Row:
    return (p.message_id, p.part, p.state, p.code, p.received_at)


_REPORT_STATES: Final[dict[str, ReportState]] = {"sent": "sent", "delivered": "delivered", "failed": "failed"}


def report_of(r: Row) -> PartReport:
    return PartReport(r[0], r[1], _REPORT_STATES[r[2]], r[3], r[4])


# -- outbound webhooks -------------------------------------------------------------------------
WEBHOOK_COLUMNS: Final = (
    "webhook_id, org_id, url, event_types, description, secret, created_at, previous_secret, previous_until"
)
DELIVERY_COLUMNS: Final = (
    "delivery_id, webhook_id, org_id, event_id, event_type, order_key, body, status, attempts, "
    "next_attempt_at, created_at, updated_at, last_status_code, last_error"
)


def webhook_row(w: Webhook) -> Row:
    return (
        w.webhook_id,
        w.org_id,
        w.url,
        dump(list(w.event_types)),
        w.description,
        w.secret,
        w.created_at,
        w.previous_secret,
        w.previous_until,
    )


def webhook_of(r: Row) -> Webhook:
    return Webhook(r[0], r[1], r[2], tuple(load_strs(r[3])), r[4], r[5], r[6], r[7], r[8])


def delivery_row(d: Delivery) -> Row:
    return (
        d.delivery_id,
        d.webhook_id,
        d.org_id,
        d.event_id,
        d.event_type,
        d.order_key,
        d.body.decode(),
        d.status.value,
        d.attempts,
        d.next_attempt_at,
        d.created_at,
        d.updated_at,
        d.last_status_code,
        d.last_error,
    )


def delivery_of(r: Row) -> Delivery:
    return Delivery(
        r[0],
        r[1],
        r[2],
        r[3],
        r[4],
        r[5],
        r[6].encode(),
        DELIVERY_STATUS_OF[r[7]],
        r[8],
        r[9],
        r[10],
        r[11],
        r[12],
        r[13],
    )
