"""Steering-group summaries in the service: built when a round closes, queued durably.

`install(service)` adds a round-closed hook. The hook builds the round's summary (only
aggregates, already suppressed), renders a chart and text, and writes one outbox row per
message for every transport with a steering channel configured — in the same transaction as
the record of what was posted, so a summary is neither lost nor sent twice. The outbox
delivers rows of kind "steering" with the transport's `post_to_channel`.

A summary is refused when fewer than k submissions arrived since the last one posted for
the same round: two summaries must not show one person's answers by their difference.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.ports import OutgoingMessage
from storage import outbox
from storage import summaries as store
from storage.models import Round
from surveys.anonymity import may_post
from surveys.chart import chart_png
from surveys.definition import Survey
from surveys.render import body, headline
from surveys.summary import Summary, build_summary, hold_back, published_cells

log = logging.getLogger(__name__)

KIND = "steering"


@dataclass(frozen=True)
class SummaryOptions:
    k: int = 5
    comment_threshold: int = 10
    language: str = "nb"


@dataclass(frozen=True)
class PostResult:
    status: str  # queued | too_few_new | no_round | no_target
    round_number: int | None = None
    queued: int = 0
    submissions: int = 0
    last_posted: int | None = None


def compose(session: Session, survey: Survey, round_: Round, options: SummaryOptions) -> Summary:
    """The summary of one round, from what storage holds now.

    Figures that would differ by fewer than k answers from a summary already posted for
    this round are held back (the same rule for printing, exporting and posting).
    """
    inputs = store.round_inputs(session, round_)
    summary = build_summary(
        inputs.responses,
        inputs.participation,
        survey,
        round_id=inputs.round_id,
        round_number=inputs.round_number,
        k=options.k,
        comment_threshold=options.comment_threshold,
        previous=inputs.previous,
        previous_number=inputs.previous_number,
        roster_names=store.roster_names(session),
        seed=inputs.seed,
    )
    return hold_back(summary, store.posted_cells(session, round_.id), options.k)


def messages(summary: Summary, survey: Survey, lang: str = "nb") -> list[OutgoingMessage]:
    """The chart with the headline as caption, then the bullets."""
    chart = chart_png(summary, survey, lang)
    return [
        OutgoingMessage(
            headline(summary, survey, lang),
            image=chart,
            image_name=f"beholde-runde-{summary.round_number}.png",
        ),
        OutgoingMessage(body(summary, survey, lang)),
    ]


def steering_targets(settings: object, platforms: Iterable[str]) -> dict[str, str]:
    """Platform → steering channel for every platform that has one configured."""
    wanted = {
        "slack": getattr(settings, "slack_steering_channel", None),
        "telegram": getattr(settings, "telegram_steering_chat", None),
        "teams": getattr(settings, "teams_steering_conversation", None),
        "console": "console",
    }
    return {p: str(wanted[p]) for p in platforms if wanted.get(p)}


def queue_summary(
    session: Session,
    survey: Survey,
    round_: Round,
    targets: Mapping[str, str],
    options: SummaryOptions,
    now: dt.datetime,
    source: str,
) -> PostResult:
    """Build, check the differencing rule, queue for every target, record the post."""
    if not targets:
        return PostResult("no_target", round_.number)
    summary = compose(session, survey, round_, options)
    last = store.last_posted(session, round_.id)
    if not may_post(summary.submissions, last, options.k):
        return PostResult("too_few_new", round_.number, 0, summary.submissions, last)
    out = messages(summary, survey, options.language)
    queued = 0
    for platform, channel in sorted(targets.items()):
        for i, message in enumerate(out):
            queued += outbox.enqueue(
                session,
                dedupe_key=f"summary:{round_.id}:{summary.submissions}:{platform}:{i}",
                platform=platform,
                chat_id=channel,
                kind=KIND,
                payload=message.to_payload(),
                not_before=now,
                now=now,
            )
    store.record_post(
        session, round_.id, summary.submissions, published_cells(summary), source, now
    )
    return PostResult("queued", round_.number, queued, summary.submissions, last)


def install(service: object) -> bool:
    """Post a summary to the steering group whenever a round closes (if a channel is set)."""
    settings = service.settings  # type: ignore[attr-defined]
    engine = service.engine  # type: ignore[attr-defined]
    transports = service.transports  # type: ignore[attr-defined]
    targets = steering_targets(settings, transports)
    for platform, name in (
        ("slack", "BEHOLDE_SLACK_STEERING_CHANNEL"),
        ("telegram", "BEHOLDE_TELEGRAM_STEERING_CHAT"),
    ):
        configured = getattr(settings, name.removeprefix("BEHOLDE_").lower(), None)
        if configured and platform not in transports:
            log.warning("%s is set but %s is not running; no summaries go there", name, platform)
    if not targets:
        return False
    options = SummaryOptions(settings.k_anonymity, settings.comment_threshold, settings.language)

    def on_round_closed(round_id: int) -> None:
        with engine.db.transaction() as session:
            round_ = session.get(Round, round_id)
            if round_ is None:
                return
            result = queue_summary(
                session, engine.survey, round_, targets, options, engine.clock(), "round_closed"
            )
        log.info(
            "summary of round %s: %s (%s messages)", result.round_number, result.status,
            result.queued,
        )  # fmt: skip

    engine.round_closed_hooks.append(on_round_closed)
    return True
