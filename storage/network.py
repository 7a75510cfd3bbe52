"""The learning network's queries: the network row, teams and members, gatherings, tasks,
planned reminders and personal working hours.

Every function runs in the caller's transaction. What to send, to whom and when (the policy)
is decided in bot/network.py; this module only reads and writes rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from storage.answers import QUOTE_PROMPT
from storage.models import Address, Invitation, OutboxMessage, Person, Prompt
from storage.network_models import Gathering, Network, Reminder, Task, TaskTeam, WorkWindow

# --------------------------------------------------------------------------- the network


def first_network(session: Session) -> Network | None:
    """The installation's network (there is one), or None before it was first created."""
    return session.scalar(select(Network).order_by(Network.id).limit(1))


def add_network(session: Session, now: dt.datetime, name: str) -> Network:
    """A new network row; the caller fills in its policy before the session flushes."""
    network = Network(created_at=now, name=name, next_pulse_at=None)
    session.add(network)
    return network


# --------------------------------------------------------------------------- working hours


def work_window(session: Session, person_id: int) -> WorkWindow | None:
    return session.get(WorkWindow, person_id)


def work_windows(session: Session, person_ids: Iterable[int] | None = None) -> list[WorkWindow]:
    """Personal hours of these people (None: everyone's), in one query."""
    query = select(WorkWindow)
    if person_ids is not None:
        query = query.where(WorkWindow.person_id.in_(list(person_ids)))
    return list(session.scalars(query))


def set_work_window(session: Session, person_id: int, hours: tuple[str, str] | None) -> None:
    """A person's own hours as ("HH:MM", "HH:MM"); None removes them."""
    row = session.get(WorkWindow, person_id)
    if hours is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(WorkWindow(person_id=person_id, start=hours[0], end=hours[1]))
    else:
        row.start, row.end = hours
    session.flush()


# --------------------------------------------------------------------------- teams


def teams(session: Session) -> list[str]:
    """Team names as written in the roster (people.team)."""
    query = select(Person.team).where(Person.team.is_not(None)).distinct()
    return sorted(team for team in session.scalars(query) if team)


def members(session: Session, team: str | None = None) -> list[Person]:
    """Team members who can get messages (team None: every team)."""
    query = select(Person).where(
        Person.team.is_not(None),
        Person.status != "stopped",
        Person.unreachable_reason.is_(None),
        Person.id.in_(select(Address.person_id)),
    )
    if team is not None:
        query = query.where(Person.team == team)
    return list(session.scalars(query.order_by(Person.id)))


def rostered_members(session: Session) -> list[Person]:
    """Everyone in a team who has not stopped, with or without a chat yet: reminders are
    planned for them all, and one whose person has no chat when it is due is dropped then —
    so someone who connects after a gathering was planned still gets the later ones."""
    query = select(Person).where(
        Person.team.is_not(None),
        Person.status != "stopped",
        Person.unreachable_reason.is_(None),
    )
    return list(session.scalars(query.order_by(Person.id)))


def people_by_id(session: Session, ids: Iterable[int]) -> dict[int, Person]:
    return {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(list(ids))))}


def newest_addresses(session: Session, ids: Iterable[int]) -> dict[int, Address]:
    """Each person's most recently connected chat (as people.preferred_address), in one query."""
    out: dict[int, Address] = {}
    query = (
        select(Address)
        .where(Address.person_id.in_(list(ids)))
        .order_by(Address.created_at, Address.id)
    )
    for address in session.scalars(query):
        out[address.person_id] = address  # the newest wins
    return out


# --------------------------------------------------------------------------- gatherings and tasks


def add_gathering(session: Session, **fields: Any) -> Gathering:
    gathering = Gathering(**fields)
    session.add(gathering)
    session.flush()
    return gathering


def gathering(session: Session, gathering_id: int) -> Gathering | None:
    return session.get(Gathering, gathering_id)


def gatherings(session: Session, since: dt.datetime | None = None) -> list[Gathering]:
    """Gatherings in time order; with `since`, only those ending after it."""
    query = select(Gathering).order_by(Gathering.starts_at, Gathering.id)
    if since is not None:
        query = query.where(Gathering.ends_at >= since)
    return list(session.scalars(query))


def add_task(session: Session, team_names: Sequence[str], **fields: Any) -> Task:
    """A task, and one open row per team it is for."""
    task = Task(**fields)
    session.add(task)
    session.flush()
    for name in team_names:
        session.add(TaskTeam(task_id=task.id, team=name, status="open"))
    session.flush()
    return task


def task(session: Session, task_id: int) -> Task | None:
    return session.get(Task, task_id)


def task_team(session: Session, row_id: int) -> TaskTeam | None:
    return session.get(TaskTeam, row_id)


def tasks(session: Session) -> list[Task]:
    return list(session.scalars(select(Task).order_by(Task.due_on, Task.id)))


def task_rows(session: Session, task_id: int) -> list[TaskTeam]:
    query = select(TaskTeam).where(TaskTeam.task_id == task_id).order_by(TaskTeam.team)
    return list(session.scalars(query))


def task_row_of_team(session: Session, task_id: int, team: str | None) -> TaskTeam | None:
    return session.scalar(
        select(TaskTeam).where(TaskTeam.task_id == task_id, TaskTeam.team == team)
    )


def open_teams(session: Session, task_id: int) -> set[str]:
    query = select(TaskTeam.team).where(TaskTeam.task_id == task_id, TaskTeam.status == "open")
    return set(session.scalars(query))


def open_tasks_of(session: Session, team: str, today: dt.date) -> list[tuple[Task, TaskTeam]]:
    """The team's open tasks due today or later, soonest first."""
    rows = session.execute(
        select(Task, TaskTeam)
        .join(TaskTeam, TaskTeam.task_id == Task.id)
        .where(TaskTeam.team == team, TaskTeam.status == "open", Task.due_on >= today)
        .order_by(Task.due_on, Task.id)
    )
    return [(t, row) for t, row in rows]


# --------------------------------------------------------------------------- reminders


def insert_new_reminders(session: Session, rows: list[dict[str, object]], prefix: str) -> int:
    """Insert planned reminders whose key is new; one query to look, one to insert."""
    existing = set(session.scalars(select(Reminder.key).where(Reminder.key.like(prefix + "%"))))
    fresh = [row for row in rows if row["key"] not in existing]
    if fresh:
        session.execute(insert(Reminder), fresh)
    return len(fresh)


def add_reminder(session: Session, **fields: Any) -> bool:
    """One planned reminder, unless one with its key exists already."""
    if session.scalar(select(Reminder.id).where(Reminder.key == fields["key"])) is not None:
        return False
    session.add(Reminder(status="planned", **fields))
    return True


def _withdraw(
    session: Session,
    now: dt.datetime,
    condition: ColumnElement[bool],
    reason: str,
    parts: int,
) -> int:
    """Cancel planned reminders matching `condition`, and the unsent outbox rows of queued
    ones (`rem:<id>:<part>`, up to `parts` rows per reminder); returns how many were planned."""
    cancelled = session.execute(
        update(Reminder)
        .where(condition, Reminder.status == "planned")
        .values(status="cancelled", reason=reason)
    )
    queued = list(
        session.scalars(
            select(Reminder.id).where(
                condition,
                Reminder.status == "queued",
                Reminder.queued_at > now - dt.timedelta(days=2),
            )
        )
    )
    for start in range(0, len(queued), 200):
        keys = [f"rem:{rid}:{i}" for rid in queued[start : start + 200] for i in range(parts)]
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.dedupe_key.in_(keys),
                OutboxMessage.status == "pending",
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
            )
            .values(status="dropped", last_error=reason)
        )
    return int(getattr(cancelled, "rowcount", 0) or 0)


def withdraw_gathering_reminders(
    session: Session, now: dt.datetime, gathering_id: int, reason: str, parts: int
) -> int:
    return _withdraw(session, now, Reminder.gathering_id == gathering_id, reason, parts)


def withdraw_team_task_reminders(
    session: Session, now: dt.datetime, task_id: int, team: str, reason: str, parts: int
) -> int:
    """A task's reminders for everyone in one team (the team marked it done)."""
    in_team = Reminder.person_id.in_(select(Person.id).where(Person.team == team))
    return _withdraw(session, now, (Reminder.task_id == task_id) & in_team, reason, parts)


def withdraw_task_reminders(
    session: Session, now: dt.datetime, task_id: int, reason: str, parts: int
) -> int:
    """Every planned reminder of a task (it moved, was cancelled or deleted)."""
    return _withdraw(session, now, Reminder.task_id == task_id, reason, parts)


def delete_task(session: Session, task: Task) -> None:
    """A task with its team rows and planned reminders (they cascade)."""
    session.execute(delete(Reminder).where(Reminder.task_id == task.id))
    session.execute(delete(TaskTeam).where(TaskTeam.task_id == task.id))
    session.delete(task)
    session.flush()


def cancel_open_rows(session: Session, task_id: int) -> list[str]:
    """Mark the task's open team rows cancelled; returns those teams (done ones stay done)."""
    rows = list(
        session.scalars(
            select(TaskTeam).where(TaskTeam.task_id == task_id, TaskTeam.status == "open")
        )
    )
    for row in rows:
        row.status = "cancelled"
    session.flush()
    return sorted(row.team for row in rows)


def set_task_teams(
    session: Session, task_id: int, names: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The task is now for exactly these teams: rows added and removed; returns (added, removed)."""
    have = {row.team: row for row in task_rows(session, task_id)}
    added = sorted(set(names) - set(have))
    removed = sorted(set(have) - set(names))
    for name in added:
        session.add(TaskTeam(task_id=task_id, team=name, status="open"))
    for name in removed:
        session.delete(have[name])
    session.flush()
    return added, removed


def live_gatherings_ahead(
    session: Session, now: dt.datetime, live: Sequence[str]
) -> list[Gathering]:
    query = select(Gathering).where(Gathering.status.in_(list(live)), Gathering.starts_at > now)
    return list(session.scalars(query.order_by(Gathering.starts_at, Gathering.id)))


def open_tasks_ahead(session: Session, today: dt.date) -> list[Task]:
    """Tasks due today or later that some team has still open."""
    query = (
        select(Task)
        .where(
            Task.due_on >= today,
            Task.id.in_(select(TaskTeam.task_id).where(TaskTeam.status == "open")),
        )
        .order_by(Task.due_on, Task.id)
    )
    return list(session.scalars(query))


def due_reminders(session: Session, now: dt.datetime, limit: int) -> list[Reminder]:
    """Planned reminders due by `now`, oldest first; locked (skipping locked) on PostgreSQL
    so that two instances never queue the same one."""
    query = (
        select(Reminder)
        .where(Reminder.status == "planned", Reminder.fire_at <= now)
        .order_by(Reminder.fire_at, Reminder.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def next_reminder_at(session: Session) -> dt.datetime | None:
    return session.scalar(select(func.min(Reminder.fire_at)).where(Reminder.status == "planned"))


def plan_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Reminder.status, func.count()).group_by(Reminder.status))
    return {status: n for status, n in rows}


def pending_for(session: Session, ids: Iterable[int]) -> int:
    query = (
        select(func.count())
        .select_from(Reminder)
        .where(Reminder.id.in_(list(ids)), Reminder.status == "planned")
    )
    return session.scalar(query) or 0


# --------------------------------------------------------------------------- pulse nudges


def not_nudged(session: Session, round_id: int) -> list[tuple[Invitation, Person]]:
    """Invitations of active, reachable people who have neither finished nor been nudged.

    Someone whose pulse waits only for "may we quote you?" has answered everything: a nudge
    to finish would be wrong, so an open consent question counts as done here.
    """
    waiting_for_consent = (
        select(Prompt.invitation_id)
        .where(
            Prompt.purpose == QUOTE_PROMPT,
            Prompt.used_at.is_(None),
            Prompt.invitation_id.is_not(None),
        )
        .scalar_subquery()
    )
    rows = session.execute(
        select(Invitation, Person)
        .join(Person, Person.id == Invitation.person_id)
        .where(
            Invitation.round_id == round_id,
            Invitation.status == "invited",
            Invitation.nudged_at.is_(None),
            Person.status == "active",
            Person.unreachable_reason.is_(None),
            Invitation.id.not_in(waiting_for_consent),
        )
    ).all()
    return [(invitation, person) for invitation, person in rows]
