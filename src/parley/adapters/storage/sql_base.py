"""The ``Store`` on a SQL database through a plain DB-API driver; dialects fill in the rest.

SQLAlchemy and Alembic only create the schema (``migrate.py``); at run time every statement
goes straight to the driver from the threads in ``workers.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Final, TypeVar

from parley.adapters.storage import rows
from parley.adapters.storage.conflicts import already_exists, user_conflict
from parley.adapters.storage.dialect import Cursor, Dialect
from parley.adapters.storage.migrate import HEAD_REVISION
from parley.adapters.storage.workers import GroupCommitWriter, LoopGroupWriter, ReaderPool
from parley.domain.accounts import AccessToken, ApiKey, ConsoleSession, Invite, OAuthClient, Organization, User
from parley.domain.errors import ParleyError
from parley.domain.interactions import Interaction, InteractionState, Message
from parley.domain.sms_records import OptChange, OutboxState, PartReport, SmsNumber, SmsOutbound
from parley.domain.webhooks import Delivery, DeliveryStatus, Webhook
from parley.service.ports import IdempotencyRecord, InteractionPage, InteractionQuery, OpenInteractions, UserPage

T = TypeVar("T")
Conflict = Callable[[str], ParleyError]


def _fixed(reason: str) -> Conflict:
    return lambda _detail: already_exists(reason)


def _insert(table: str, columns: str) -> str:
    return f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(columns.split(',')))})"


_SAVE_INTERACTION: Final = "UPDATE interactions SET {} WHERE interaction_id = ?".format(
    ", ".join(f"{column} = ?" for column in rows.INTERACTION_MUTABLE)
)


class SqlStore:
    def __init__(self, url: str, dialect: Dialect, *, migrate: bool = True, readers: int = 2) -> None:
        self._url = url
        self._dialect = dialect
        self._migrate = migrate
        self._writer = LoopGroupWriter(dialect) if dialect.commits_on_loop else GroupCommitWriter(dialect)
        self._readers = ReaderPool(dialect, readers)

    async def start(self) -> None:
        if self._migrate and await asyncio.to_thread(self.schema_revision) != HEAD_REVISION:
            from parley.adapters.storage.migrate import upgrade_database

            await asyncio.to_thread(upgrade_database, self._url)
        await asyncio.to_thread(self._writer.open)

    def schema_revision(self) -> str | None:
        """The migration the database is at, or None for a new (or unreachable) database."""
        try:
            cursor = self._dialect.connect(for_writes=False)
        except Exception:
            return None  # the migration run reports why, with the whole story
        try:
            cursor.execute("SELECT version_num FROM alembic_version")
            row = cursor.fetchone()
            return None if row is None else str(row[0])
        except Exception:
            return None
        finally:
            cursor.connection.close()

    async def close(self) -> None:
        await self._writer.aclose()
        await asyncio.to_thread(self._readers.close)

    async def ping(self) -> None:
        await self._readers.submit(partial(self._rows, sql="SELECT 1"))

    @property
    def commits(self) -> int:
        """How many transactions the writer has committed: fewer than writes when they group."""
        return self._writer.commits

    # -- statements ------------------------------------------------------------------------------
    def _run(self, cursor: Cursor, sql: str, params: rows.Row = (), conflict: Conflict | None = None) -> int:
        try:
            cursor.execute(self._dialect.sql(sql), params)
        except Exception as exc:
            detail = None if conflict is None else self._dialect.unique_violation(exc)
            if detail is None or conflict is None:
                raise
            raise conflict(detail) from exc
        return cursor.rowcount

    def _rows(self, cursor: Cursor, sql: str, params: rows.Row = ()) -> list[Any]:
        cursor.execute(self._dialect.sql(sql), params)
        return cursor.fetchall()

    async def _write(
        self, sql: str, params: rows.Row, conflict: Conflict | None = None, then: tuple[tuple[str, rows.Row], ...] = ()
    ) -> None:
        """One statement, and those of ``then`` after it in its transaction (they raise no conflicts)."""
        if not then:
            run = partial(self._run, sql=sql, params=params, conflict=conflict)
            await self._writer.submit(run, statement=self._dialect.sql(sql), params=params)
            return

        def run_all(cursor: Cursor) -> None:
            self._run(cursor, sql, params, conflict)
            for statement, its_params in then:
                self._run(cursor, statement, its_params)

        converted = tuple((self._dialect.sql(statement), p) for statement, p in then)
        await self._writer.submit(run_all, statement=self._dialect.sql(sql), params=params, then=converted)

    async def _count(self, sql: str, *params: Any) -> int:
        """Run an UPDATE or DELETE; returns how many rows it touched."""
        return await self._writer.submit(partial(self._run, sql=sql, params=params), reads=True)

    async def _add(self, table: str, columns: str, row: rows.Row, conflict: Conflict) -> None:
        await self._write(_insert(table, columns), row, conflict)

    async def _select(self, decode: Callable[[rows.Row], T], sql: str, *params: Any) -> list[T]:
        found = await self._readers.submit(partial(self._rows, sql=sql, params=params))
        return [decode(row) for row in found]

    async def _select_one(self, decode: Callable[[rows.Row], T], sql: str, *params: Any) -> T | None:
        found = await self._select(decode, sql, *params)
        return found[0] if found else None

    async def _page(
        self, table: str, columns: str, id_column: str, where: str, params: list[Any], limit: int, token: str | None
    ) -> tuple[int, list[Any], str | None]:
        """One page of rows ordered by (created_at, id): how many match, the rows, the next token."""
        page_where, page_params = where, list(params)
        if token is not None:
            created_at, after_id = rows.decode_page_token(token)
            page_where += f" AND (created_at > ? OR (created_at = ? AND {id_column} > ?))"
            page_params += [created_at, created_at, after_id]
        limit = max(1, limit)
        page_sql = (
            f"SELECT {columns}, created_at, {id_column} FROM {table} WHERE {page_where}"
            f" ORDER BY created_at, {id_column} LIMIT {limit + 1}"
        )

        def read(cursor: Cursor) -> tuple[int, list[Any]]:
            (total,) = self._rows(cursor, f"SELECT count(*) FROM {table} WHERE {where}", params)[0]
            return total, self._rows(cursor, page_sql, page_params)

        total, found = await self._readers.submit(read)
        next_token = (
            rows.encode_page_token((found[limit - 1][-2], found[limit - 1][-1])) if len(found) > limit else None
        )
        return total, found[:limit], next_token

    # -- organizations and credentials -------------------------------------------------------------
    async def add_organization(self, org: Organization) -> None:
        await self._add(
            "organizations",
            "org_id, created_at",
            (org.org_id, org.created_at),
            _fixed("duplicateOrganization"),
        )

    async def get_organization(self, org_id: str) -> Organization | None:
        sql = "SELECT org_id, created_at FROM organizations WHERE org_id = ?"
        return await self._select_one(lambda r: Organization(r[0], r[1]), sql, org_id)

    async def list_organizations(self) -> list[Organization]:
        sql = "SELECT org_id, created_at FROM organizations ORDER BY created_at, org_id"
        return await self._select(lambda r: Organization(r[0], r[1]), sql)

    async def add_client(self, client: OAuthClient) -> None:
        await self._add("oauth_clients", rows.CLIENT_COLUMNS, rows.client_row(client), _fixed("duplicateClient"))

    async def get_client(self, client_id: str) -> OAuthClient | None:
        sql = f"SELECT {rows.CLIENT_COLUMNS} FROM oauth_clients WHERE client_id = ?"
        return await self._select_one(rows.client_of, sql, client_id)

    async def list_clients(self, org_id: str) -> list[OAuthClient]:
        sql = f"SELECT {rows.CLIENT_COLUMNS} FROM oauth_clients WHERE org_id = ? ORDER BY created_at, client_id"
        return await self._select(rows.client_of, sql, org_id)

    async def list_api_keys(self, org_id: str) -> list[ApiKey]:
        sql = f"SELECT {rows.API_KEY_COLUMNS} FROM api_keys WHERE org_id = ? ORDER BY created_at, key_id"
        return await self._select(rows.api_key_of, sql, org_id)

    async def revoke_client(self, client_id: str, at: float) -> bool:
        sql = "UPDATE oauth_clients SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL"
        return await self._count(sql, at, client_id) > 0

    async def set_client_secret(self, client_id: str, secret_hash: str) -> bool:
        sql = "UPDATE oauth_clients SET secret_hash = ? WHERE client_id = ? AND revoked_at IS NULL"
        return await self._count(sql, secret_hash, client_id) > 0

    async def add_api_key(self, key: ApiKey) -> None:
        await self._add("api_keys", rows.API_KEY_COLUMNS, rows.api_key_row(key), _fixed("duplicateApiKey"))

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        sql = f"SELECT {rows.API_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?"
        return await self._select_one(rows.api_key_of, sql, key_hash)

    async def revoke_api_key(self, key_id: str, at: float) -> bool:
        sql = "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL"
        return await self._count(sql, at, key_id) > 0

    async def add_token(self, token: AccessToken) -> None:
        await self._add("access_tokens", rows.TOKEN_COLUMNS, rows.token_row(token), _fixed("duplicateToken"))

    async def get_token(self, token_hash: str) -> AccessToken | None:
        sql = f"SELECT {rows.TOKEN_COLUMNS} FROM access_tokens WHERE token_hash = ?"
        return await self._select_one(rows.token_of, sql, token_hash)

    async def revoke_tokens_of_client(self, client_id: str, at: float) -> int:
        sql = "UPDATE access_tokens SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL"
        return await self._count(sql, at, client_id)

    # -- console sign-in --------------------------------------------------------------------------------
    async def set_password(self, org_id: str, user_id: str, password_hash: str, at: float) -> None:
        sql = (
            "INSERT INTO user_passwords (org_id, user_id, password_hash, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (org_id, user_id) DO UPDATE SET password_hash = excluded.password_hash,"
            " updated_at = excluded.updated_at"
        )
        await self._write(sql, (org_id, user_id, password_hash, at))

    async def get_password(self, org_id: str, user_id: str) -> str | None:
        sql = "SELECT password_hash FROM user_passwords WHERE org_id = ? AND user_id = ?"
        return await self._select_one(lambda r: str(r[0]), sql, org_id, user_id)

    async def add_console_session(self, session: ConsoleSession) -> None:
        row = rows.console_session_row(session)
        await self._add("console_sessions", rows.CONSOLE_SESSION_COLUMNS, row, _fixed("duplicateSession"))

    async def get_console_session(self, secret_hash: str) -> ConsoleSession | None:
        sql = f"SELECT {rows.CONSOLE_SESSION_COLUMNS} FROM console_sessions WHERE secret_hash = ?"
        return await self._select_one(rows.console_session_of, sql, secret_hash)

    async def revoke_console_session(self, session_id: str, at: float) -> bool:
        sql = "UPDATE console_sessions SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL"
        return await self._count(sql, at, session_id) > 0

    async def add_invite(self, invite: Invite) -> None:
        await self._add("user_invites", rows.INVITE_COLUMNS, rows.invite_row(invite), _fixed("duplicateInvite"))

    async def use_invite(self, invite_hash: str, at: float) -> Invite | None:
        def write(cursor: Cursor) -> Invite | None:
            sql = "UPDATE user_invites SET used_at = ? WHERE invite_hash = ? AND used_at IS NULL AND expires_at > ?"
            if not self._run(cursor, sql, (at, invite_hash, at)):
                return None
            found = self._rows(
                cursor, f"SELECT {rows.INVITE_COLUMNS} FROM user_invites WHERE invite_hash = ?", (invite_hash,)
            )
            return rows.invite_of(found[0])

        return await self._writer.submit(write, reads=True)

    # -- users ---------------------------------------------------------------------------------------
    async def add_user(self, user: User) -> None:
        def write(cursor: Cursor) -> None:
            # Databases differ in which rule they report when both break; the email is the one
            # a caller can act on, so it is looked for first.
            if self._rows(cursor, _EMAIL_TAKEN, (user.org_id, user.email.lower())):
                raise already_exists("duplicateEmail")
            self._run(cursor, _ADD_USER, rows.user_row(user), user_conflict)

        await self._writer.submit(write, reads=True)

    async def get_user(self, org_id: str, user_id: str) -> User | None:
        sql = f"SELECT {rows.USER_COLUMNS} FROM users WHERE user_id = ? AND org_id = ?"
        return await self._select_one(rows.user_of, sql, user_id, org_id)

    async def find_users(
        self,
        org_id: str,
        *,
        email: str | None = None,
        name_contains: str | None = None,
        limit: int = 100,
        continuation_token: str | None = None,
    ) -> UserPage:
        where, params = "org_id = ?", [org_id]
        if email is not None:
            where += " AND email_lower = ?"
            params.append(email.lower())
        if name_contains:
            where += f" AND {self._dialect.position_function}(name_search, ?) > 0"
            params.append(name_contains.lower())
        total, users, token = await self._page(
            "users", rows.USER_COLUMNS, "user_id", where, params, limit, continuation_token
        )
        return UserPage([rows.user_of(r) for r in users], total, token)

    # -- interactions and messages ---------------------------------------------------------------------
    async def add_interaction(self, interaction: Interaction) -> None:
        row = rows.interaction_row(interaction)
        await self._add("interactions", rows.INTERACTION_WRITE_COLUMNS, row, _fixed("duplicateInteraction"))

    async def save_interaction(self, interaction: Interaction) -> None:
        row = rows.interaction_row(interaction)
        await self._write(_SAVE_INTERACTION, (*row[2:], interaction.interaction_id))

    async def get_interaction(self, org_id: str, interaction_id: str) -> Interaction | None:
        sql = f"SELECT {rows.INTERACTION_COLUMNS} FROM interactions WHERE interaction_id = ? AND org_id = ?"
        return await self._select_one(rows.interaction_of, sql, interaction_id, org_id)

    async def open_interactions(self) -> list[Interaction]:
        sql = f"SELECT {rows.INTERACTION_COLUMNS} FROM interactions WHERE state <> ? ORDER BY created_at"
        return await self._select(rows.interaction_of, sql, InteractionState.ENDED.value)

    async def find_interactions(self, query: InteractionQuery) -> InteractionPage:
        where, params = "org_id = ?", list[Any]([query.org_id])
        for column, value in (("state", query.state), ("channel_type", query.channel_type)):
            if value is not None:
                where += f" AND {column} = ?"
                params.append(value)
        if query.user_id is not None:
            where += f" AND {self._dialect.position_function}(user_search, ?) > 0"
            params.append(f"\n{query.user_id}\n")
        total, found, token = await self._page(
            "interactions",
            rows.INTERACTION_COLUMNS,
            "interaction_id",
            where,
            params,
            query.limit,
            query.continuation_token,
        )
        return InteractionPage([rows.interaction_of(r) for r in found], total, token)

    async def count_open_interactions(self) -> OpenInteractions:
        sql = "SELECT state, COUNT(*), MIN(created_at) FROM interactions WHERE state <> ? GROUP BY state"
        found = await self._select(lambda r: (str(r[0]), int(r[1]), float(r[2])), sql, InteractionState.ENDED.value)
        oldest = next((at for state, _, at in found if state == InteractionState.QUEUED.value), None)
        return OpenInteractions({state: count for state, count, _ in found}, oldest)

    async def add_message(
        self, message: Message, idempotency: IdempotencyRecord | None = None, deliveries: Sequence[Delivery] = ()
    ) -> None:
        row = rows.message_row(message)
        then = tuple((_ADD_DELIVERY, _in_line(rows.delivery_row(d))) for d in deliveries) if deliveries else ()
        if idempotency is None:
            await self._write(_ADD_MESSAGE, row, _DUPLICATE_MESSAGE, then)
            return

        def write(cursor: Cursor) -> None:
            self._run(cursor, _ADD_MESSAGE, row, _DUPLICATE_MESSAGE)
            self._run(cursor, _ADD_IDEMPOTENCY, rows.idempotency_row(idempotency), _IDEMPOTENCY_CONFLICT)
            for statement, params in then:
                self._run(cursor, statement, params)

        await self._writer.submit(write)

    async def transcript(self, org_id: str, interaction_id: str) -> list[Message]:
        sql = f"SELECT {rows.MESSAGE_COLUMNS} FROM messages WHERE interaction_id = ? AND org_id = ?"
        sql += " ORDER BY seq"
        return await self._select(rows.message_of, sql, interaction_id, org_id)

    # -- idempotency -----------------------------------------------------------------------------------
    async def get_idempotency(self, api_key_id: str, key: str) -> IdempotencyRecord | None:
        sql = f"SELECT {rows.IDEMPOTENCY_COLUMNS} FROM idempotency_keys WHERE api_key_id = ? AND key = ?"
        return await self._select_one(rows.idempotency_of, sql, api_key_id, key)

    async def put_idempotency(self, record: IdempotencyRecord) -> None:
        await self._write(_ADD_IDEMPOTENCY, rows.idempotency_row(record), _IDEMPOTENCY_CONFLICT)

    async def purge_idempotency(self, older_than: float) -> int:
        return await self._count("DELETE FROM idempotency_keys WHERE created_at < ?", older_than)

    async def purge_ended_interactions(self, ended_before: float, interactions: int, messages: int) -> tuple[int, int]:
        def purge(cursor: Cursor) -> tuple[int, int]:
            ended = self._rows(
                cursor,
                "SELECT interaction_id FROM interactions WHERE state = ? AND ended_at < ? ORDER BY ended_at LIMIT ?",
                (InteractionState.ENDED.value, ended_before, interactions),
            )
            ids = [row[0] for row in ended]
            if not ids:
                return 0, 0
            marks = ", ".join("?" * len(ids))
            deleted = self._run(
                cursor,
                f"DELETE FROM messages WHERE message_id IN (SELECT message_id FROM messages"
                f" WHERE interaction_id IN ({marks}) LIMIT ?)",
                (*ids, messages),
            )
            gone = self._run(
                cursor,
                f"DELETE FROM interactions WHERE interaction_id IN ({marks})"
                " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.interaction_id = interactions.interaction_id)",
                tuple(ids),
            )
            return gone, deleted

        return await self._writer.submit(purge, reads=True)

    # -- secrets -----------------------------------------------------------------------------------------
    async def get_or_create_secret(self, name: str, value: str) -> str:
        def write(cursor: Cursor) -> str:
            self._run(
                cursor,
                "INSERT INTO server_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                (name, value),
            )
            stored: str = self._rows(cursor, "SELECT value FROM server_secrets WHERE name = ?", (name,))[0][0]
            return stored

        return await self._writer.submit(write, reads=True)

    # -- SMS numbers and opt-outs --------------------------------------------------------------------
    async def add_sms_number(self, number: SmsNumber) -> None:
        await self._add(
            "sms_numbers", rows.SMS_NUMBER_COLUMNS, rows.sms_number_row(number), _fixed("duplicateSmsNumber")
        )

    async def remove_sms_number(self, org_id: str, number: str) -> bool:
        return await self._count("DELETE FROM sms_numbers WHERE number = ? AND org_id = ?", number, org_id) > 0

    async def get_sms_number(self, number: str) -> SmsNumber | None:
        sql = f"SELECT {rows.SMS_NUMBER_COLUMNS} FROM sms_numbers WHERE number = ?"
        return await self._select_one(rows.sms_number_of, sql, number)

    async def list_sms_numbers(self, org_id: str) -> list[SmsNumber]:
        sql = f"SELECT {rows.SMS_NUMBER_COLUMNS} FROM sms_numbers WHERE org_id = ? ORDER BY number"
        return await self._select(rows.sms_number_of, sql, org_id)

    async def add_opt_change(self, change: OptChange) -> None:
        await self._write(_insert("sms_opt_changes", rows.OPT_CHANGE_COLUMNS), rows.opt_change_row(change))

    async def opt_history(self, org_id: str, number: str) -> list[OptChange]:
        sql = f"SELECT {rows.OPT_CHANGE_COLUMNS} FROM sms_opt_changes WHERE org_id = ? AND number = ?"
        return await self._select(rows.opt_change_of, sql + " ORDER BY change_id", org_id, number)

    # -- SMS outbox, delivery reports, inbound SMS seen -------------------------------------------------
    async def add_sms_outbound(self, outbound: SmsOutbound) -> None:
        row = rows.outbound_row(outbound)
        await self._add("sms_outbox", rows.OUTBOUND_COLUMNS, row, _fixed("duplicateMessage"))

    async def get_sms_outbound(self, message_id: str) -> SmsOutbound | None:
        sql = f"SELECT {rows.OUTBOUND_COLUMNS} FROM sms_outbox WHERE message_id = ?"
        return await self._select_one(rows.outbound_of, sql, message_id)

    async def due_sms_outbound(self, now: float, limit: int) -> list[SmsOutbound]:
        sql = f"SELECT {rows.OUTBOUND_COLUMNS} FROM sms_outbox WHERE state = ? AND next_attempt_at <= ?"
        sql += f" ORDER BY next_attempt_at, message_id LIMIT {max(1, int(limit))}"
        return await self._select(rows.outbound_of, sql, OutboxState.QUEUED.value, now)

    async def claim_sms_outbound(self, message_id: str, attempts: int, lease_until: float, at: float) -> bool:
        sql = (
            "UPDATE sms_outbox SET attempts = attempts + 1, next_attempt_at = ?, updated_at = ?"
            " WHERE message_id = ? AND attempts = ? AND state = ? AND next_attempt_at IS NOT NULL"
        )
        return await self._count(sql, lease_until, at, message_id, attempts, OutboxState.QUEUED.value) > 0

    async def reschedule_sms_outbound(
        self, message_id: str, next_attempt_at: float | None, error: str, at: float
    ) -> None:
        sql = "UPDATE sms_outbox SET next_attempt_at = ?, error = ?, updated_at = ? WHERE message_id = ? AND state = ?"
        await self._write(sql, (next_attempt_at, error, at, message_id, OutboxState.QUEUED.value))

    async def set_sms_outbound_state(
        self, message_id: str, state: OutboxState, gateway_code: int | None, error: str, at: float
    ) -> None:
        sql = (
            "UPDATE sms_outbox SET state = ?, gateway_code = ?, error = ?, updated_at = ?, next_attempt_at = NULL"
            " WHERE message_id = ?"
        )
        await self._write(sql, (state.value, gateway_code, error, at, message_id))

    async def add_sms_report(self, report: PartReport) -> bool:
        sql = _insert("sms_delivery_reports", rows.REPORT_COLUMNS) + " ON CONFLICT DO NOTHING"
        return await self._count(sql, *rows.report_row(report)) > 0

    async def sms_reports(self, message_id: str) -> list[PartReport]:
        sql = f"SELECT {rows.REPORT_COLUMNS} FROM sms_delivery_reports WHERE message_id = ?"
        return await self._select(rows.report_of, sql + " ORDER BY received_at, part, code", message_id)

    async def claim_inbound_sms(self, gateway_id: str, org_id: str, at: float) -> bool:
        sql = "INSERT INTO sms_inbound_seen (gateway_id, org_id, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
        return await self._count(sql, gateway_id, org_id, at) > 0

    async def release_inbound_sms(self, gateway_id: str) -> None:
        await self._write("DELETE FROM sms_inbound_seen WHERE gateway_id = ?", (gateway_id,))

    # -- outbound webhooks --------------------------------------------------------------------------------
    async def add_webhook(self, webhook: Webhook) -> None:
        await self._add("webhooks", rows.WEBHOOK_COLUMNS, rows.webhook_row(webhook), _fixed("duplicateWebhook"))

    async def save_webhook(self, webhook: Webhook) -> None:
        row = rows.webhook_row(webhook)
        await self._write(_SAVE_WEBHOOK, (*row[2:], webhook.webhook_id))

    async def delete_webhook(self, org_id: str, webhook_id: str) -> bool:
        def write(cursor: Cursor) -> bool:
            sql = "DELETE FROM webhooks WHERE webhook_id = ? AND org_id = ?"
            if self._run(cursor, sql, (webhook_id, org_id)) == 0:
                return False
            self._run(cursor, "DELETE FROM webhook_deliveries WHERE webhook_id = ?", (webhook_id,))
            return True

        return await self._writer.submit(write, reads=True)

    async def all_webhooks(self) -> list[Webhook]:
        sql = f"SELECT {rows.WEBHOOK_COLUMNS} FROM webhooks ORDER BY created_at, webhook_id"
        return await self._select(rows.webhook_of, sql)

    async def claim_deliveries(self, webhook_id: str, now: float, lease_until: float, limit: int) -> list[Delivery]:
        sql = _CLAIM_DELIVERIES.format(limit=max(1, int(limit)))
        pending = DeliveryStatus.PENDING.value
        params = (lease_until, now, pending, now, webhook_id, pending, now)
        found = await self._writer.submit(partial(self._rows, sql=sql, params=params), reads=True)
        return [rows.delivery_of(r[1:]) for r in sorted(found)]

    async def release_waiting(self, webhook_id: str, now: float) -> int:
        if self._dialect.one_writer:
            return 0  # every delivery is stored and ended by this store's one writer: no race to repair
        pending = DeliveryStatus.PENDING.value
        return await self._count(_RELEASE_WAITING, now, webhook_id, pending, pending)

    async def finish_attempt(
        self,
        delivery: Delivery,
        status: DeliveryStatus,
        next_attempt_at: float | None,
        status_code: int | None,
        error: str,
        at: float,
    ) -> bool:
        pending = DeliveryStatus.PENDING.value
        outcome = (status.value, next_attempt_at, status_code, error, at)
        held = (delivery.delivery_id, delivery.attempts, pending)
        key = (delivery.webhook_id, delivery.order_key, pending)

        def write(cursor: Cursor) -> bool:
            if self._run(cursor, _FINISH_ATTEMPT, (*outcome, *held)) == 0:
                return False
            if status is not DeliveryStatus.PENDING:
                self._run(cursor, _RELEASE_NEXT, (at, *key, *key))
            return True

        return await self._writer.submit(write, reads=True)

    async def list_deliveries(self, webhook_id: str, status: DeliveryStatus | None, limit: int) -> list[Delivery]:
        sql = f"SELECT {rows.DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = ?"
        params: list[Any] = [webhook_id]
        if status is not None:
            sql += " AND status = ?"
            params.append(status.value)
        sql += f" ORDER BY position DESC LIMIT {max(1, int(limit))}"
        return await self._select(rows.delivery_of, sql, *params)

    async def retry_delivery(self, webhook_id: str, delivery_id: str, at: float) -> bool:
        pending = DeliveryStatus.PENDING.value
        params = (pending, webhook_id, pending, at, at, delivery_id, webhook_id, pending)
        return await self._count(_RETRY_DELIVERY, *params) > 0


_EMAIL_TAKEN: Final = "SELECT 1 FROM users WHERE org_id = ? AND email_lower = ?"
_ADD_USER: Final = _insert("users", rows.USER_INSERT_COLUMNS)
_ADD_MESSAGE: Final = _insert("messages", rows.MESSAGE_COLUMNS)
_ADD_IDEMPOTENCY: Final = _insert("idempotency_keys", rows.IDEMPOTENCY_COLUMNS)
_IDEMPOTENCY_CONFLICT: Final = _fixed("idempotencyKeyExists")
_DUPLICATE_MESSAGE: Final = _fixed("duplicateMessage")
_DELIVERY_VALUES: Final = rows.DELIVERY_COLUMNS.split(", ")
_WAITS_IN_LINE: Final = (
    "CASE WHEN EXISTS (SELECT 1 FROM webhook_deliveries WHERE webhook_id = ? AND order_key = ? AND status = ?)"
    " THEN NULL ELSE ? END"
)
# A delivery whose order key already has a pending one is stored waiting in line (no due time).
_ADD_DELIVERY: Final = "INSERT INTO webhook_deliveries ({}) SELECT {}".format(
    rows.DELIVERY_COLUMNS,
    ", ".join(_WAITS_IN_LINE if c == "next_attempt_at" else "?" for c in _DELIVERY_VALUES),
)
_DUE_AT: Final = _DELIVERY_VALUES.index("next_attempt_at")


def _in_line(row: rows.Row) -> rows.Row:
    """A delivery's row with what ``_ADD_DELIVERY`` needs to decide whether it waits in line."""
    return (*row[:_DUE_AT], row[1], row[5], DeliveryStatus.PENDING.value, row[_DUE_AT], *row[_DUE_AT + 1 :])


_SAVE_WEBHOOK: Final = "UPDATE webhooks SET {} WHERE webhook_id = ?".format(
    ", ".join(f"{column.strip()} = ?" for column in rows.WEBHOOK_COLUMNS.split(",")[2:])
)
# The outer conditions are checked again on a row another worker changed meanwhile (PostgreSQL),
# so each delivery is claimed once.
_CLAIM_DELIVERIES: Final = (
    "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?, updated_at = ?"
    " WHERE status = ? AND next_attempt_at <= ? AND position IN ("
    "SELECT position FROM webhook_deliveries WHERE webhook_id = ? AND status = ? AND next_attempt_at <= ?"
    " ORDER BY position LIMIT {limit})"
    f" RETURNING position, {rows.DELIVERY_COLUMNS}"
)
_FINISH_ATTEMPT: Final = (
    "UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, last_status_code = ?, last_error = ?,"
    " updated_at = ? WHERE delivery_id = ? AND attempts = ? AND status = ?"
)
# The first waiting delivery of an order key becomes due, unless one of the key is still going.
_RELEASE_NEXT: Final = (
    "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE position = ("
    "SELECT min(position) FROM webhook_deliveries WHERE webhook_id = ? AND order_key = ? AND status = ?"
    " AND next_attempt_at IS NULL) AND NOT EXISTS (SELECT 1 FROM webhook_deliveries WHERE webhook_id = ?"
    " AND order_key = ? AND status = ? AND next_attempt_at IS NOT NULL)"
)
_RELEASE_WAITING: Final = (
    "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE position IN ("
    "SELECT min(w.position) FROM webhook_deliveries w WHERE w.webhook_id = ? AND w.status = ?"
    " AND w.next_attempt_at IS NULL AND NOT EXISTS (SELECT 1 FROM webhook_deliveries h"
    " WHERE h.webhook_id = w.webhook_id AND h.order_key = w.order_key AND h.status = ?"
    " AND h.next_attempt_at IS NOT NULL) GROUP BY w.order_key)"
)
_RETRY_DELIVERY: Final = (
    "UPDATE webhook_deliveries SET status = ?, attempts = 0, next_attempt_at = CASE WHEN EXISTS ("
    "SELECT 1 FROM webhook_deliveries p WHERE p.webhook_id = ? AND p.order_key = webhook_deliveries.order_key"
    " AND p.status = ?) THEN NULL ELSE ? END, updated_at = ? WHERE delivery_id = ? AND webhook_id = ? AND status <> ?"
)
