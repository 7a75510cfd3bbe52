"""Chat commands of the steering group's view: `/styring` (a personal dashboard link) and
the priority behind `oppgave ny fra prioritet N …` (a task tied to a survey factor).

`beholde serve` tells this module where the dashboard is reachable and which summary options
it runs with (`configure`); `beholde chat` and tests use the defaults.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.i18n import t
from bot.ports import OutgoingMessage, Reply
from bot.summaries import SummaryOptions, compose
from bot.summary_text import factor_label, lang_of
from storage import answers
from storage import dashboard as store

if TYPE_CHECKING:
    from bot.conversation import Context, Conversation
    from bot.settings import Settings

DEFAULT_BASE = "http://127.0.0.1:8080"
PRIORITY_SOURCE = "task"


@dataclass(frozen=True)
class Where:
    base_url: str
    options: SummaryOptions


_WHERE: weakref.WeakKeyDictionary[Conversation, Where] = weakref.WeakKeyDictionary()


def configure(engine: Conversation, base_url: str, options: SummaryOptions) -> None:
    _WHERE[engine] = Where(base_url.rstrip("/"), options)


def _where(engine: Conversation) -> Where:
    return _WHERE.get(engine) or Where(DEFAULT_BASE, SummaryOptions(k=engine.config.k))


def styring_command(ctx: Context) -> Reply:
    """A personal one-time link, for the steering group and the project leader only."""
    lang = lang_of(ctx.lang)
    token = store.issue_link(ctx.session, ctx.person, ctx.now)
    if token is None:
        return Reply([OutgoingMessage(t(lang, "dashboard_link_refused"))])
    url = f"{_where(ctx.engine).base_url}/styring/inn?t={token}"
    return Reply([OutgoingMessage(t(lang, "dashboard_link", url=url))])


@dataclass(frozen=True)
class Priority:
    factor_id: str
    label: str
    round_number: int


def priority(
    session: Session, engine: Conversation, number: int, lang: str, now: dt.datetime
) -> Priority | None:
    """Priority `number` (1-based) of the newest closed round, as the summary released it."""
    round_ = answers.latest_closed_round(session)
    if round_ is None or number < 1:
        return None
    where = _where(engine)
    options = SummaryOptions(where.options.k, where.options.comment_threshold, lang_of(lang))
    summary = compose(session, engine.survey, round_, options, PRIORITY_SOURCE, now)
    if number > len(summary.priorities):
        return None
    factor_id = summary.priorities[number - 1]
    return Priority(factor_id, factor_label(engine.survey, factor_id, lang), round_.number)


def picker(
    session: Session, engine: Conversation, settings: Settings, lang: str, now: dt.datetime
) -> Callable[[int], Priority | None]:
    """`priority` for the CLI, with the summary options of the settings."""
    from bot.dashboard.links import base_url

    options = SummaryOptions(settings.k_anonymity, settings.comment_threshold, lang_of(lang))
    configure(engine, base_url(settings), options)
    return lambda number: priority(session, engine, number, lang, now)


def register(engine: Conversation) -> None:
    engine.commands.add(
        ("styring", "steering", "dashboard"),
        styring_command,
        roles=set(store.ROLES),
        summary="/styring: personlig lenke til styringsgruppens oversikt",
    )
