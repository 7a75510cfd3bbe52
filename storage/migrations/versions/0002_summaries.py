"""summary posts: counts behind each steering-group summary

Revision ID: 0002_summaries
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_summaries"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "summary_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_posts")),
    )
    with op.batch_alter_table("summary_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_summary_posts_round_id"), ["round_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("summary_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_summary_posts_round_id"))
    op.drop_table("summary_posts")
