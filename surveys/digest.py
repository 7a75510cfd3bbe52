"""The weekly steering-group digest: task status per team, gatherings, participation trend.

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


def iso_week(moment: dt.datetime, tz: dt.tzinfo) -> str:
    year, week, _ = moment.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def due_this_week(now: dt.datetime, tz: dt.tzinfo, weekday: int, at: dt.time) -> bool:
    """Whether this week's digest moment (local weekday and time) has come."""
    local = now.astimezone(tz)
    return (local.weekday(), local.time()) >= (weekday, at)
