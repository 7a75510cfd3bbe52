"""Data for the weekly digest: tasks per team, gatherings and participation — counts only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import attendance, frames, releases
from storage.models import Person, Round
from storage.network_models import Gathering, Task, TaskTeam
from surveys.digest import (
    DigestData,
    GatheringLine,
    LeaderDigest,
    RoundLine,
    TaskRow,
    TaskStatus,
    iso_week,
    team_tasks,
)
from surveys.network import LIVE_GATHERING
from surveys.summary import ParticipationRow, participation_rows

ROUNDS_SHOWN = 4


def _line(g: Gathering, tz: dt.tzinfo) -> GatheringLine:
    return GatheringLine(g.title, g.starts_at.astimezone(tz), g.online_link or g.place, g.status)


def _next_gathering(session: Session, now: dt.datetime) -> Gathering | None:
    return session.scalar(
        select(Gathering)
        .where(Gathering.status.in_(LIVE_GATHERING), Gathering.starts_at > now)
        .order_by(Gathering.starts_at)
    )


def load_leader_digest(session: Session, now: dt.datetime, tz: dt.tzinfo) -> LeaderDigest:
    """Per team: tasks done, open and overdue; and the next gathering — read at `now`."""
    rows = session.execute(
        select(TaskTeam.team, Task.title, Task.due_on, TaskTeam.status)
        .join(Task, Task.id == TaskTeam.task_id)
        .where(TaskTeam.status != "cancelled")
    ).all()
    teams = session.scalars(
        select(Person.team).where(Person.team.is_not(None), Person.status == "active").distinct()
    ).all()
    upcoming = _next_gathering(session, now)
    counts = attendance.live_counts(session, upcoming.id) if upcoming else {}
    return LeaderDigest(
        attendance=tuple(
            (team, c["yes"], c["no"], c["online"])
            for team, c in sorted(counts.items(), key=lambda item: item[0].casefold())
        ),
        week=iso_week(now, tz),
        teams=team_tasks(
            [TaskRow(r.team, r.title, r.due_on, r.status == "done") for r in rows],
            [t for t in teams if t],
            now.astimezone(tz).date(),
        ),
        next_gathering=_line(upcoming, tz) if upcoming else None,
    )


def load_digest(session: Session, now: dt.datetime, tz: dt.tzinfo, k: int) -> DigestData:
    """Everything the digest shows, read at `now`; participation through the release path."""

    week_ago = now - dt.timedelta(days=7)
    tasks = []
    for task in session.scalars(select(Task).order_by(Task.due_on, Task.id)):
        rows = session.scalars(select(TaskTeam).where(TaskTeam.task_id == task.id)).all()
        done = tuple(sorted(r.team for r in rows if r.status == "done"))
        open_ = tuple(sorted(r.team for r in rows if r.status == "open"))  # not cancelled
        recently_done = any(r.done_at and r.done_at >= week_ago for r in rows)
        if open_ or recently_done:
            tasks.append(TaskStatus(task.title, task.due_on, done, open_))

    def line(g: Gathering) -> GatheringLine:
        return _line(g, tz)

    upcoming = _next_gathering(session, now)
    changed = session.scalars(
        select(Gathering).where(
            Gathering.status.in_(("moved", "cancelled", "replaced_by_webinar")),
            Gathering.updated_at >= week_ago,
        )
    ).all()
    recent = session.scalars(select(Round).order_by(Round.number.desc()).limit(ROUNDS_SHOWN)).all()
    rounds = []
    participation: tuple[ParticipationRow, ...] = ()
    for i, round_ in enumerate(reversed(recent)):
        part = frames.participation(session, round_.id)
        rounds.append(
            RoundLine(
                round_.number,
                int(part["invited"].sum()),
                int(part["finished"].sum()),
                round_.status == "open",
            )
        )
        if i == len(recent) - 1:  # the newest round, per municipality
            finished = int(part["finished"].sum())
            participation = releases.release_participation(
                session,
                round_.id,
                participation_rows(part, k),
                finished if finished >= k else None,
                k,
                "digest",
                now.date(),
            )
    return DigestData(
        week=iso_week(now, tz),
        tasks=tuple(tasks),
        next_gathering=line(upcoming) if upcoming else None,
        changed=tuple(line(g) for g in changed),
        rounds=tuple(rounds),
        participation=participation,
    )
