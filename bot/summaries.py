"""Steering-group summaries in the service: built when a round closes, queued durably.

`install(service)` adds a round-closed hook. The hook builds the round's summary (only
aggregates, already suppressed), renders a chart and text, and writes one outbox row per
message for every transport with a steering channel configured — in the same transaction as
the record of what was posted, so a summary is neither lost nor sent twice. The outbox
delivers rows of kind "steering" with the transport's `post_to_channel`.

Every output of a round's figures — the post, `beholde summary` printed or exported,
`round close`, `round status`, the demo — gets them from `compose`, which runs the summary
through the one release path (storage/releases.py → surveys/disclosure.py): figures that
would differ by 1..k−1 contributors from one already released are held back, and what is
shown is recorded in the release ledger. A post is also refused outright when fewer than k
submissions arrived since the last one posted for the same round.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session

from bot.summary_text import (
    body,
    full_text,
    headline,
    participation_table_lines,
)
from storage import frames, releases
from storage import summaries as store
from storage.models import Round
from surveys.anonymity import may_post, shown
from surveys.definition import Survey
from surveys.summary import FactorStat, Summary, build_summary, participation_table

if TYPE_CHECKING:
    from bot.conversation import Conversation
    from bot.ports import OutgoingMessage
    from storage.dashboard import FactorTask
    from storage.db import Database

# storage.dashboard (its models of the learning network, the grid) is imported by
# `task_trends` only: `round status` prints no tasks.

log = logging.getLogger(__name__)

KIND = "steering"

# What else happens, in the same transaction, when a summary is queued: features register
# here by name (bot/dashboard/priority_buttons.py offers the leader its buttons).
PostHook = Callable[[Session, Survey, Summary, dt.datetime], object]
AFTER_POST: dict[str, PostHook] = {}


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


def compose(
    session: Session,
    survey: Survey,
    round_: Round,
    options: SummaryOptions,
    source: str = "print",
    now: dt.datetime | None = None,
) -> Summary:
    """The summary of one round as it may be shown now; what it shows goes into the ledger.

    `source` names the output (post, print, export, round_close, status, demo) in the ledger.
    """
    summary = draft(session, survey, round_, options)
    today = (now or dt.datetime.now(dt.UTC)).date()
    return releases.release_summary(session, summary, options.k, source, today)


# Up to this many stored answers (round and previous round) a summary is computed in plain
# Python (surveys/summary_plain.py), which spares a printed summary pandas' import (≈ 0.25 s);
# above it, pandas over the same rows. Both give the same figures (tests/test_summary_plain.py).
PLAIN_ROWS = 50_000


def draft(session: Session, survey: Survey, round_: Round, options: SummaryOptions) -> Summary:
    """The round's summary before the release ledger is asked: never shown as it is."""
    rows = store.round_rows(session, round_)
    names = store.roster_names(session)
    if len(rows.responses) + len(rows.previous or ()) <= PLAIN_ROWS:
        from surveys.summary_plain import build_summary_rows

        return build_summary_rows(
            rows.responses,
            rows.participation,
            survey,
            round_id=rows.round_id,
            round_number=rows.round_number,
            facets=rows.facets,
            k=options.k,
            comment_threshold=options.comment_threshold,
            previous=rows.previous,
            previous_number=rows.previous_number,
            previous_facets=rows.previous_facets or (),
            roster_names=names,
            seed=rows.seed,
        )
    return draft_frames(rows.frames(), survey, options, names)


def draft_frames(
    inputs: store.RoundInputs, survey: Survey, options: SummaryOptions, names: list[str]
) -> Summary:
    """`draft` through pandas, for a round with many answers."""
    return build_summary(
        inputs.responses,
        inputs.participation,
        survey,
        round_id=inputs.round_id,
        round_number=inputs.round_number,
        k=options.k,
        comment_threshold=options.comment_threshold,
        previous=inputs.previous,
        previous_number=inputs.previous_number,
        facets=inputs.facets,
        previous_facets=inputs.previous_facets,
        roster_names=names,
        seed=inputs.seed,
    )


def report(
    session: Session,
    survey: Survey,
    round_: Round,
    options: SummaryOptions,
    source: str,
    now: dt.datetime | None = None,
) -> str:
    """The whole summary as terminal text (`summary`, `round close`, `demo`)."""
    summary = compose(session, survey, round_, options, source, now)
    tasks = task_trends(session, survey, summary, options, now)
    return full_text(summary, survey, options.language, tasks=tasks)


TREND_SOURCE = "task_trend"


class Released(Protocol):
    """A round's released factor figures: a full `Summary`, or the dashboard's trend
    figures of an older round (surveys/round_figures.py)."""

    @property
    def factors(self) -> tuple[FactorStat, ...]: ...


def baseline_round(
    created_at: dt.datetime | None,
    rounds: Sequence[tuple[int, int, dt.datetime]],
    latest_number: int,
) -> tuple[int, int] | None:
    """(id, number) of the newest round closed before the task was created, up to `latest`."""
    if created_at is None:
        return None
    before = [(i, n) for i, n, closed in rounds if closed <= created_at and n <= latest_number]
    return before[-1] if before else None


def task_trends(
    session: Session,
    survey: Survey,
    latest: Summary,
    options: SummaryOptions,
    now: dt.datetime | None = None,
    released: Mapping[int, Released] | None = None,
) -> dict[str, list[FactorTask]]:
    """Factor → its tasks, each with the round before it was created and that round's
    experienced mean as released (from `released` by round id, else composed through the
    release path), so a trend reads "before the task → the latest round"."""
    from storage import dashboard as board

    tasks = board.factor_tasks(session)
    if not tasks:
        return {}
    rounds = board.closed_rounds(session)
    known: dict[int, Released] = dict(released or {})
    out: dict[str, list[FactorTask]] = {}
    for factor_id, items in tasks.items():
        for task in items:
            base = baseline_round(task.created_at, rounds, latest.round_number)
            baseline = None
            if base is not None:
                round_id, number = base
                if round_id not in known:
                    round_ = session.get(Round, round_id)
                    assert round_ is not None
                    known[round_id] = compose(session, survey, round_, options, TREND_SOURCE, now)
                f = next((f for f in known[round_id].factors if f.factor_id == factor_id), None)
                shown = f is not None and f.gap is not None
                baseline = (number, f.experienced if shown and f is not None else None)
            out.setdefault(factor_id, []).append(replace(task, baseline=baseline))
    return out


def participation_report(
    session: Session,
    survey: Survey,
    round_: Round,
    options: SummaryOptions,
    source: str,
    now: dt.datetime | None = None,
) -> str:
    """Only the participation table (`round status`), through the release path for it.

    A handful of counts per municipality, summed in Python: no DataFrame (pandas would cost
    `round status` more than everything else), and only the figures shown go into the ledger.
    """
    counts = frames.participation_counts(session, round_.id)
    k = options.k
    invited = sum(c[1] for c in counts)
    finished = sum(c[2] for c in counts)
    answered = finished if shown(finished, k) else None
    today = (now or dt.datetime.now(dt.UTC)).date()
    rows = releases.release_participation(
        session, round_.id, participation_table(counts, k), answered, k, source, today
    )
    lines = participation_table_lines(
        round_.number, k, rows, answered, invited, survey, options.language
    )
    return "\n".join(lines)


def messages(
    summary: Summary,
    survey: Survey,
    lang: str = "nb",
    tasks: Mapping[str, Sequence[FactorTask]] | None = None,
) -> list[OutgoingMessage]:
    """The chart with the headline as caption, then the bullets (with the factors' tasks)."""
    from bot.ports import OutgoingMessage
    from bot.summary_chart import chart_png  # matplotlib loads when a chart is drawn

    chart = chart_png(summary, survey, lang)
    return [
        OutgoingMessage(
            headline(summary, survey, lang),
            image=chart,
            image_name=f"beholde-runde-{summary.round_number}.png",
        ),
        OutgoingMessage(body(summary, survey, lang, tasks=tasks)),
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
    from storage import outbox

    if not targets:
        return PostResult("no_target", round_.number)
    last = store.last_posted(session, round_.id)
    raw = draft(session, survey, round_, options)
    if not may_post(raw.submissions, last, options.k):
        return PostResult("too_few_new", round_.number, 0, raw.submissions, last)
    summary = releases.release_summary(session, raw, options.k, "post", now.date())
    out = messages(summary, survey, options.language, task_trends(session, survey, summary,
                                                                  options, now))  # fmt: skip
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
    store.record_post(session, round_.id, summary.submissions, source, now)
    for hook in AFTER_POST.values():  # the leader's "Lag oppgave fra prioritet N" buttons
        hook(session, survey, summary, now)
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


def engine_options(engine: Conversation, language: str | None = None) -> SummaryOptions:
    """Summary options from a conversation engine's configuration (the CLI's round commands)."""
    config = engine.config
    return SummaryOptions(config.k, config.comment_threshold, language or config.default_language)


def print_round_report(
    engine: Conversation, round_id: int, source: str, language: str | None = None
) -> None:
    """`round close` and `demo`: the same text as `beholde summary` prints, released once."""
    options = engine_options(engine, language)
    _print(engine.db, engine.survey, options, round_id, source, engine.clock(), report)


def print_participation(
    db: Database,
    survey: Survey,
    options: SummaryOptions,
    round_id: int,
    source: str,
    now: dt.datetime | None = None,
) -> None:
    """`round status`: the participation table of the summary, released once. It needs the
    database and the survey's labels only, not the conversation engine."""
    _print(db, survey, options, round_id, source, now, participation_report)


def _print(
    db: Database,
    survey: Survey,
    options: SummaryOptions,
    round_id: int,
    source: str,
    now: dt.datetime | None,
    render: Callable[..., str],
) -> None:
    import typer

    with db.transaction() as session:
        round_ = session.get(Round, round_id)
        if round_ is None:
            return
        text = render(session, survey, round_, options, source, now)
    typer.echo(text)
