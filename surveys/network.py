"""Learning-network planning, free of any chat platform and any database.

Everything here is a pure function of its arguments (including `now`), so reminder plans,
working-hours windows and pulse cadences are tested without waiting and without a clock.

Times are computed on the local wall clock (Europe/Oslo) and only then turned into UTC:
"7 days before at 09:00" is 09:00 on the local calendar day, on either side of a
daylight-saving change. A wall time that does not exist (02:30 on the spring-forward night)
is shifted by the gap (03:30); an ambiguous one (autumn) takes the first
occurrence, so a reminder is neither skipped nor doubled.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from dataclasses import dataclass, field

from surveys.dates import check_range, read_date

NIGHT_START = dt.time(23, 0)  # no window may reach into the night
NIGHT_END = dt.time(6, 0)
MIN_WINDOW = dt.timedelta(hours=2)

GATHERING_STATUSES = ("planned", "moved", "cancelled", "held", "replaced_by_webinar")
LIVE_GATHERING = ("planned", "moved", "replaced_by_webinar")


# --------------------------------------------------------------------------- local time


def local_to_utc(day: dt.date, at: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """The UTC instant of a wall-clock time on a local day, DST-safe (see module docstring).

    A time in the spring gap (02:30) comes out shifted by the gap (03:30 summer time); an
    ambiguous autumn time is its first occurrence (fold=0).
    """
    return dt.datetime.combine(day, at).replace(tzinfo=tz, fold=0).astimezone(dt.UTC)


def local_day(moment: dt.datetime, tz: dt.tzinfo) -> dt.date:
    return moment.astimezone(tz).date()


def parse_clock(text: str) -> dt.time | None:
    """`09:00`, `9.30`, `0900`, `kl. 9` → a time; None when it is not a time of day."""
    match = re.fullmatch(r"(?:kl\.?)?\s*(\d{1,2})(?:[:.]?(\d{2}))?", text.strip().lower())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


# --------------------------------------------------------------------------- working hours


@dataclass(frozen=True)
class Window:
    """Hours in which a person may get reminders, on the local wall clock (start < end)."""

    start: dt.time = dt.time(8, 0)
    end: dt.time = dt.time(20, 0)

    @classmethod
    def parse(cls, text: str) -> Window:
        """`08:00-20:00` (also `8-20`, `14.00–22.00`); raises ValueError with the reason."""
        parts = re.split(r"\s*[-–]\s*", text.strip())
        if len(parts) != 2:
            raise ValueError("skriv arbeidstiden som 08:00-20:00")
        start, end = parse_clock(parts[0]), parse_clock(parts[1])
        if start is None or end is None:
            raise ValueError("skriv arbeidstiden som 08:00-20:00")
        window = cls(start, end)
        window.check()
        return window

    def check(self) -> None:
        if not (NIGHT_END <= self.start < self.end <= NIGHT_START):
            raise ValueError("arbeidstiden må ligge mellom 06:00 og 23:00 (aldri om natten)")
        span = dt.datetime.combine(dt.date.min, self.end) - dt.datetime.combine(
            dt.date.min, self.start
        )
        if span < MIN_WINDOW:
            raise ValueError("arbeidstiden må være minst to timer")

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, moment: dt.datetime, tz: dt.tzinfo) -> bool:
        local = moment.astimezone(tz).time()
        return self.start <= local < self.end

    def fit(self, moment: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
        """`moment` if it lies in the window, else the window's next start (never at night)."""
        if self.contains(moment, tz):
            return moment
        day = local_day(moment, tz)
        if moment.astimezone(tz).time() >= self.end:
            day += dt.timedelta(days=1)
        return local_to_utc(day, self.start, tz)


# --------------------------------------------------------------------------- reminder policy


@dataclass(frozen=True)
class Policy:
    """When reminders go out. Offsets are local calendar days before the date."""

    task_days: tuple[int, ...] = (7, 1, 0)
    gathering_days: tuple[int, ...] = (14, 2, 0)
    at: dt.time = dt.time(9, 0)  # time of day for reminders days ahead
    window: Window = field(default_factory=Window)


@dataclass(frozen=True)
class PlannedReminder:
    step: str  # d14, d2, d0, d7, d1 …
    fire_at: dt.datetime  # UTC


def step_name(days: int) -> str:
    return f"d{days}"


def gathering_plan(
    starts_at: dt.datetime,
    policy: Policy,
    tz: dt.tzinfo,
    now: dt.datetime,
    window: Window | None = None,
) -> list[PlannedReminder]:
    """Reminders for a gathering: `days` before at `policy.at`; on the day, at window start.

    Each is fitted into the person's working hours; one that would not go out before the
    gathering starts, or that lies in the past, is left out.
    """
    window = window or policy.window
    day = local_day(starts_at, tz)
    plan: list[PlannedReminder] = []
    for days in sorted(set(policy.gathering_days), reverse=True):
        when = day - dt.timedelta(days=days)
        at = window.start if days == 0 else policy.at
        fire = window.fit(local_to_utc(when, at, tz), tz)
        if now <= fire < starts_at and all(p.fire_at != fire for p in plan):
            plan.append(PlannedReminder(step_name(days), fire))
    return plan


def task_deadline(due_on: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """A task is due by the end of its local day."""
    return local_to_utc(due_on + dt.timedelta(days=1), dt.time(0, 0), tz)


def task_plan(
    due_on: dt.date,
    policy: Policy,
    tz: dt.tzinfo,
    now: dt.datetime,
    window: Window | None = None,
) -> list[PlannedReminder]:
    """Reminders for a task: `days` before its due day at `policy.at`, in working hours."""
    window = window or policy.window
    deadline = task_deadline(due_on, tz)
    plan: list[PlannedReminder] = []
    for days in sorted(set(policy.task_days), reverse=True):
        fire = window.fit(local_to_utc(due_on - dt.timedelta(days=days), policy.at, tz), tz)
        if now <= fire < deadline and all(p.fire_at != fire for p in plan):
            plan.append(PlannedReminder(step_name(days), fire))
    return plan


def snooze_until(now: dt.datetime, tz: dt.tzinfo, window: Window) -> dt.datetime:
    """A day later on the wall clock, fitted into working hours."""
    local = now.astimezone(tz)
    later = local_to_utc(
        local.date() + dt.timedelta(days=1), local.time().replace(microsecond=0), tz
    )
    return window.fit(later, tz)


# --------------------------------------------------------------------------- pulse cadence


@dataclass(frozen=True)
class Cadence:
    """Pulse rounds: every `every_weeks` weeks on `weekday` (0 = Monday) at `at`, open `days`."""

    weekday: int = 1
    at: dt.time = dt.time(9, 0)
    every_weeks: int = 2
    days: int = 5


def first_pulse(after: dt.datetime, cadence: Cadence, tz: dt.tzinfo) -> dt.datetime:
    """The first cadence slot at or after `after` (the anchor of the series)."""
    day = local_day(after, tz)
    day += dt.timedelta(days=(cadence.weekday - day.weekday()) % 7)
    moment = local_to_utc(day, cadence.at, tz)
    if moment < after:
        moment = local_to_utc(day + dt.timedelta(days=7), cadence.at, tz)
    return moment


def next_pulse(previous: dt.datetime, cadence: Cadence, tz: dt.tzinfo) -> dt.datetime:
    """The slot `every_weeks` local weeks after `previous`, at the same wall-clock time."""
    day = local_day(previous, tz) + dt.timedelta(weeks=cadence.every_weeks)
    return local_to_utc(day, cadence.at, tz)


def due_pulse(
    scheduled: dt.datetime, now: dt.datetime, cadence: Cadence, tz: dt.tzinfo
) -> tuple[dt.datetime | None, dt.datetime]:
    """What to do at `now` for the slot `scheduled`: (slot to open now or None, next slot).

    A slot missed while the service was down is opened once, late, while its round would
    still be open; older missed slots are skipped, never opened twice.
    """
    if now < scheduled:
        return None, scheduled
    slot: dt.datetime | None = None
    current = scheduled
    while current <= now:
        closes = local_to_utc(
            local_day(current, tz) + dt.timedelta(days=cadence.days), cadence.at, tz
        )
        slot = current if now < closes else None
        current = next_pulse(current, cadence, tz)
    return slot, current


def nudge_time(opened_at: dt.datetime, closes_at: dt.datetime) -> dt.datetime:
    """Halfway through a round."""
    return opened_at + (closes_at - opened_at) / 2


# --------------------------------------------------------------------------- dates in chat

DATE_EXAMPLE = "12.03.2027 09:00 (eller «i morgen 14:00», «neste tirsdag 10:00», «12. januar 9»)"
DATE_EXAMPLE_EN = "12.03.2027 09:00 (or «tomorrow 14:00», «next tuesday 10:00», «12 January 9»)"


@dataclass(frozen=True)
class When:
    """A parsed date with an optional time (and end time), and how many tokens it used."""

    day: dt.date
    at: dt.time | None
    until: dt.time | None
    used: int
    problem: str | None = None  # surveys.dates NO_SUCH_DAY | PAST | TOO_FAR; then day is today


def parse_when(tokens: list[str], today: dt.date) -> When | None:
    """Read a date and optional time from the start of `tokens`.

    Accepts every date form of surveys/dates.py (`12. januar`, `neste tirsdag`, `om to
    uker`, `12.03.2027` ...) followed by `09:00`, `kl. 9` or `09:00-15:00`, and ISO
    `2027-03-12T09:00`. None when the first tokens are not a date; a date that names no
    real day, lies before `today` or more than two years ahead comes back with `problem`.
    """
    if not tokens:
        return None
    lowered = [t.lower() for t in tokens]
    iso = re.fullmatch(
        r"(\d{4}-\d{2}-\d{2})[t ](\d{1,2}:\d{2})(?::\d{2})?(?:[+-].*|z)?", lowered[0]
    )
    if iso:
        read = read_date([iso.group(1)], today)
        at = parse_clock(iso.group(2))
        if read is None or at is None:
            return None
        if read.day is None:
            return When(today, at, None, 1, read.problem)
        return When(read.day, at, None, 1, check_range(read.day, today))
    read = read_date(tokens, today)
    if read is None:
        return None
    if read.day is None:
        return When(today, None, None, read.used, read.problem)
    day, used = read.day, read.used
    problem = check_range(day, today)
    if problem:
        return When(today, None, None, used, problem)
    rest = lowered[used:]
    if rest and rest[0] in ("kl", "kl."):
        rest, used = rest[1:], used + 1
    at = until = None
    if rest:
        span = re.split(r"[-–]", rest[0])
        first = parse_clock(span[0]) if span[0] else None
        if first is not None and re.fullmatch(r"(?:\d{1,2}[:.]\d{2}|\d{1,2})(?:[-–].*)?", rest[0]):
            at, used = first, used + 1
            if len(span) == 2:
                until = parse_clock(span[1])
                if until is None:
                    return None
    return When(day, at, until, used)


def starts_quoted(args: tuple[str, ...] | list[str]) -> bool:
    """Whether the words after the command's action begin with a quote: then the quoted
    text is the whole title, whatever words follow it."""
    return len(args) > 1 and args[1][:1] in "\"'«“„"


def split_args(args: tuple[str, ...] | list[str]) -> list[str]:
    """Rejoin chat arguments and split them again, honouring "quotes", «these» and “these”."""
    text = " ".join(args)
    for left, right in (("«", "»"), ("“", "”"), ("„", "“")):
        text = text.replace(left, '"').replace(right, '"')
    text = text.replace("”", '"')
    try:
        return shlex.split(text)
    except ValueError:  # an unbalanced quote: take the words as they are
        return text.replace('"', "").split()
