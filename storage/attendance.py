"""Attendance rows: one answer per person until a gathering is held, then counts per team.

The per-person rows exist only so that a person can change their answer; `fold_into_counts`
turns them into counts per team and deletes them when the gathering is held.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import Person
from storage.network_models import Attendance, AttendanceCount, Gathering

ANSWERS = ("yes", "no", "online")


def set_answer(
    session: Session, gathering_id: int, person_id: int, answer: str, now: dt.datetime
) -> None:
    """Store (or change) one person's answer."""
    row = session.scalar(
        select(Attendance).where(
            Attendance.gathering_id == gathering_id, Attendance.person_id == person_id
        )
    )
    if row is None:
        session.add(
            Attendance(
                gathering_id=gathering_id, person_id=person_id, answer=answer, updated_at=now
            )
        )
    else:
        row.answer, row.updated_at = answer, now
    session.flush()


def answer_of(session: Session, gathering_id: int, person_id: int) -> str | None:
    return session.scalar(
        select(Attendance.answer).where(
            Attendance.gathering_id == gathering_id, Attendance.person_id == person_id
        )
    )


def answers_by_person(session: Session, gathering_id: int) -> dict[int, str]:
    """Who has answered so far, and what (to ask them again when the date changes)."""
    rows = session.execute(
        select(Attendance.person_id, Attendance.answer).where(
            Attendance.gathering_id == gathering_id
        )
    )
    return {person_id: answer for person_id, answer in rows}


def forget_answers(session: Session, gathering_id: int) -> None:
    """Answers no longer meant for this gathering (it moved or was cancelled)."""
    session.execute(delete(Attendance).where(Attendance.gathering_id == gathering_id))


def live_counts(session: Session, gathering_id: int) -> dict[str, Counter[str]]:
    """Answers so far per team (the person's current team), counted."""
    rows = session.execute(
        select(Person.team, Attendance.answer)
        .join(Person, Person.id == Attendance.person_id)
        .where(Attendance.gathering_id == gathering_id, Person.team.is_not(None))
    ).all()
    out: dict[str, Counter[str]] = {}
    for team, answer in rows:
        if team:
            out.setdefault(team, Counter())[answer] += 1
    return out


def stored_counts(session: Session, gathering_id: int) -> dict[str, Counter[str]]:
    """A held gathering's counts per team (answers given, and `came` when recorded)."""
    out: dict[str, Counter[str]] = {}
    rows = session.scalars(
        select(AttendanceCount).where(AttendanceCount.gathering_id == gathering_id)
    )
    for row in rows:
        out.setdefault(row.team, Counter())[row.kind] = row.count
    return out


def _put(session: Session, gathering_id: int, team: str, kind: str, count: int) -> None:
    row = session.scalar(
        select(AttendanceCount).where(
            AttendanceCount.gathering_id == gathering_id,
            AttendanceCount.team == team,
            AttendanceCount.kind == kind,
        )
    )
    if row is None:
        session.add(AttendanceCount(gathering_id=gathering_id, team=team, kind=kind, count=count))
    else:
        row.count = count


def fold_into_counts(session: Session, gathering_id: int) -> None:
    """Per-person answers → counts per team; the per-person rows are deleted."""
    for team, counts in live_counts(session, gathering_id).items():
        for kind, count in counts.items():
            _put(session, gathering_id, team, kind, count)
    forget_answers(session, gathering_id)
    session.flush()


def fold_past(session: Session, before: dt.datetime) -> int:
    """Fold the answers of gatherings that ended before `before` but were never marked held,
    so per-person rows never outlive their gathering; returns how many gatherings."""
    ids = list(
        session.scalars(
            select(Attendance.gathering_id)
            .join(Gathering, Gathering.id == Attendance.gathering_id)
            .where(Gathering.ends_at < before)
            .distinct()
        )
    )
    for gathering_id in ids:
        fold_into_counts(session, gathering_id)
    return len(ids)


def record_came(session: Session, gathering_id: int, came: dict[str, int]) -> None:
    """How many came from each team, as the leader counted them."""
    for team, count in came.items():
        _put(session, gathering_id, team, "came", count)
    session.flush()
