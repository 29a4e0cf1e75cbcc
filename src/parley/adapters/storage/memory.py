"""The ``Store`` in dictionaries: same behaviour as the SQL stores, nothing survives a restart.

For tests and benchmarks. Interactions are copied in and out, as a database would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TypeVar

from parley.adapters.storage import rows
from parley.adapters.storage.conflicts import already_exists
from parley.domain.accounts import AccessToken, ApiKey, ConsoleSession, Invite, OAuthClient, Organization, User
from parley.domain.interactions import Interaction, InteractionState, Message
from parley.domain.sms_records import OptChange, OutboxState, PartReport, SmsNumber, SmsOutbound
from parley.domain.webhooks import Delivery, DeliveryStatus, Webhook
from parley.service.ports import IdempotencyRecord, InteractionPage, InteractionQuery, OpenInteractions, UserPage

Revocable = TypeVar("Revocable", OAuthClient, ApiKey)


def _revoke(items: dict[str, Revocable], item_id: str, at: float) -> bool:
    item = items.get(item_id)
    if item is None or not item.is_live:
        return False
    items[item_id] = dataclasses.replace(item, revoked_at=at)
    return True


class MemoryStore:
    def __init__(self) -> None:
        self._orgs: dict[str, Organization] = {}
        self._clients: dict[str, OAuthClient] = {}
        self._api_keys: dict[str, ApiKey] = {}
        self._api_key_ids_by_hash: dict[str, str] = {}
        self._tokens: dict[str, AccessToken] = {}
        self._users: dict[str, User] = {}
        self._user_emails: set[tuple[str, str]] = set()
        self._interactions: dict[str, Interaction] = {}
        self._messages: dict[str, Message] = {}
        self._message_seqs: set[tuple[str, int]] = set()
        self._idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self._secrets: dict[str, str] = {}
        self._sms_numbers: dict[str, SmsNumber] = {}
        self._opt_changes: list[OptChange] = []
        self._outbox: dict[str, SmsOutbound] = {}
        self._reports: dict[tuple[str, int, int], PartReport] = {}
        self._inbound_seen: dict[str, str] = {}
        self._passwords: dict[tuple[str, str], str] = {}
        self._console_sessions: dict[str, ConsoleSession] = {}
        self._invites: dict[str, Invite] = {}
        self._webhooks: dict[str, Webhook] = {}
        self._deliveries: dict[str, Delivery] = {}  # in the order they were stored

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def ping(self) -> None:
        pass

    # -- organizations and credentials -------------------------------------------------------------
    async def add_organization(self, org: Organization) -> None:
        if org.org_id in self._orgs:
            raise already_exists("duplicateOrganization")
        self._orgs[org.org_id] = org

    async def get_organization(self, org_id: str) -> Organization | None:
        return self._orgs.get(org_id)

    async def list_organizations(self) -> list[Organization]:
        return sorted(self._orgs.values(), key=lambda o: (o.created_at, o.org_id))

    async def add_client(self, client: OAuthClient) -> None:
        if client.client_id in self._clients:
            raise already_exists("duplicateClient")
        self._clients[client.client_id] = client

    async def get_client(self, client_id: str) -> OAuthClient | None:
        return self._clients.get(client_id)

    async def list_clients(self, org_id: str) -> list[OAuthClient]:
        return sorted(
            (c for c in self._clients.values() if c.org_id == org_id), key=lambda c: (c.created_at, c.client_id)
        )

    async def list_api_keys(self, org_id: str) -> list[ApiKey]:
        return sorted(
            (k for k in self._api_keys.values() if k.org_id == org_id), key=lambda k: (k.created_at, k.key_id)
        )

    async def revoke_client(self, client_id: str, at: float) -> bool:
        return _revoke(self._clients, client_id, at)

    async def set_client_secret(self, client_id: str, secret_hash: str) -> bool:
        client = self._clients.get(client_id)
        if client is None or not client.is_live:
            return False
        self._clients[client_id] = dataclasses.replace(client, secret_hash=secret_hash)
        return True

    async def add_api_key(self, key: ApiKey) -> None:
        if key.key_id in self._api_keys or key.key_hash in self._api_key_ids_by_hash:
            raise already_exists("duplicateApiKey")
        self._api_keys[key.key_id] = key
        self._api_key_ids_by_hash[key.key_hash] = key.key_id

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        key_id = self._api_key_ids_by_hash.get(key_hash)
        return None if key_id is None else self._api_keys[key_id]

    async def revoke_api_key(self, key_id: str, at: float) -> bool:
        return _revoke(self._api_keys, key_id, at)

    async def add_token(self, token: AccessToken) -> None:
        if token.token_hash in self._tokens:
            raise already_exists("duplicateToken")
        self._tokens[token.token_hash] = token

    async def get_token(self, token_hash: str) -> AccessToken | None:
        return self._tokens.get(token_hash)

    async def revoke_tokens_of_client(self, client_id: str, at: float) -> int:
        live = [t for t in self._tokens.values() if t.client_id == client_id and t.revoked_at is None]
        for token in live:
            self._tokens[token.token_hash] = dataclasses.replace(token, revoked_at=at)
        return len(live)

    # -- console sign-in --------------------------------------------------------------------------------
    async def set_password(self, org_id: str, user_id: str, password_hash: str, at: float) -> None:
        self._passwords[(org_id, user_id)] = password_hash

    async def get_password(self, org_id: str, user_id: str) -> str | None:
        return self._passwords.get((org_id, user_id))

    async def add_console_session(self, session: ConsoleSession) -> None:
        if session.secret_hash in self._console_sessions:
            raise already_exists("duplicateSession")
        self._console_sessions[session.secret_hash] = session

    async def get_console_session(self, secret_hash: str) -> ConsoleSession | None:
        return self._console_sessions.get(secret_hash)

    async def revoke_console_session(self, session_id: str, at: float) -> bool:
        for secret_hash, session in self._console_sessions.items():
            if session.session_id == session_id and session.revoked_at is None:
                self._console_sessions[secret_hash] = dataclasses.replace(session, revoked_at=at)
                return True
        return False

    async def add_invite(self, invite: Invite) -> None:
        if invite.invite_hash in self._invites:
            raise already_exists("duplicateInvite")
        self._invites[invite.invite_hash] = invite

    async def use_invite(self, invite_hash: str, at: float) -> Invite | None:
        invite = self._invites.get(invite_hash)
        if invite is None or invite.used_at is not None or invite.expires_at <= at:
            return None
        self._invites[invite_hash] = used = dataclasses.replace(invite, used_at=at)
        return used

    # -- users ---------------------------------------------------------------------------------------
    async def add_user(self, user: User) -> None:
        email_key = (user.org_id, user.email.lower())
        if email_key in self._user_emails:
            raise already_exists("duplicateEmail")
        if user.user_id in self._users:
            raise already_exists("duplicateUser")
        self._users[user.user_id] = user
        self._user_emails.add(email_key)

    async def get_user(self, org_id: str, user_id: str) -> User | None:
        user = self._users.get(user_id)
        return user if user is not None and user.org_id == org_id else None

    async def find_users(
        self,
        org_id: str,
        *,
        email: str | None = None,
        name_contains: str | None = None,
        limit: int = 100,
        continuation_token: str | None = None,
    ) -> UserPage:
        matches = [u for u in self._users.values() if u.org_id == org_id]
        if email is not None:
            matches = [u for u in matches if u.email.lower() == email.lower()]
        if name_contains:
            matches = [u for u in matches if name_contains.lower() in rows.name_search(u)]
        matches.sort(key=rows.user_key)
        page = matches
        if continuation_token is not None:
            after = rows.decode_page_token(continuation_token)
            page = [u for u in matches if rows.user_key(u) > after]
        limit = max(1, limit)
        token = rows.encode_page_token(rows.user_key(page[limit - 1])) if len(page) > limit else None
        return UserPage(page[:limit], len(matches), token)

    # -- interactions and messages ---------------------------------------------------------------------
    async def add_interaction(self, interaction: Interaction) -> None:
        if interaction.interaction_id in self._interactions:
            raise already_exists("duplicateInteraction")
        self._interactions[interaction.interaction_id] = rows.copy_interaction(interaction)

    async def save_interaction(self, interaction: Interaction) -> None:
        stored = self._interactions.get(interaction.interaction_id)
        if stored is not None:
            saved = rows.copy_interaction(interaction)
            saved.org_id = stored.org_id
            self._interactions[interaction.interaction_id] = saved

    async def get_interaction(self, org_id: str, interaction_id: str) -> Interaction | None:
        stored = self._interactions.get(interaction_id)
        return rows.copy_interaction(stored) if stored is not None and stored.org_id == org_id else None

    async def open_interactions(self) -> list[Interaction]:
        found = [rows.copy_interaction(i) for i in self._interactions.values() if not i.is_ended]
        return sorted(found, key=lambda i: i.created_at)

    async def find_interactions(self, query: InteractionQuery) -> InteractionPage:
        matches = [
            i for i in self._interactions.values() if i.org_id == query.org_id and rows.interaction_matches(i, query)
        ]
        matches.sort(key=rows.interaction_key)
        page = matches
        if query.continuation_token is not None:
            after = rows.decode_page_token(query.continuation_token)
            page = [i for i in matches if rows.interaction_key(i) > after]
        limit = max(1, query.limit)
        token = rows.encode_page_token(rows.interaction_key(page[limit - 1])) if len(page) > limit else None
        return InteractionPage([rows.copy_interaction(i) for i in page[:limit]], len(matches), token)

    async def count_open_interactions(self) -> OpenInteractions:
        counts: dict[str, int] = {}
        oldest: float | None = None
        for i in self._interactions.values():
            if i.is_ended:
                continue
            counts[i.state.value] = counts.get(i.state.value, 0) + 1
            if i.state is InteractionState.QUEUED and (oldest is None or i.created_at < oldest):
                oldest = i.created_at
        return OpenInteractions(counts, oldest)

    async def add_message(
        self, message: Message, idempotency: IdempotencyRecord | None = None, deliveries: Sequence[Delivery] = ()
    ) -> None:
        seq_key = (message.interaction_id, message.seq)
        if message.message_id in self._messages or seq_key in self._message_seqs:
            raise already_exists("duplicateMessage")
        if idempotency is not None:
            await self.put_idempotency(idempotency)
        self._messages[message.message_id] = message
        self._message_seqs.add(seq_key)
        for delivery in deliveries:
            if self._pending_of(delivery.webhook_id, delivery.order_key):
                delivery = dataclasses.replace(delivery, next_attempt_at=None)
            self._deliveries[delivery.delivery_id] = delivery

    async def transcript(self, org_id: str, interaction_id: str) -> list[Message]:
        found = [m for m in self._messages.values() if m.interaction_id == interaction_id and m.org_id == org_id]
        return sorted(found, key=lambda m: m.seq)

    # -- idempotency -----------------------------------------------------------------------------------
    async def get_idempotency(self, api_key_id: str, key: str) -> IdempotencyRecord | None:
        return self._idempotency.get((api_key_id, key))

    async def put_idempotency(self, record: IdempotencyRecord) -> None:
        if (record.api_key_id, record.key) in self._idempotency:
            raise already_exists("idempotencyKeyExists")
        self._idempotency[(record.api_key_id, record.key)] = record

    async def purge_idempotency(self, older_than: float) -> int:
        old = [k for k, record in self._idempotency.items() if record.created_at < older_than]
        for k in old:
            del self._idempotency[k]
        return len(old)

    async def purge_ended_interactions(self, ended_before: float, interactions: int, messages: int) -> tuple[int, int]:
        ended = sorted(
            (i for i in self._interactions.values() if i.is_ended and (i.ended_at or 0.0) < ended_before),
            key=lambda i: i.ended_at or 0.0,
        )[:interactions]
        ids = {i.interaction_id for i in ended}
        doomed = [m for m in self._messages.values() if m.interaction_id in ids][:messages]
        for m in doomed:
            del self._messages[m.message_id]
            self._message_seqs.discard((m.interaction_id, m.seq))
        left = {m.interaction_id for m in self._messages.values() if m.interaction_id in ids}
        for interaction_id in ids - left:
            del self._interactions[interaction_id]
        return len(ids - left), len(doomed)

    # -- secrets -----------------------------------------------------------------------------------------
    async def get_or_create_secret(self, name: str, value: str) -> str:
        return self._secrets.setdefault(name, value)

    # -- SMS numbers and opt-outs --------------------------------------------------------------------
    async def add_sms_number(self, number: SmsNumber) -> None:
        if number.number in self._sms_numbers:
            raise already_exists("duplicateSmsNumber")
        self._sms_numbers[number.number] = number

    async def remove_sms_number(self, org_id: str, number: str) -> bool:
        found = self._sms_numbers.get(number)
        if found is None or found.org_id != org_id:
            return False
        del self._sms_numbers[number]
        return True

    async def get_sms_number(self, number: str) -> SmsNumber | None:
        return self._sms_numbers.get(number)

    async def list_sms_numbers(self, org_id: str) -> list[SmsNumber]:
        return sorted((n for n in self._sms_numbers.values() if n.org_id == org_id), key=lambda n: n.number)

    async def add_opt_change(self, change: OptChange) -> None:
        self._opt_changes.append(change)

    async def opt_history(self, org_id: str, number: str) -> list[OptChange]:
        return [c for c in self._opt_changes if (c.org_id, c.number) == (org_id, number)]

    # -- SMS outbox, delivery reports, inbound SMS seen -------------------------------------------------
    async def add_sms_outbound(self, outbound: SmsOutbound) -> None:
        if outbound.message_id in self._outbox:
            raise already_exists("duplicateMessage")
        self._outbox[outbound.message_id] = outbound

    async def get_sms_outbound(self, message_id: str) -> SmsOutbound | None:
        return self._outbox.get(message_id)

    async def due_sms_outbound(self, now: float, limit: int) -> list[SmsOutbound]:
        due = [
            o
            for o in self._outbox.values()
            if o.state is OutboxState.QUEUED and o.next_attempt_at is not None and o.next_attempt_at <= now
        ]
        due.sort(key=lambda o: (o.next_attempt_at, o.message_id))
        return due[: max(1, limit)]

    async def claim_sms_outbound(self, message_id: str, attempts: int, lease_until: float, at: float) -> bool:
        found = self._outbox.get(message_id)
        if (
            found is None
            or found.attempts != attempts
            or found.state is not OutboxState.QUEUED
            or found.next_attempt_at is None
        ):
            return False
        self._outbox[message_id] = dataclasses.replace(
            found, attempts=attempts + 1, next_attempt_at=lease_until, updated_at=at
        )
        return True

    async def reschedule_sms_outbound(
        self, message_id: str, next_attempt_at: float | None, error: str, at: float
    ) -> None:
        found = self._outbox.get(message_id)
        if found is not None and found.state is OutboxState.QUEUED:
            changed = dataclasses.replace(found, next_attempt_at=next_attempt_at, error=error, updated_at=at)
            self._outbox[message_id] = changed

    async def set_sms_outbound_state(
        self, message_id: str, state: OutboxState, gateway_code: int | None, error: str, at: float
    ) -> None:
        found = self._outbox.get(message_id)
        if found is not None:
            self._outbox[message_id] = dataclasses.replace(
                found, state=state, gateway_code=gateway_code, error=error, updated_at=at, next_attempt_at=None
            )

    async def add_sms_report(self, report: PartReport) -> bool:
        key = (report.message_id, report.part, report.code)
        if key in self._reports:
            return False
        self._reports[key] = report
        return True

    async def sms_reports(self, message_id: str) -> list[PartReport]:
        found = [r for r in self._reports.values() if r.message_id == message_id]
        return sorted(found, key=lambda r: (r.received_at, r.part, r.code))

    async def claim_inbound_sms(self, gateway_id: str, org_id: str, at: float) -> bool:
        if gateway_id in self._inbound_seen:
            return False
        self._inbound_seen[gateway_id] = org_id
        return True

    async def release_inbound_sms(self, gateway_id: str) -> None:
        self._inbound_seen.pop(gateway_id, None)

    # -- outbound webhooks -----------------------------------------------------------------------------
    async def add_webhook(self, webhook: Webhook) -> None:
        if webhook.webhook_id in self._webhooks:
            raise already_exists("duplicateWebhook")
        self._webhooks[webhook.webhook_id] = webhook

    async def save_webhook(self, webhook: Webhook) -> None:
        if webhook.webhook_id in self._webhooks:
            self._webhooks[webhook.webhook_id] = webhook

    async def delete_webhook(self, org_id: str, webhook_id: str) -> bool:
        webhook = self._webhooks.get(webhook_id)
        if webhook is None or webhook.org_id != org_id:
            return False
        del self._webhooks[webhook_id]
        self._deliveries = {k: d for k, d in self._deliveries.items() if d.webhook_id != webhook_id}
        return True

    async def all_webhooks(self) -> list[Webhook]:
        return sorted(self._webhooks.values(), key=lambda w: (w.created_at, w.webhook_id))

    async def claim_deliveries(self, webhook_id: str, now: float, lease_until: float, limit: int) -> list[Delivery]:
        claimed: list[Delivery] = []
        for delivery in list(self._deliveries.values()):
            if len(claimed) >= limit:
                break
            due = delivery.next_attempt_at is not None and delivery.next_attempt_at <= now
            if delivery.webhook_id == webhook_id and delivery.status is DeliveryStatus.PENDING and due:
                taken = dataclasses.replace(
                    delivery, attempts=delivery.attempts + 1, next_attempt_at=lease_until, updated_at=now
                )
                self._deliveries[delivery.delivery_id] = taken
                claimed.append(taken)
        return claimed

    async def release_waiting(self, webhook_id: str, now: float) -> int:
        heads: dict[str, Delivery | None] = {}
        for delivery in self._deliveries.values():
            if delivery.webhook_id == webhook_id and delivery.status is DeliveryStatus.PENDING:
                if delivery.next_attempt_at is not None:
                    heads[delivery.order_key] = None  # the key has one going
                elif delivery.order_key not in heads:
                    heads[delivery.order_key] = delivery
        released = [d for d in heads.values() if d is not None]
        for delivery in released:
            self._deliveries[delivery.delivery_id] = dataclasses.replace(delivery, next_attempt_at=now)
        return len(released)

    def _pending_of(self, webhook_id: str, order_key: str) -> list[Delivery]:
        return [
            d
            for d in self._deliveries.values()
            if d.webhook_id == webhook_id and d.order_key == order_key and d.status is DeliveryStatus.PENDING
        ]

    async def finish_attempt(
        self,
        delivery: Delivery,
        status: DeliveryStatus,
        next_attempt_at: float | None,
        status_code: int | None,
        error: str,
        at: float,
    ) -> bool:
        current = self._deliveries.get(delivery.delivery_id)
        if current is None or current.attempts != delivery.attempts or current.status is not DeliveryStatus.PENDING:
            return False
        self._deliveries[delivery.delivery_id] = dataclasses.replace(
            current,
            status=status,
            next_attempt_at=next_attempt_at,
            last_status_code=status_code,
            last_error=error,
            updated_at=at,
        )
        if status is not DeliveryStatus.PENDING:
            waiting = self._pending_of(current.webhook_id, current.order_key)
            if waiting and all(d.next_attempt_at is None for d in waiting):
                self._deliveries[waiting[0].delivery_id] = dataclasses.replace(waiting[0], next_attempt_at=at)
        return True

    async def list_deliveries(self, webhook_id: str, status: DeliveryStatus | None, limit: int) -> list[Delivery]:
        found = [
            d
            for d in reversed(self._deliveries.values())
            if d.webhook_id == webhook_id and (status is None or d.status is status)
        ]
        return found[: max(1, limit)]

    async def retry_delivery(self, webhook_id: str, delivery_id: str, at: float) -> bool:
        delivery = self._deliveries.get(delivery_id)
        if delivery is None or delivery.webhook_id != webhook_id or delivery.status is DeliveryStatus.PENDING:
            return False
        due = None if self._pending_of(webhook_id, delivery.order_key) else at
        self._deliveries[delivery_id] = dataclasses.replace(
            delivery, status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=due, updated_at=at
        )
        return True
