"""learning network: networks, gatherings, tasks, per-team status, reminders

Revision ID: 0002_network
Revises: 0001
Create Date: 2026-11-22 22:15:13.379137
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_network"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "networks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("task_days", sa.JSON(), nullable=False),
        sa.Column("gathering_days", sa.JSON(), nullable=False),
        sa.Column("remind_at", sa.String(length=5), nullable=False),
        sa.Column("work_start", sa.String(length=5), nullable=False),
        sa.Column("work_end", sa.String(length=5), nullable=False),
        sa.Column("pulse_enabled", sa.Boolean(), nullable=False),
        sa.Column("pulse_weekday", sa.Integer(), nullable=False),
        sa.Column("pulse_at", sa.String(length=5), nullable=False),
        sa.Column("pulse_every_weeks", sa.Integer(), nullable=False),
        sa.Column("pulse_open_days", sa.Integer(), nullable=False),
        sa.Column("next_pulse_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_networks")),
    )
    op.create_table(
        "gatherings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("theme", sa.String(length=300), nullable=True),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=True),
        sa.Column("online_link", sa.String(length=500), nullable=True),
        sa.Column("programme", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["networks.id"],
            name=op.f("fk_gatherings_network_id_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gatherings")),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_by_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["people.id"],
            name=op.f("fk_tasks_created_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["networks.id"],
            name=op.f("fk_tasks_network_id_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_table(
        "work_windows",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.String(length=5), nullable=False),
        sa.Column("end", sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_work_windows_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_work_windows")),
    )
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("gathering_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=30), nullable=False),
        sa.Column("fire_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["gathering_id"],
            ["gatherings.id"],
            name=op.f("fk_reminders_gathering_id_gatherings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_reminders_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_reminders_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("key", name="uq_reminders_key"),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index("ix_reminders_due", ["status", "fire_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_reminders_gathering_id"), ["gathering_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reminders_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminders_task_id"), ["task_id"], unique=False)

    op.create_table(
        "task_teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.Column("done_by_name", sa.String(length=200), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["done_by"],
            ["people.id"],
            name=op.f("fk_task_teams_done_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_teams_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_teams")),
        sa.UniqueConstraint("task_id", "team", name="uq_task_teams_task_team"),
    )
    with op.batch_alter_table("task_teams", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_teams_task_id"), ["task_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_teams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_teams_task_id"))

    op.drop_table("task_teams")
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminders_task_id"))
        batch_op.drop_index(batch_op.f("ix_reminders_person_id"))
        batch_op.drop_index(batch_op.f("ix_reminders_gathering_id"))
        batch_op.drop_index("ix_reminders_due")

    op.drop_table("reminders")
    op.drop_table("work_windows")
    op.drop_table("tasks")
    op.drop_table("gatherings")
    op.drop_table("networks")
