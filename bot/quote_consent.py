"""Quote only with consent: "Kan vi sitere deg anonymt?" right after a comment is written.

The yes or no is stored on the pending comment itself and leaves with it when the pulse is
sealed, so the anonymous comment carries its consent and nothing links it to a person. Not
answering is a no: the person may move on (/puls, the next question) and the comment then
counts only in the themes; when the round closes, a pulse that waited only for this answer
is finished as a complete one.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.i18n import t
from bot.ports import Choice, OutgoingMessage, Reply
from storage import answers, prompts
from storage.answers import QUOTE_PROMPT
from storage.models import Invitation, Person, Prompt, Round

if TYPE_CHECKING:
    from bot.pulse_flow import PulseFlow

ANSWERS = ("yes", "no")


def ask_text(lang: str, k: int, comment_threshold: int) -> str:
    return t(lang, "conv_quote_ask", n=max(k, comment_threshold))


def ask(
    flow: PulseFlow,
    session: Session,
    person: Person,
    invitation: Invitation,
    qid: str,
    now: dt.datetime,
) -> OutgoingMessage:
    """The question with Ja / Nei; its token is tied to the person, the pulse and the comment."""
    token = prompts.create(session, person.id, QUOTE_PROMPT, now, invitation.id, qid)
    lang, config = person.language, flow.engine.config
    choices = tuple(Choice(t(lang, f"conv_quote_{a}"), f"{token}:{a}") for a in ANSWERS)
    return OutgoingMessage(ask_text(lang, config.k, config.comment_threshold), choices)


def open_prompt(session: Session, person: Person) -> Prompt | None:
    """The person's unanswered consent question of a pulse still under way, if any."""
    for prompt in prompts.unused(session, person.id, QUOTE_PROMPT):
        invitation = session.get(Invitation, prompt.invitation_id) if prompt.invitation_id else None
        if invitation is not None and invitation.status == "invited":
            return prompt
    return None


def skip_open(session: Session, invitation: Invitation, person: Person, now: dt.datetime) -> None:
    """The person moved on without answering: the comment stays unquotable."""
    for prompt in prompts.unused(session, person.id, QUOTE_PROMPT):
        if prompt.invitation_id == invitation.id:
            prompts.claim(session, prompt.token, now)


def answer(
    flow: PulseFlow,
    session: Session,
    person: Person,
    prompt: Prompt,
    value: str,
    now: dt.datetime,
) -> Reply:
    """Store the yes or no with the comment, then the pulse goes on (or ends)."""
    lang = person.language
    invitation = session.get(Invitation, prompt.invitation_id) if prompt.invitation_id else None
    round_ = session.get(Round, invitation.round_id) if invitation else None
    if invitation is None or round_ is None or round_.status != "open":
        return Reply(notice=t(lang, "stale_button"))
    if invitation.status != "invited":
        return Reply(notice=t(lang, "stale_button"))
    if value not in ANSWERS:
        return Reply(notice=t(lang, "invalid_value"))
    if not prompts.claim(session, prompt.token, now):
        return Reply(notice=t(lang, "already_answered"))
    answers.set_quote_consent(session, invitation.id, prompt.question_id or "", value == "yes")
    config = flow.engine.config
    asked = ask_text(lang, config.k, config.comment_threshold).split("\n", 1)[0]
    edit = OutgoingMessage(asked + "\n" + t(lang, f"conv_quote_said_{value}"))
    pending = answers.pending_answers(session, invitation.id)
    return Reply(edit=edit, messages=flow.proceed(session, person, invitation, now, pending))
