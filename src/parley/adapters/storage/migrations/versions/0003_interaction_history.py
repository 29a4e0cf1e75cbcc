"""Interactions remember when they were first accepted and who was in them, for the read APIs.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("interactions") as table:
        table.add_column(sa.Column("accepted_at", sa.Double(), nullable=True))
        table.add_column(sa.Column("former_user_ids", sa.Text(), nullable=False, server_default="[]"))
        # Every user who is or was in the interaction, each between newlines (a substring search).
        table.add_column(sa.Column("user_search", sa.Text(), nullable=False, server_default="\n"))
    bind = op.get_bind()
    found = bind.execute(sa.text("SELECT interaction_id, agent_ids, monitor_ids FROM interactions")).fetchall()
    for interaction_id, agent_ids, monitor_ids in found:
        users = dict.fromkeys([*json.loads(agent_ids), *json.loads(monitor_ids)])
        bind.execute(
            sa.text("UPDATE interactions SET user_search = :users WHERE interaction_id = :id"),
            {"users": "\n" + "".join(u + "\n" for u in users), "id": interaction_id},
        )
    op.create_index("ix_interactions_listing", "interactions", ["org_id", "state", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_interactions_listing", "interactions")
    with op.batch_alter_table("interactions") as table:
        for column in ("user_search", "former_user_ids", "accepted_at"):
            table.drop_column(column)
