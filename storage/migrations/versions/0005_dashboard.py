"""steering-group dashboard: one-time links and sessions (hashes only), a task's factor

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dashboard_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("people.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_dashboard_tokens_token_hash"),
    )
    op.create_index("ix_dashboard_tokens_person_id", "dashboard_tokens", ["person_id"])
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("factor_id", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("factor_id")
    op.drop_index("ix_dashboard_tokens_person_id", table_name="dashboard_tokens")
    op.drop_table("dashboard_tokens")
