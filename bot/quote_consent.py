"""Quote only with consent: "Kan vi sitere deg anonymt?" right after a comment is written.

The yes or no is stored on the pending comment itself and leaves with it when the pulse is
sealed, so the anonymous comment carries its consent and nothing links it to a person. Not
answering is a no: the person may move on (/puls, the next question) and the comment then
counts only in the themes; when the round closes, a pulse that waited only for this answer
is finished as a complete one. This module asks; `PulseFlow.consent_answer` stores the answer
and goes on with the pulse.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.engine_base import EngineConfig
from bot.i18n import t
from bot.ports import Choice, OutgoingMessage
from storage import prompts
from storage.answers import QUOTE_PROMPT
from storage.models import Invitation, Person, Prompt

ANSWERS = ("yes", "no")


def ask_text(lang: str, config: EngineConfig) -> str:
    """The question and what a yes means (the threshold is the summary's, never below k)."""
    return t(lang, "conv_quote_ask", n=max(config.k, config.comment_threshold))


def ask(
    session: Session,
    person: Person,
    invitation: Invitation,
    qid: str,
    now: dt.datetime,
    config: EngineConfig,
) -> OutgoingMessage:
    """The question with Ja / Nei; its token is tied to the person, the pulse and the comment."""
    token = prompts.create(session, person.id, QUOTE_PROMPT, now, invitation.id, qid)
    lang = person.language
    choices = tuple(Choice(t(lang, f"conv_quote_{a}"), f"{token}:{a}") for a in ANSWERS)
    return OutgoingMessage(ask_text(lang, config), choices)


def answered(lang: str, value: str, config: EngineConfig) -> OutgoingMessage:
    """The question's message after the press: its first line and what was chosen."""
    asked = ask_text(lang, config).split("\n", 1)[0]
    return OutgoingMessage(asked + "\n" + t(lang, f"conv_quote_said_{value}"))


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
