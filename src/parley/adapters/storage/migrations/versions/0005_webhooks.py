"""Outbound webhooks and their delivery queue.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
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
        "webhooks",
        _text("webhook_id"),
        _text("org_id"),
        _text("url"),
        _text("event_types"),  # a JSON list
        _text("description"),
        _text("secret"),  # kept as given: every delivery is signed with it
        _time("created_at"),
        _text("previous_secret"),
        _time("previous_until"),
        sa.PrimaryKeyConstraint("webhook_id"),
    )
    op.create_index("ix_webhooks_org", "webhooks", ["org_id", "created_at"])
    op.create_table(
        "webhook_deliveries",
        # Storage order: a webhook's deliveries of one order key go out in this order.
        sa.Column(
            "position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
        _text("delivery_id"),
        _text("webhook_id"),
        _text("org_id"),
        _text("event_id"),
        _text("event_type"),
        _text("order_key"),
        _text("body"),
        _text("status"),  # pending, delivered, failed
        _int("attempts"),
        _time("next_attempt_at", nullable=True),
        _time("created_at"),
        _time("updated_at"),
        _int("last_status_code", nullable=True),
        _text("last_error"),
        sa.UniqueConstraint("delivery_id", name="ux_webhook_deliveries_id"),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["webhook_id", "status", "next_attempt_at"])
    op.create_index(
        "ix_webhook_deliveries_order", "webhook_deliveries", ["webhook_id", "order_key", "status", "position"]
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
