"""The weekly digests, queued once per ISO week through the outbox (so a restart neither
loses nor repeats one): the steering group's on every configured steering channel
(`beholde digest`), and the project leader's in each leader's own chat
(`beholde network digest`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import network
from bot.i18n import t
from bot.ports import OutgoingMessage
from bot.summaries import KIND
from storage import outbox
from storage.digest import load_digest, load_leader_digest
from storage.models import Person
from surveys.definition import Survey
from surveys.digest import LeaderDigest, due_this_week, iso_week, render_digest


def digest_text(
    session: Session, survey: Survey, now: dt.datetime, tz: dt.tzinfo, lang: str, k: int
) -> str:
    names = {o.value: o.label[lang] for o in survey.scales["municipality"].options}
    return render_digest(load_digest(session, now, tz), lang, k, names)


def queue_digest(
    session: Session,
    survey: Survey,
    targets: Mapping[str, str],
    now: dt.datetime,
    tz: dt.tzinfo,
    lang: str,
    k: int,
) -> int:
    """Queue this week's digest for every target; a second call in the same week adds nothing."""
    if not targets:
        return 0
    payload = OutgoingMessage(digest_text(session, survey, now, tz, lang, k)).to_payload()
    week = iso_week(now, tz)
    return sum(
        outbox.enqueue_all(
            session,
            key=f"digest:{week}:{platform}",
            platform=platform,
            chat_id=channel,
            kind=KIND,
            payloads=[payload],
            now=now,
        )
        for platform, channel in sorted(targets.items())
    )


def queue_if_due(
    session: Session,
    survey: Survey,
    targets: Mapping[str, str],
    now: dt.datetime,
    tz: dt.tzinfo,
    lang: str,
    k: int,
    weekday: int,
    at: dt.time,
) -> int:
    """The scheduler's weekly step: queue once the week's moment (default Monday 08:00) passed."""
    if not due_this_week(now, tz, weekday, at):
        return 0
    return queue_digest(session, survey, targets, now, tz, lang, k)


# --------------------------------------------------------------------------- the project leader's


def render_leader_digest(data: LeaderDigest, tz: dt.tzinfo, lang: str) -> str:
    """The leader's overview as chat text, from the text catalogue."""
    number = int(data.week.rpartition("W")[2])
    lines = [t(lang, "day_digest_head", number=number), ""]
    if data.teams:
        lines.append(t(lang, "day_digest_tasks"))
    else:
        lines.append(t(lang, "day_digest_no_teams"))
    for team in data.teams:
        lines.append(
            t(lang, "day_digest_team", team=team.team, done=team.done, open=team.open)
            + (t(lang, "day_digest_overdue", count=team.overdue) if team.overdue else "")
        )
        if team.overdue_titles:
            lines.append(
                t(lang, "day_digest_overdue_titles", titles=", ".join(team.overdue_titles))
            )
    lines.append("")
    g = data.next_gathering
    if g is None:
        lines.append(t(lang, "day_digest_no_next"))
    else:
        when = network.fmt_when(g.starts_local, tz, lang)
        lines.append(
            t(
                lang,
                "day_digest_next",
                title=g.title,
                when=when,
                where=f", {g.where}" if g.where else "",
            )
        )
    return "\n".join(lines)


def leader_digest_text(session: Session, now: dt.datetime, tz: dt.tzinfo, lang: str) -> str:
    return render_leader_digest(load_leader_digest(session, now, tz), tz, lang)


def queue_leader_digests(session: Session, now: dt.datetime, tz: dt.tzinfo) -> int:
    """Queue this week's overview for every active project leader with a chat, in their
    language; a second call in the same week adds nothing (the outbox key holds the week)."""
    leaders = session.scalars(
        select(Person).where(Person.role == "leader", Person.status == "active").order_by(Person.id)
    ).all()
    if not leaders:
        return 0
    data = load_leader_digest(session, now, tz)
    week = iso_week(now, tz)
    return sum(
        network.send(
            session,
            leader,
            [OutgoingMessage(render_leader_digest(data, tz, leader.language))],
            f"leader-digest:{week}:{leader.id}",
            now,
        )
        for leader in leaders
    )


def queue_leader_digests_if_due(
    session: Session, now: dt.datetime, tz: dt.tzinfo, weekday: int, at: dt.time
) -> int:
    """The scheduler's weekly step for project leaders (the same moment as the steering digest)."""
    if not due_this_week(now, tz, weekday, at):
        return 0
    return queue_leader_digests(session, now, tz)
