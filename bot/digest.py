"""The weekly digests, queued once per ISO week through the outbox (so a restart neither
loses nor repeats one): the steering group's on every configured steering channel
(`beholde digest`), and the project leader's in each leader's own chat
(`beholde network digest`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping

from sqlalchemy.orm import Session

from bot import network
from bot.attendance import counts_line
from bot.i18n import t
from bot.ports import OutgoingMessage
from bot.summaries import KIND
from storage import outbox, people
from storage.digest import load_digest, load_leader_digest
from surveys.definition import Survey
from surveys.digest import MAX_TASKS, DigestData, LeaderDigest, due_this_week, iso_week

STATUSES = ("moved", "cancelled", "replaced_by_webinar", "held", "planned")


def status_word(lang: str, status: str) -> str:
    return t(lang, f"digest_status_{status}") if status in STATUSES else status


def render_digest(data: DigestData, lang: str, k: int, names: dict[str, str]) -> str:
    """The digest as plain text; `names` maps municipality ids to display names."""

    def w(key: str, **values: object) -> str:
        return t(lang, f"digest_{key}", **values)

    week = int(data.week.rpartition("W")[2])  # "uke 9", as people say it, not "2027-W09"
    lines = [w("head", number=week), "", w("tasks") if data.tasks else w("no_tasks")]
    for task in data.tasks[:MAX_TASKS]:
        total = len(task.done_teams) + len(task.open_teams)
        still = w("open_teams", teams=", ".join(task.open_teams)) if task.open_teams else ""
        lines.append(
            w(
                "task",
                title=task.title,
                due=f"{task.due_on:%d.%m.%Y}",
                done=len(task.done_teams),
                total=total,
                open=still,
            )
        )
    lines.append("")
    if data.next_gathering is None:
        lines.append(w("no_next"))
    else:
        g = data.next_gathering
        lines.append(
            w(
                "next",
                title=g.title,
                when=f"{g.starts_local:%d.%m.%Y %H:%M}",
                where=f", {g.where}" if g.where else "",
            )
        )
    for g in data.changed:
        lines.append(w("changed", title=g.title, status=status_word(lang, g.status)))
    if data.rounds:
        lines += ["", w("rounds")]
        for r in data.rounds:
            few = r.finished < k
            finished = w("few", k=k) if few else str(r.finished)
            opened = w("round_open") if r.is_open else ""
            if r.invited < k:  # not "færre enn 5 av 4", which reads as a contradiction
                key = "walk_digest_round_few_invited"
                lines.append(t(lang, key, number=r.number, invited=r.invited, open=opened))
                continue
            rate = "–" if few or not r.invited else f"{100 * r.finished / r.invited:.0f} %"
            lines.append(
                w(
                    "round",
                    number=r.number,
                    finished=finished,
                    invited=r.invited,
                    rate=rate,
                    open=opened,
                )
            )
    rows = sorted(data.participation, key=lambda r: names.get(r.group, r.group))
    visible = [
        f"{names.get(r.group, r.group)} {r.answered}/{r.invited}"
        for r in rows
        if r.answered is not None and r.group
    ]
    if visible:
        lines.append(w("per_municipality", groups=", ".join(visible)))
    if any(r.held for r in rows):
        lines.append(w("held", k=k))
    hidden = [names.get(r.group, r.group) for r in rows if r.answered is None and not r.held]
    if hidden:
        lines.append(w("hidden", names=", ".join(sorted(h for h in hidden if h))))
    return "\n".join(lines).strip()


def digest_text(
    session: Session, survey: Survey, now: dt.datetime, tz: dt.tzinfo, lang: str, k: int
) -> str:
    names = {o.value: o.label[lang] for o in survey.scales["municipality"].options}
    return render_digest(load_digest(session, now, tz, k), lang, k, names)


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
        if data.attendance:
            counts = {team: Counter(yes=y, no=n, online=o) for team, y, n, o in data.attendance}
            lines.append(t(lang, "leader_digest_attendance", counts=counts_line(counts, lang)))
    return "\n".join(lines)


def leader_digest_text(session: Session, now: dt.datetime, tz: dt.tzinfo, lang: str) -> str:
    return render_leader_digest(load_leader_digest(session, now, tz), tz, lang)


def queue_leader_digests(session: Session, now: dt.datetime, tz: dt.tzinfo) -> int:
    """Queue this week's overview for every active project leader with a chat, in their
    language; a second call in the same week adds nothing (the outbox key holds the week)."""
    leaders = people.active_leaders(session)
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
