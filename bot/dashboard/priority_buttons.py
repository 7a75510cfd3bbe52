"""Buttons under a posted summary: "Lag oppgave fra prioritet 1/2/3" for the project leader.

When a summary is queued for the steering group, every project leader (role `leader`) gets
the round's priorities in their own chat with one button per priority. A steering channel is
shared, and a button there could not tell the leader from a guest; a personal prompt token
can. Pressing creates the task exactly as `oppgave ny fra prioritet N` does (the same
`network_commands.task` call), for all teams, with a default due date: the day before the
next gathering, or 14 days ahead when none is planned. The leader is told which date and why.

Each priority has its own prompt token, so pressing 1 and then 2 makes two tasks, while a
second press of 1, a replay or a forged token changes nothing. A press by someone who is no
longer leader is refused politely and leaves the button usable for the leader.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.i18n import t
from bot.network_tasks import default_due, default_due_words
from bot.ports import Choice, OutgoingMessage, Reply
from bot.summary_text import factor_label, lang_of, num
from storage import dashboard as store
from storage import people, prompts
from storage.models import Person, Prompt
from surveys.definition import Survey
from surveys.summary import Summary

if TYPE_CHECKING:
    from bot.conversation import Context, Conversation

PURPOSE = "priority"
LEADER = "leader"


def offer_message(
    session: Session, survey: Survey, summary: Summary, person: Person, now: dt.datetime
) -> OutgoingMessage:
    """The priorities of a released summary with one personal button each."""
    lang = lang_of(person.language)
    lines = [t(lang, "steer_offer", number=summary.round_number)]
    choices = []
    for rank, factor_id in enumerate(summary.priorities, start=1):
        f = summary.factor(factor_id)
        gap = num(f.gap.value, lang) if f.gap is not None else "–"
        lines.append(
            t(lang, "steer_offer_line", rank=rank, factor=factor_label(survey, factor_id, lang),
              gap=gap)
        )  # fmt: skip
        ref = f"{summary.round_number}:{rank}:{factor_id}"
        token = prompts.create(session, person.id, PURPOSE, now, ref=ref[:100])
        choices.append(Choice(t(lang, "steer_button", rank=rank), f"{token}:make"))
    lines.append(t(lang, "steer_offer_due"))
    return OutgoingMessage("\n".join(lines), tuple(choices))


def offer(session: Session, survey: Survey, summary: Summary, now: dt.datetime) -> int:
    """Queue the priority buttons for every reachable leader; returns how many were queued."""
    if not summary.priorities:
        return 0
    from bot import network as net

    queued = 0
    for person in store.leaders(session):
        if people.preferred_address(session, person.id) is None:
            continue
        message = offer_message(session, survey, summary, person, now)
        key = f"summary:{summary.round_id}:{summary.submissions}:priorities:p{person.id}"
        queued += net.send(session, person, [message], key, now)
    return queued


def pressed(ctx: Context, prompt: Prompt) -> Reply:
    """A press of "Lag oppgave fra prioritet N": the task, once, for the leader only."""
    from bot import network_commands as commands
    from bot.dashboard.commands import Priority

    session, person, lang = ctx.session, ctx.person, lang_of(ctx.lang)
    if person.role != LEADER:
        store.unclaim(session, prompt.token)  # nothing changes: the leader may still press it
        refusal = t(lang, "steer_only_leader")
        return Reply([OutgoingMessage(refusal)], notice=refusal)
    if ctx.args[:1] != ("make",):  # not what the button carries: nothing changes
        store.unclaim(session, prompt.token)
        return Reply(notice=t(lang, "steer_gone"))
    number, rank, factor_id = _ref(prompt.ref)
    if factor_id is None:
        return Reply([OutgoingMessage(t(lang, "steer_gone"))])
    label = factor_label(ctx.engine.survey, factor_id, lang)
    closed = store.round_closed_at(session, number)
    earlier = store.factor_task_since(session, factor_id, closed) if closed else None
    if earlier is not None:  # the same priority from a repeat post of the summary
        return Reply([OutgoingMessage(t(lang, "steer_already", factor=label, id=earlier.id,
                                        title=earlier.title))])  # fmt: skip
    tz = ctx.engine.config.tz
    due, gathering = default_due(session, ctx.now, tz)
    newest = store.newest_task_id(session)
    words = ["ny", "fra", "prioritet", str(rank), "frist", due.strftime("%d.%m.%Y"), "alle"]

    def pick(wanted: int) -> Priority | None:
        return Priority(factor_id, label, number) if wanted == rank else None

    lines = commands.task(session, commands.Actor(person, lang), words, ctx.now, tz, pick)
    if store.newest_task_id(session) <= newest:  # refused (no teams, …): the button stays
        store.unclaim(session, prompt.token)
        return Reply([OutgoingMessage(line) for line in lines])
    why = default_due_words(lang, due, gathering)
    return Reply([OutgoingMessage(line) for line in [*lines, why]], notice=lines[0][:200])


def _ref(ref: str | None) -> tuple[int, int, str | None]:
    """(round number, rank, factor id) from a prompt's ref; factor None when unreadable."""
    parts = (ref or "").split(":")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or not parts[2]:
        return 0, 0, None
    return int(parts[0]), int(parts[1]), parts[2]


def register(engine: Conversation) -> None:
    from bot.summaries import AFTER_POST

    engine.prompt_handlers[PURPOSE] = pressed
    AFTER_POST[PURPOSE] = offer
