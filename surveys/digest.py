"""The weekly steering-group digest: task status per team, gatherings, participation trend.

Pure composition from plain data; loading lives in `storage/digest.py`. Only counts and team
names: who marked a task done is for the team and the leader, never the steering group.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

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


WORDS: dict[str, dict[str, Any]] = {
    "nb": {
        "head": "Ukesoversikt {week}",
        "tasks": "Oppgaver (ferdig av lagene):",
        "task": "• {title} (frist {due}): {done} av {total} ferdig{open}",
        "open_teams": " — åpen hos {teams}",
        "no_tasks": "Ingen åpne oppgaver.",
        "next": "Neste samling: {title}, {when}{where}.",
        "no_next": "Ingen samling er planlagt.",
        "changed": "Endret siste uke: {title} ({status}).",
        "rounds": "Deltakelse i pulsrundene:",
        "round": "• Runde {number}: {finished} av {invited} ({rate}){open}",
        "round_open": " — pågår",
        "few": "færre enn {k}",
        "per_municipality": "Per kommune (svart/invitert): {groups}.",
        "hidden": "Kommuner med få svar vises ikke hver for seg: {names}.",
        "held": (
            "Svar per kommune er holdt tilbake denne uken: de har endret seg med færre enn "
            "{k} siden sist, og da ville det synes hvor de siste svarene kom fra."
        ),
        "statuses": {
            "moved": "flyttet",
            "cancelled": "avlyst",
            "replaced_by_webinar": "webinar",
            "held": "holdt",
            "planned": "planlagt",
        },
    },
    "en": {
        "head": "Weekly overview {week}",
        "tasks": "Tasks (done by the teams):",
        "task": "• {title} (due {due}): {done} of {total} done{open}",
        "open_teams": " — open for {teams}",
        "no_tasks": "No open tasks.",
        "next": "Next gathering: {title}, {when}{where}.",
        "no_next": "No gathering is planned.",
        "changed": "Changed last week: {title} ({status}).",
        "rounds": "Participation in the pulse rounds:",
        "round": "• Round {number}: {finished} of {invited} ({rate}){open}",
        "round_open": " — ongoing",
        "few": "fewer than {k}",
        "per_municipality": "Per municipality (answered/invited): {groups}.",
        "hidden": "Municipalities with few answers are not shown one by one: {names}.",
        "held": (
            "Answers per municipality are held back this week: they changed by fewer than "
            "{k} since last shown, which would tell where the latest answers came from."
        ),
        "statuses": {
            "moved": "moved",
            "cancelled": "cancelled",
            "replaced_by_webinar": "webinar",
            "held": "held",
            "planned": "planned",
        },
    },
}


def render_digest(data: DigestData, lang: str, k: int, names: dict[str, str]) -> str:
    """The digest as plain text; `names` maps municipality ids to display names."""
    w = WORDS["en" if lang == "en" else "nb"]
    lines = [w["head"].format(week=data.week), "", w["tasks"] if data.tasks else w["no_tasks"]]
    for task in data.tasks[:MAX_TASKS]:
        total = len(task.done_teams) + len(task.open_teams)
        still = w["open_teams"].format(teams=", ".join(task.open_teams)) if task.open_teams else ""
        lines.append(
            w["task"].format(
                title=task.title,
                due=f"{task.due_on:%d.%m.%Y}",
                done=len(task.done_teams),
                total=total,
                open=still,
            )
        )
    lines.append("")
    if data.next_gathering is None:
        lines.append(w["no_next"])
    else:
        g = data.next_gathering
        lines.append(
            w["next"].format(
                title=g.title,
                when=f"{g.starts_local:%d.%m.%Y %H:%M}",
                where=f", {g.where}" if g.where else "",
            )
        )
    for g in data.changed:
        lines.append(
            w["changed"].format(title=g.title, status=w["statuses"].get(g.status, g.status))
        )
    if data.rounds:
        lines += ["", w["rounds"]]
        for r in data.rounds:
            few = r.finished < k
            finished = w["few"].format(k=k) if few else str(r.finished)
            rate = "–" if few or not r.invited else f"{100 * r.finished / r.invited:.0f} %"
            lines.append(
                w["round"].format(
                    number=r.number,
                    finished=finished,
                    invited=r.invited,
                    rate=rate,
                    open=w["round_open"] if r.is_open else "",
                )
            )
    rows = sorted(data.participation, key=lambda r: names.get(r.group, r.group))
    visible = [
        f"{names.get(r.group, r.group)} {r.answered}/{r.invited}"
        for r in rows
        if r.answered is not None and r.group
    ]
    if visible:
        lines.append(w["per_municipality"].format(groups=", ".join(visible)))
    if any(r.held for r in rows):
        lines.append(w["held"].format(k=k))
    hidden = [names.get(r.group, r.group) for r in rows if r.answered is None and not r.held]
    if hidden:
        lines.append(w["hidden"].format(names=", ".join(sorted(h for h in hidden if h))))
    return "\n".join(lines).strip()
