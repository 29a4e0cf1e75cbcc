"""SMS: sender numbers, opt-out history, the outbox, delivery reports, inbound SMS seen.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def _text(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _time(name: str, nullable: bool = False) -> sa.Column[float]:
    return sa.Column(name, sa.Double(), nullable=nullable)


def _int(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sms_numbers", _text("number"), _text("org_id"), _time("created_at"), sa.PrimaryKeyConstraint("number")
    )
    op.create_index("ix_sms_numbers_org", "sms_numbers", ["org_id", "number"])
    op.create_table(
        "sms_opt_changes",
        sa.Column("change_id", sa.Integer(), primary_key=True, autoincrement=True),
        _text("org_id"),
        _text("number"),
        _text("state"),  # "out" or "in"
        _text("keyword"),
        _time("changed_at"),
    )
    op.create_index("ix_sms_opt_changes_number", "sms_opt_changes", ["org_id", "number", "change_id"])
    op.create_table(
        "sms_outbox",
        _text("message_id"),
        _text("org_id"),
        _text("interaction_id"),
        _text("to_number"),
        _text("from_number"),
        _text("body"),
        _int("segments"),
        _int("attempts"),
        _time("next_attempt_at", nullable=True),
        _text("state"),
        _time("created_at"),
        _int("gateway_code", nullable=True),
        _text("error"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_index("ix_sms_outbox_due", "sms_outbox", ["state", "next_attempt_at"])
    op.create_table(
        "sms_delivery_reports",
        _text("message_id"),
        _int("part"),
        _text("state"),
        _int("code"),
        _time("received_at"),
        sa.PrimaryKeyConstraint("message_id", "part", "code"),
    )
    op.create_table(
        "sms_inbound_seen",
        _text("gateway_id"),
        _text("org_id"),
        _time("received_at"),
        sa.PrimaryKeyConstraint("gateway_id"),
    )


def downgrade() -> None:
    for table in ("sms_inbound_seen", "sms_delivery_reports", "sms_outbox", "sms_opt_changes", "sms_numbers"):
        op.drop_table(table)
