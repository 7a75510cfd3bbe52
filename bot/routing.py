"""Routing: which part of the engine answers an inbound event.

A stranger (nobody bound to the chat) may only redeem an invite code; a command, and a press
on a feature's button, are run by the facade with what features registered (`run_command`,
`run_prompt`); a button press is checked (well-formed, the person's own, unused) before its
prompt's purpose decides who handles it; typed text is a comment, a typed "ja"/"nei", or
gets told what to do — unless a leader's draft (bot/drafts.py) asked its question after every
open question that typed text could answer: then the draft takes it (the newest asked wins).
A forged, replayed or stale press finds nothing to change and gets a polite answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import quote_consent
from bot.engine_base import CONFIRM_FOR, Basis, typed_yes_no, well_formed
from bot.i18n import t
from bot.ports import (
    Address,
    ChoicePressed,
    Command,
    InboundEvent,
    OutgoingMessage,
    Reply,
    TextReceived,
)
from bot.pulse_flow import PulseFlow
from storage import answers, people, prompts
from storage.answers import QUOTE_PROMPT
from storage.models import Person, Prompt
from surveys.roster import clean_text

log = logging.getLogger("bot.conversation")


# How the facade runs what features registered: a command, or a press on a feature's button.
RunCommand = Callable[[Session, Person, Command, dt.datetime, list[Callable[[], None]]], Reply]
RunPrompt = Callable[[Session, Person, ChoicePressed, Prompt, str, dt.datetime], Reply]


class DraftHook(Protocol):
    """A leader's open draft (bot/drafts.py) and its share of typed text: the newest open
    question gets the text. `newest_other` is when the newest open question that typed text
    could answer (a free-text pulse question, quote consent, /slett) was asked, if any;
    `otherwise` answers the text as if there were no draft."""

    def answer(
        self,
        session: Session,
        person: Person,
        text: str,
        now: dt.datetime,
        newest_other: Callable[[], dt.datetime | None],
        otherwise: Callable[[], Reply],
    ) -> Reply: ...

    def waiting(self, session: Session, person: Person, now: dt.datetime) -> bool: ...


class Router:
    """Inbound events to replies, for one engine; all state is read from storage."""

    drafts: DraftHook | None = None  # set by bot.drafts.register

    def __init__(
        self, basis: Basis, flow: PulseFlow, run_command: RunCommand, run_prompt: RunPrompt
    ) -> None:
        self.basis = basis
        self.flow = flow
        self.run_command = run_command
        self.run_prompt = run_prompt

    def handle(self, event: InboundEvent) -> Reply:
        """Answer one event in its own transaction (no platform delivery to claim)."""
        now = self.basis.clock()
        after: list[Callable[[], None]] = []
        try:
            with self.basis.db.transaction() as session:
                person = people.by_address(session, event.address.platform, event.address.chat_id)
                reply = self.respond(session, person, event, now, after)
        except IntegrityError:
            return self.duplicate_reply(event)
        for action in after:
            action()
        return reply

    def respond(
        self,
        session: Session,
        person: Person | None,
        event: InboundEvent,
        now: dt.datetime,
        after: list[Callable[[], None]],
        press: prompts.Press | None = None,
    ) -> Reply:
        if person is None:
            return self.stranger(session, event, now)
        if isinstance(event, Command):
            if event.typed is not None and event.args and self.awaits_text(session, person, now):
                # "Samling 2: Turnus" typed as a title is the answer, not `/samling 2:`.
                return self.text(session, person, TextReceived(event.address, event.typed), now)
            return self.run_command(session, person, event, now, after)
        if isinstance(event, ChoicePressed):
            return self.choice(session, person, event, now, press)
        return self.text(session, person, event, now)

    def duplicate_reply(self, event: InboundEvent) -> Reply:
        """Two presses raced for the same question and the database let the first one win."""
        log.info("duplicate answer rejected by the database")
        return Reply(notice=t(self.language_of(event.address), "already_answered"), messages=[])

    def greet(self, address: Address) -> Reply:
        """First contact for a person already bound to this address (console, Slack sync)."""
        now = self.basis.clock()
        with self.basis.db.transaction() as session:
            person = people.by_address(session, address.platform, address.chat_id)
            if person is None:
                lang = self.basis.config.default_language
                return Reply([OutgoingMessage(t(lang, "not_registered"))])
            if person.onboarded_at is None:
                return Reply(self.flow.first_contact(session, person, now))
            return Reply(welcome_back(session, person, self.flow.next_step(session, person, now)))

    def language_of(self, address: Address) -> str:
        with self.basis.db.transaction() as session:
            person = people.by_address(session, address.platform, address.chat_id)
            return person.language if person else self.basis.config.default_language

    # ----------------------------------------------------------------- by kind of event

    def stranger(self, session: Session, event: InboundEvent, now: dt.datetime) -> Reply:
        lang = self.basis.config.default_language
        if isinstance(event, Command) and event.name == "start":
            if not event.args:
                return Reply([OutgoingMessage(t(lang, "start_no_code"))])
            person, status = people.redeem_invite_code(session, event.args[0], now)
            if person is None:
                return Reply([OutgoingMessage(t(lang, f"code_{status}"))])
            people.bind_address(session, person, event.address.platform, event.address.chat_id, now)
            log.info("person %s registered on %s", person.id, event.address.platform)
            return Reply(self.flow.first_contact(session, person, now))
        if isinstance(event, ChoicePressed):
            return Reply(notice=t(lang, "stale_button"), unknown_sender=True)
        return Reply([OutgoingMessage(t(lang, "not_registered"))], unknown_sender=True)

    def choice(
        self,
        session: Session,
        person: Person,
        event: ChoicePressed,
        now: dt.datetime,
        press: prompts.Press | None = None,
    ) -> Reply:
        """A button press; `press`: the prompt and answers so far, if the caller read them."""
        lang = person.language
        if not well_formed(event.data):
            log.info("press with malformed data ignored")
            return Reply(notice=t(lang, "stale_button"))
        token, _, value = event.data.partition(":")
        pending = None
        if press is not None and press.token == token and press.person is person:
            prompt, pending = press.prompt, press.pending
        else:
            prompt = prompts.find(session, token)
        if prompt is None or prompt.person_id != person.id or not value:
            log.info("press with an unknown or foreign token ignored")
            return Reply(notice=t(lang, "stale_button"))
        if prompt.used_at is not None:
            return Reply(notice=t(lang, "already_answered"))
        flow = self.flow
        if prompt.purpose == "pulse":
            return flow.pulse_answer(session, person, prompt, value, None, now, pending)
        if prompt.purpose == "background":
            return flow.background_answer(session, person, prompt, value, now)
        if prompt.purpose == QUOTE_PROMPT:
            return flow.consent_answer(session, person, prompt, value, now)
        return self.run_prompt(session, person, event, prompt, value, now)  # a feature's button

    def text(
        self, session: Session, person: Person, event: TextReceived, now: dt.datetime
    ) -> Reply:
        if self.drafts is None:
            return self.text_answer(session, person, event, now)

        def newest() -> dt.datetime | None:
            return self.newest_text_question(session, person, now)

        def otherwise() -> Reply:
            return self.text_answer(session, person, event, now)

        # a leader's draft first, unless a question asked after it is open
        return self.drafts.answer(session, person, event.text or "", now, newest, otherwise)

    def awaits_text(self, session: Session, person: Person, now: dt.datetime) -> bool:
        """Whether typed text would answer something now (a question or a leader's draft)."""
        if self.newest_text_question(session, person, now) is not None:
            return True
        return self.drafts is not None and self.drafts.waiting(session, person, now)

    def newest_text_question(
        self, session: Session, person: Person, now: dt.datetime
    ) -> dt.datetime | None:
        """When the newest open question that typed text answers was asked (None: none)."""
        asked = [p.created_at for p in (quote_consent.open_prompt(session, person),
                                        self.open_text_prompt(session, person)) if p]  # fmt: skip
        token = prompts.open_delete_question(session, person.id, since=now - CONFIRM_FOR)
        found = prompts.find(session, token) if token else None
        if found is not None:
            asked.append(found.created_at)
        return max(asked, default=None)

    def text_answer(
        self, session: Session, person: Person, event: TextReceived, now: dt.datetime
    ) -> Reply:
        """Typed text with no draft to take it: a comment, a typed "ja"/"nei", or a hint."""
        lang = person.language
        confirmed = self.typed_confirmation(session, person, event, now)
        if confirmed is not None:
            return confirmed
        prompt = self.open_text_prompt(session, person)
        if prompt is None:
            waiting = quote_consent.open_prompt(session, person) is not None
            if waiting or prompts.has_open_question(session, person.id, since=now - CONFIRM_FOR):
                return Reply([OutgoingMessage(t(lang, "use_buttons"))])
            return Reply([OutgoingMessage(t(lang, "nothing_to_do"))])
        question = self.basis.survey.question(prompt.question_id or "")
        raw = event.text or ""
        if len(raw) > question.max_chars * 4:
            return Reply([OutgoingMessage(t(lang, "text_too_long", max=question.max_chars))])
        cleaned = clean_text(raw, 0)
        if not cleaned:
            return Reply([OutgoingMessage(t(lang, "text_empty"))])
        if len(cleaned) > question.max_chars:
            return Reply([OutgoingMessage(t(lang, "text_too_long", max=question.max_chars))])
        reply = self.flow.pulse_answer(session, person, prompt, None, cleaned, now)
        if reply.edit is None:  # not stored (the round closed, a second answer): say why
            return Reply([OutgoingMessage(reply.notice)] if reply.notice else [])
        # A typed answer has no pressed message to edit; say thanks in the chat instead.
        thanks = t(lang, "text_saved")
        return Reply(messages=[OutgoingMessage(thanks), *reply.messages], answered=thanks)

    def open_text_prompt(self, session: Session, person: Person) -> Prompt | None:
        for prompt in prompts.unused(session, person.id, "pulse"):
            if prompt.question_id and self.basis.survey.question(prompt.question_id).is_free_text:
                return prompt
        return None

    def typed_confirmation(
        self, session: Session, person: Person, event: TextReceived, now: dt.datetime
    ) -> Reply | None:
        """ "ja"/"yes" (or "nei"/"nei takk") typed at "may we quote you?" or at /slett's
        question counts as the button."""
        value = typed_yes_no(event.text)
        if value is None:
            return None
        consent = quote_consent.open_prompt(session, person)
        token = consent.token if consent else None
        if token is None:
            token = prompts.open_delete_question(session, person.id, since=now - CONFIRM_FOR)
        if token is None:
            return None
        reply = self.choice(session, person, ChoicePressed(event.address, f"{token}:{value}"), now)
        # A typed answer has no pressed message to edit: the outcome becomes a message.
        return Reply([*([reply.edit] if reply.edit else []), *reply.messages], notice=reply.notice)


def welcome_back(
    session: Session, person: Person, steps: list[OutgoingMessage]
) -> list[OutgoingMessage]:
    """ "Hei igjen!" that fits what follows: the question right below, a done round, no round,
    or (paused, stopped) how to come back."""
    greeting = "walk_welcome_back_continue"
    if person.status != "active":
        greeting = "welcome_back"
    elif not steps:
        open_round = answers.current_round(session) is not None
        greeting = "day_welcome_back_done" if open_round else "day_welcome_back_no_round"
    return [OutgoingMessage(t(person.language, greeting)), *steps]
