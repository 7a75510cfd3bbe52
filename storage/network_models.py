"""Learning-network tables: the network's settings, gatherings, tasks and planned reminders.

Team membership is `people.team` with `people.role` (team_member, union_rep, leader): the
roster file is the one place a team is written down, so there is no second membership table
that could drift from it. A team is therefore a name (one per municipality in the pilot).

Planned reminders are rows here until they are due; then the scheduler turns each into
outbox rows in one transaction (`status` planned → queued). Withdrawn ones stay with their
status (cancelled/dropped) so the plan can be audited.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime


class Network(Base):
    """One learning network: its reminder policy and its pulse cadence."""

    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    task_days: Mapped[list[int]] = mapped_column(JSON)  # days before due: [7, 1, 0]
    gathering_days: Mapped[list[int]] = mapped_column(JSON)  # days before: [14, 2, 0]
    remind_at: Mapped[str] = mapped_column(String(5), default="09:00")
    work_start: Mapped[str] = mapped_column(String(5), default="08:00")
    work_end: Mapped[str] = mapped_column(String(5), default="20:00")
    pulse_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    pulse_weekday: Mapped[int] = mapped_column(Integer, default=1)  # 0 = Monday
    pulse_at: Mapped[str] = mapped_column(String(5), default="09:00")
    pulse_every_weeks: Mapped[int] = mapped_column(Integer, default=2)
    pulse_open_days: Mapped[int] = mapped_column(Integer, default=5)
    next_pulse_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WorkWindow(Base):
    """A person's own reminder hours (shift workers); without a row the network's apply."""

    __tablename__ = "work_windows"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    start: Mapped[str] = mapped_column(String(5))
    end: Mapped[str] = mapped_column(String(5))


class Gathering(Base):
    """A samling. `version` grows when it moves, so old reminders can never be mistaken."""

    __tablename__ = "gatherings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str | None] = mapped_column(String(300))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    place: Mapped[str | None] = mapped_column(String(300))
    online_link: Mapped[str | None] = mapped_column(String(500))
    programme: Mapped[str | None] = mapped_column(Text)
    # Whether the leader gave the end time (else ends_at is a default, never shown);
    # None for gatherings from before this was stored.
    end_given: Mapped[bool | None] = mapped_column(Boolean)
    # planned | moved | cancelled | held | replaced_by_webinar
    status: Mapped[str] = mapped_column(String(24), default="planned")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Task(Base):
    """An oppgave between gatherings, for one team or all (`team` None)."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    team: Mapped[str | None] = mapped_column(String(100))
    due_on: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The survey factor this task works on ("fra prioritet"): its trend is shown beside it.
    factor_id: Mapped[str | None] = mapped_column(String(20))
    # Grows when the due day moves, so reminders planned for the old day never fire.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class TaskTeam(Base):
    """A task's status for one team: open, or done by someone at some time."""

    __tablename__ = "task_teams"
    __table_args__ = (UniqueConstraint("task_id", "team", name="uq_task_teams_task_team"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    team: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open|done
    done_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    done_by_name: Mapped[str | None] = mapped_column(String(200))
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Reminder(Base):
    """A planned reminder for one person. The scheduler queues it when `fire_at` comes."""

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_due", "status", "fire_at"),
        UniqueConstraint("key", name="uq_reminders_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))  # kind:ref:version:step:person
    kind: Mapped[str] = mapped_column(String(10))  # task|gathering
    gathering_id: Mapped[int | None] = mapped_column(
        ForeignKey("gatherings.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(30))
    fire_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # planned | queued | cancelled | dropped
    status: Mapped[str] = mapped_column(String(10), default="planned")
    reason: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    queued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Attendance(Base):
    """One person's "Kommer du?" answer (yes | no | online) for a gathering not yet held.

    Kept only until the gathering is held: `samling holdt` turns these rows into counts per
    team (AttendanceCount) and deletes them, so afterwards nothing says who said what.
    """

    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("gathering_id", "person_id", name="uq_attendance_gathering_person"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gathering_id: Mapped[int] = mapped_column(ForeignKey("gatherings.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    answer: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AttendanceCount(Base):
    """A held gathering's attendance for one team: answers given (yes/no/online) and, when
    the leader recorded it, how many came (`came`). Counts only, no people."""

    __tablename__ = "attendance_counts"
    __table_args__ = (
        UniqueConstraint("gathering_id", "team", "kind", name="uq_attendance_counts_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gathering_id: Mapped[int] = mapped_column(ForeignKey("gatherings.id", ondelete="CASCADE"))
    team: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # yes | no | online | came
    count: Mapped[int] = mapped_column(Integer)


NETWORK_TABLES = (
    "networks",
    "work_windows",
    "gatherings",
    "tasks",
    "task_teams",
    "reminders",
    "attendance",
    "attendance_counts",
)


class Draft(Base):
    """A gathering or task the leader is building step by step in the chat (bot/drafts.py).

    One per person (a new one replaces the old); the row is the dialogue's whole state, so a
    restart continues at the same question. A new row gets a new id, which the draft's
    buttons carry, so a button of a replaced draft finds nothing to change.
    """

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # gathering | task
    step: Mapped[str] = mapped_column(String(20))  # the question it waits for
    data: Mapped[dict[str, str]] = mapped_column(JSON)  # the answers so far, as text
    asked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # when it last asked
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
