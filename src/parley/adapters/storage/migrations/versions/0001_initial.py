"""Initial schema: organizations, credentials, users, interactions, messages, idempotency, secrets.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _text(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _time(name: str, nullable: bool = False) -> sa.Column[float]:
    return sa.Column(name, sa.Double(), nullable=nullable)


def upgrade() -> None:
    op.create_table("organizations", _text("org_id", False), _time("created_at"), sa.PrimaryKeyConstraint("org_id"))
    op.create_table(
        "oauth_clients",
        _text("client_id"),
        _text("org_id"),
        _text("secret_hash"),
        _text("scopes"),
        _time("created_at"),
        _text("name"),
        _time("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("client_id"),
    )
    op.create_index("ix_oauth_clients_org", "oauth_clients", ["org_id"])
    op.create_table(
        "api_keys",
        _text("key_id"),
        _text("org_id"),
        _text("key_hash"),
        _time("created_at"),
        _text("name"),
        _time("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("key_id"),
    )
    op.create_index("ux_api_keys_key_hash", "api_keys", ["key_hash"], unique=True)
    op.create_table(
        "access_tokens",
        _text("token_hash"),
        _text("org_id"),
        _text("client_id"),
        _text("scopes"),
        _time("issued_at"),
        _time("expires_at"),
        _time("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_access_tokens_client", "access_tokens", ["client_id"])
    op.create_table(
        "users",
        _text("user_id"),
        _text("org_id"),
        _text("first_name"),
        _text("last_name"),
        _text("preferred_name"),
        _text("email"),
        # Lower-cased copies made in Python, so "ignoring case" means the same on every backend.
        _text("email_lower"),
        _text("name_search"),
        _text("roles"),
        _time("created_at"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_index("ux_users_org_email", "users", ["org_id", "email_lower"], unique=True)
    op.create_index("ix_users_org_created", "users", ["org_id", "created_at", "user_id"])
    op.create_table(
        "interactions",
        _text("interaction_id"),
        _text("org_id"),
        _text("channel_type"),
        _text("contact_id"),
        _text("contact_name"),
        _time("created_at"),
        _text("contact_address"),
        _text("contact_email"),
        _text("contact_data"),
        _text("state"),
        _text("offered_to", nullable=True),
        _text("ehub_session_id", nullable=True),
        _time("offered_at", nullable=True),
        _text("agent_ids"),
        _text("monitor_ids"),
        _text("declined_by"),
        _time("ended_at", nullable=True),
        _text("ended_by", nullable=True),
        _text("end_reason", nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("interaction_id"),
    )
    op.create_index("ix_interactions_state", "interactions", ["state"])
    op.create_table(
        "messages",
        _text("message_id"),
        _text("org_id"),
        _text("interaction_id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        _text("kind"),
        _text("body"),
        _text("entity_type"),
        _text("entity_name"),
        _text("user_id", nullable=True),
        _time("sent_at"),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_index("ux_messages_interaction_seq", "messages", ["interaction_id", "seq"], unique=True)
    op.create_table(
        "idempotency_keys",
        _text("api_key_id"),
        _text("key"),
        _text("fingerprint"),
        sa.Column("status", sa.Integer(), nullable=False),
        _text("headers"),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("api_key_id", "key"),
    )
    op.create_index("ix_idempotency_keys_created", "idempotency_keys", ["created_at"])
    op.create_table("server_secrets", _text("name"), _text("value"), sa.PrimaryKeyConstraint("name"))


def downgrade() -> None:
    for table in (
        "server_secrets",
        "idempotency_keys",
        "messages",
        "interactions",
        "users",
        "access_tokens",
        "api_keys",
        "oauth_clients",
        "organizations",
    ):
        op.drop_table(table)
