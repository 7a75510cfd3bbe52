"""Tasks that change: moved, cancelled, deleted, renamed, re-described, given to other teams.

Each change withdraws what no longer holds (planned reminders, unsent outbox rows of queued
ones), plans what is new, and tells the team(s) concerned once, in each person's language —
all in the caller's transaction, like the rest of bot/network.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from bot import network as net
from bot.i18n import t
from bot.ports import OutgoingMessage
from storage import dashboard as board
from storage import network as store
from storage.network_models import Task
from surveys.network import LIVE_GATHERING, local_day

NO_GATHERING_DAYS = 14  # a task made from a priority with no gathering ahead is due then


def _tell(
    session: Session,
    teams: list[str],
    key: str,
    now: dt.datetime,
    render: Callable[[str], str],
    expires_at: dt.datetime | None = None,
) -> int:
    """One message to every reachable member of these teams; returns how many were told."""
    told = 0
    for team in teams:
        for person in net.members(session, team):
            told += bool(
                net.send(
                    session,
                    person,
                    [OutgoingMessage(render(person.language))],
                    f"{key}:p{person.id}",
                    now,
                    expires_at=expires_at,
                )
            )
    return told


def open_teams(session: Session, task: Task) -> list[str]:
    return sorted(store.open_teams(session, task.id))


def move_task(
    session: Session, tz: dt.tzinfo, now: dt.datetime, task: Task, due_on: dt.date
) -> tuple[int, int]:
    """New due day: the old plan withdrawn, a new one planned; (planned, told)."""
    network = net.ensure_network(session, now)
    store.withdraw_task_reminders(session, now, task.id, "moved", net.MAX_PARTS)
    task.due_on = due_on
    task.version = (task.version or 1) + 1
    session.flush()
    planned = net.plan_task(session, network, task, tz, now)
    told = _tell(
        session,
        open_teams(session, task),
        f"t:{task.id}:moved:v{task.version}",
        now,
        lambda lang: t(lang, "leader_t_moved", title=task.title, due=net.fmt_day(due_on, lang)),
        expires_at=net.task_deadline(due_on, tz),
    )
    return planned, told


def cancel_task(session: Session, now: dt.datetime, task: Task) -> int:
    """Cancelled: reminders withdrawn, open teams told; done teams keep their ✅."""
    store.withdraw_task_reminders(session, now, task.id, "cancelled", net.MAX_PARTS)
    teams = store.cancel_open_rows(session, task.id)
    return _tell(
        session,
        teams,
        f"t:{task.id}:cancelled",
        now,
        lambda lang: t(lang, "leader_t_cancelled", title=task.title),
    )


def is_cancelled(session: Session, task: Task) -> bool:
    return any(row.status == "cancelled" for row in store.task_rows(session, task.id))


def delete_task(session: Session, now: dt.datetime, task: Task) -> int:
    """Gone for good (a mistake): reminders withdrawn, teams with it open told, rows deleted."""
    store.withdraw_task_reminders(session, now, task.id, "deleted", net.MAX_PARTS)
    title, task_id = task.title, task.id
    told = _tell(
        session,
        open_teams(session, task),
        f"t:{task_id}:deleted",
        now,
        lambda lang: t(lang, "leader_t_deleted", title=title),
    )
    store.delete_task(session, task)
    return told


def rename_task(session: Session, now: dt.datetime, task: Task, title: str) -> int:
    old, task.title = task.title, title
    session.flush()
    stamp = f"{now:%Y%m%d%H%M%S}"
    return _tell(
        session,
        open_teams(session, task),
        f"t:{task.id}:title:{stamp}",
        now,
        lambda lang: t(lang, "leader_t_renamed", old=old, title=title),
    )


def describe_task(session: Session, now: dt.datetime, task: Task, text: str) -> int:
    task.description = text
    session.flush()
    stamp = f"{now:%Y%m%d%H%M%S}"
    return _tell(
        session,
        open_teams(session, task),
        f"t:{task.id}:description:{stamp}",
        now,
        lambda lang: t(lang, "leader_t_described", title=task.title, text=text),
    )


def retarget_task(
    session: Session, tz: dt.tzinfo, now: dt.datetime, task: Task, team: str | None
) -> tuple[int, int]:
    """For one team (or all, None): rows and reminders follow; (planned, told)."""
    network = net.ensure_network(session, now)
    wanted = [team] if team else net.teams(session)
    added, removed = store.set_task_teams(session, task.id, wanted)
    for name in removed:
        store.withdraw_team_task_reminders(
            session, now, task.id, name, "team removed", net.MAX_PARTS
        )
    task.team = team
    session.flush()
    planned = net.plan_task(session, network, task, tz, now)
    stamp = f"{now:%Y%m%d%H%M%S}"
    told = _tell(
        session,
        removed,
        f"t:{task.id}:unteam:{stamp}",
        now,
        lambda lang: t(lang, "leader_t_not_yours", title=task.title),
    )
    told += _tell(
        session,
        added,
        f"t:{task.id}:team:{stamp}",
        now,
        lambda lang: t(
            lang, "leader_t_yours", title=task.title, due=net.fmt_day(task.due_on, lang)
        ),
        expires_at=net.task_deadline(task.due_on, tz),
    )
    return planned, told


def default_due(session: Session, now: dt.datetime, tz: dt.tzinfo) -> tuple[dt.date, str | None]:
    """A priority's task when the leader names no date: the day before the next gathering
    (and its title), where the teams report on it, or 14 days ahead (and None)."""
    today = local_day(now, tz)
    upcoming = board.next_gathering(session, now, LIVE_GATHERING)
    if upcoming is not None:
        day = local_day(upcoming.starts_at, tz) - dt.timedelta(days=1)
        return max(day, today), upcoming.title
    return today + dt.timedelta(days=NO_GATHERING_DAYS), None


def default_due_words(lang: str, due: dt.date, gathering: str | None) -> str:
    """The sentence that says which date was chosen, and why."""
    day = f"{due:%d.%m.%Y}"
    if gathering is not None:
        return t(lang, "steer_due_gathering", due=day, title=gathering)
    return t(lang, "steer_due_default", due=day, days=NO_GATHERING_DAYS)
