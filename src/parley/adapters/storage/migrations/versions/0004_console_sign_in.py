"""Console sign-in: users' password hashes, signed-in consoles, invitations, user-bound tokens.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def _text(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _time(name: str, nullable: bool = False) -> sa.Column[float]:
    return sa.Column(name, sa.Double(), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("access_tokens") as table:
        table.add_column(_text("user_id", nullable=True))
    op.create_table(
        "user_passwords",
        _text("org_id"),
        _text("user_id"),
        _text("password_hash"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("org_id", "user_id"),
    )
    op.create_table(
        "console_sessions",
        _text("session_id"),
        _text("secret_hash"),
        _text("org_id"),
        _text("user_id"),
        _text("api_key_id"),
        _time("created_at"),
        _time("expires_at"),
        _time("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("session_id"),
        sa.UniqueConstraint("secret_hash"),
    )
    op.create_table(
        "user_invites",
        _text("invite_hash"),
        _text("org_id"),
        _text("user_id"),
        _time("created_at"),
        _time("expires_at"),
        _time("used_at", nullable=True),
        sa.PrimaryKeyConstraint("invite_hash"),
    )


def downgrade() -> None:
    for table in ("user_invites", "console_sessions", "user_passwords"):
        op.drop_table(table)
    with op.batch_alter_table("access_tokens") as tokens:
        tokens.drop_column("user_id")
