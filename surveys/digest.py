"""The weekly digests: the steering group's (task status per team, gatherings, participation
trend) and the project leader's (per team: tasks done, open and overdue; the next gathering).

Plain data only; loading lives in `storage/digest.py`, the words in `bot/digest.py`. Only
counts and team names: who marked a task done is for the team and the leader, never the
steering group.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from surveys.summary import ParticipationRow

MAX_TASKS = 12


@dataclass(frozen=True)
class TaskStatus:
    title: str
    due_on: dt.date
    done_teams: tuple[str, ...]
    open_teams: tuple[str, ...]


@dataclass(frozen=True)
class GatheringLine:
    title: str
    starts_local: dt.datetime
    where: str | None
    status: str


@dataclass(frozen=True)
class RoundLine:
    number: int
    invited: int
    finished: int
    is_open: bool


@dataclass(frozen=True)
class DigestData:
    week: str  # ISO week, e.g. "2027-W10"
    tasks: tuple[TaskStatus, ...] = ()
    next_gathering: GatheringLine | None = None
    changed: tuple[GatheringLine, ...] = ()
    rounds: tuple[RoundLine, ...] = ()
    # The open (or latest) round per municipality, as released (surveys/disclosure.py):
    # counts under k, their complements and counts that changed by too few are None.
    participation: tuple[ParticipationRow, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class TaskRow:
    """One task's state for one team, as the leader's digest counts it."""

    team: str
    title: str
    due_on: dt.date
    done: bool


@dataclass(frozen=True)
class TeamTasks:
    team: str
    done: int = 0
    open: int = 0  # not done, deadline not passed
    overdue: int = 0  # not done, deadline passed
    overdue_titles: tuple[str, ...] = ()


@dataclass(frozen=True)
class LeaderDigest:
    """The project leader's Monday overview; no participation figures (those are released
    through the steering digest and the summaries only)."""

    week: str
    teams: tuple[TeamTasks, ...] = ()
    next_gathering: GatheringLine | None = None
    # "Kommer du?" for the next gathering, per team: (team, yes, no, online). The leader's
    # only; the steering digest (DigestData) never carries it.
    attendance: tuple[tuple[str, int, int, int], ...] = ()


def team_tasks(rows: list[TaskRow], teams: list[str], today: dt.date) -> tuple[TeamTasks, ...]:
    """Count per team; a task is overdue once its due day has passed without it being done.

    Every team in `teams` is listed, also one without tasks, so that none is forgotten.
    """
    names = sorted(set(teams) | {row.team for row in rows}, key=str.casefold)
    out = []
    for team in names:
        mine = [row for row in rows if row.team == team]
        late = sorted((r for r in mine if not r.done and r.due_on < today), key=lambda r: r.due_on)
        out.append(
            TeamTasks(
                team,
                done=sum(r.done for r in mine),
                open=sum(not r.done and r.due_on >= today for r in mine),
                overdue=len(late),
                overdue_titles=tuple(r.title for r in late),
            )
        )
    return tuple(out)


def iso_week(moment: dt.datetime, tz: dt.tzinfo) -> str:
    year, week, _ = moment.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def due_this_week(now: dt.datetime, tz: dt.tzinfo, weekday: int, at: dt.time) -> bool:
    """Whether this week's digest moment (local weekday and time) has come."""
    local = now.astimezone(tz)
    return (local.weekday(), local.time()) >= (weekday, at)
