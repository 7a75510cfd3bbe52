"""attendance at gatherings (per person until held, then counts per team); a task's version;
whether a gathering's end time was given (else it is not shown)

Revision ID: 0006_attendance
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_attendance"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "gathering_id",
            sa.Integer(),
            sa.ForeignKey("gatherings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("people.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("answer", sa.String(10), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("gathering_id", "person_id", name="uq_attendance_gathering_person"),
    )
    op.create_table(
        "attendance_counts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "gathering_id",
            sa.Integer(),
            sa.ForeignKey("gatherings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("team", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.UniqueConstraint("gathering_id", "team", "kind", name="uq_attendance_counts_key"),
    )
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("gatherings") as batch:
        batch.add_column(sa.Column("end_given", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gatherings") as batch:
        batch.drop_column("end_given")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("version")
    op.drop_table("attendance_counts")
    op.drop_table("attendance")
