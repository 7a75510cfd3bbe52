"""The weekly digest to the steering group: queued once per ISO week, durably, on every
configured steering channel; `beholde digest` prints or queues it by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from bot.ports import OutgoingMessage
from bot.summaries import KIND
from storage import outbox
from storage.digest import load_digest
from surveys.definition import Survey
from surveys.digest import due_this_week, iso_week, render_digest


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
