"""The conversation engine: first contact, background questions, pulses — on any platform.

Every inbound event is handled in one database transaction, and every decision is made
from what storage holds, so a restart (or a second instance, or a second platform) continues
exactly where the person stopped. Buttons carry a random prompt token; a forged, replayed or
stale press finds nothing to change and gets a polite answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.i18n import normalise_language, t
from bot.ports import (
    Address,
    Choice,
    ChoicePressed,
    Command,
    InboundEvent,
    OutgoingMessage,
    Reply,
    TextReceived,
)
from storage import answers, outbox, people, prompts, releases
from storage.db import Database
from storage.models import Invitation, PendingAnswer, Person, Prompt, Round
from surveys.definition import Question, Survey
from surveys.planning import background_to_ask, plan_for_slot, seeded_order
from surveys.roster import clean_text

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
SKIP = "skip"
MAX_CHOICE_DATA = 64


TYPED_YES = {"ja", "j", "yes", "y", "ja slett", "yes delete", "ja takk"}
TYPED_NO = {"nei", "n", "no", "avbryt", "cancel", "nei takk"}
CONFIRM_FOR = dt.timedelta(hours=1)  # how long a typed "ja" still answers /slett's question


def well_formed(data: str) -> bool:
    """Button data we issue is short printable ASCII; anything else is forged."""
    return 0 < len(data) <= MAX_CHOICE_DATA and data.isascii() and data.isprintable()


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class EngineConfig:
    """The knobs of the conversation, taken from settings."""

    k: int = 5
    organisation: str = "læringsnettverket"
    per_pulse: int = 3
    round_days: int = 5
    tz: dt.tzinfo = dt.UTC
    default_language: str = "nb"
    # Orders people for matrix sampling, stably across rounds. Kept outside the database so
    # that the database alone cannot tell which factors a person was asked.
    planning_secret: str = "beholde"


@dataclass
class Context:
    """What a command handler gets: the open transaction, the person, the words."""

    session: Session
    person: Person
    address: Address
    args: tuple[str, ...]
    now: dt.datetime
    engine: Conversation
    after: list[Callable[[], None]] = field(default_factory=list)  # run after commit

    @property
    def lang(self) -> str:
        return self.person.language


Handler = Callable[[Context], Reply]
PromptHandler = Callable[[Context, Prompt], Reply]


@dataclass
class CommandSpec:
    handler: Handler
    roles: frozenset[str] | None = None  # None: everyone
    summary: str = ""


@dataclass
class CommandRegistry:
    """Commands by name and alias; later features register theirs here (leader commands)."""

    specs: dict[str, CommandSpec] = field(default_factory=dict)
    canonical: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        names: tuple[str, ...],
        handler: Handler,
        roles: set[str] | None = None,
        summary: str = "",
    ) -> None:
        spec = CommandSpec(handler, frozenset(roles) if roles else None, summary)
        for name in names:
            self.specs[name] = spec
            self.canonical[name] = names[0]

    def get(self, name: str) -> CommandSpec | None:
        return self.specs.get(name.lower().lstrip("/"))

    def restricted(self) -> list[str]:
        """Names of commands only some roles may use (shown in the leader's help)."""
        return sorted({self.canonical[n] for n, s in self.specs.items() if s.roles})


class Conversation:
    """Platform-neutral dialogue: takes inbound events, returns replies, keeps state in SQL."""

    def __init__(
        self,
        db: Database,
        survey: Survey,
        config: EngineConfig | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.db = db
        self.survey = survey
        self.config = config or EngineConfig()
        self.clock = clock
        self.commands = CommandRegistry()
        self.round_closed_hooks: list[Callable[[int], None]] = []
        # Features (employee commands, the learning network) register themselves here;
        # bot.app.assemble() does it, so the engine imports none of them.
        self.prompt_handlers: dict[str, PromptHandler] = {}

    # ----------------------------------------------------------------- inbound events

    def handle(self, event: InboundEvent) -> Reply:
        """Answer one inbound event. Invalid input changes nothing and gets a clear reply.

        Platform deliveries come through `bot.inbound.receive`, which claims the delivery and
        calls `respond` in the same transaction; this is the same without a delivery.
        """
        now = self.clock()
        after: list[Callable[[], None]] = []
        try:
            with self.db.transaction() as session:
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
    ) -> Reply:
        """The reply to `event` from `person` (None: nobody is bound to the chat), inside the
        caller's transaction; `after` collects what must run once it is committed."""
        if person is None:
            return self._stranger(session, event, now)
        if isinstance(event, Command):
            return self._command(session, person, event, now, after)
        if isinstance(event, ChoicePressed):
            return self._choice(session, person, event, now)
        return self._text(session, person, event, now)

    def duplicate_reply(self, event: InboundEvent) -> Reply:
        """Two presses raced for the same question and the database let the first one win."""
        log.info("duplicate answer rejected by the database")
        return Reply(notice=t(self._language_of(event.address), "already_answered"), messages=[])

    def greet(self, address: Address) -> Reply:
        """First contact for a person already bound to this address (console, Slack sync)."""
        now = self.clock()
        with self.db.transaction() as session:
            person = people.by_address(session, address.platform, address.chat_id)
            if person is None:
                return Reply([OutgoingMessage(t(self.config.default_language, "not_registered"))])
            if person.onboarded_at is None:
                return Reply(self.first_contact(session, person, now))
            steps = self.next_step(session, person, now)
            greeting = "welcome_back"  # "Skriv /puls" only when there is something to answer
            if person.status == "active" and not steps:
                open_round = answers.current_round(session) is not None
                greeting = "day_welcome_back_done" if open_round else "day_welcome_back_no_round"
            return Reply([OutgoingMessage(t(person.language, greeting)), *steps])

    def _language_of(self, address: Address) -> str:
        with self.db.transaction() as session:
            person = people.by_address(session, address.platform, address.chat_id)
            return person.language if person else self.config.default_language

    def _stranger(self, session: Session, event: InboundEvent, now: dt.datetime) -> Reply:
        lang = self.config.default_language
        if isinstance(event, Command) and event.name == "start":
            if not event.args:
                return Reply([OutgoingMessage(t(lang, "start_no_code"))])
            person, status = people.redeem_invite_code(session, event.args[0], now)
            if person is None:
                return Reply([OutgoingMessage(t(lang, f"code_{status}"))])
            people.bind_address(session, person, event.address.platform, event.address.chat_id, now)
            log.info("person %s registered on %s", person.id, event.address.platform)
            return Reply(self.first_contact(session, person, now))
        if isinstance(event, ChoicePressed):
            return Reply(notice=t(lang, "stale_button"), unknown_sender=True)
        return Reply([OutgoingMessage(t(lang, "not_registered"))], unknown_sender=True)

    def _command(
        self,
        session: Session,
        person: Person,
        event: Command,
        now: dt.datetime,
        after: list[Callable[[], None]],
    ) -> Reply:
        spec = self.commands.get(event.name)
        if spec is None:
            return Reply([OutgoingMessage(t(person.language, "unknown_command"))])
        if spec.roles is not None and person.role not in spec.roles:
            log.info("refused %s for role %s", event.name, person.role)
            return Reply([OutgoingMessage(t(person.language, "not_allowed"))])
        context = Context(session, person, event.address, event.args, now, self, after)
        return spec.handler(context)

    # ----------------------------------------------------------------- first contact

    def first_contact(
        self, session: Session, person: Person, now: dt.datetime
    ) -> list[OutgoingMessage]:
        """Greeting, the anonymity promise, then background questions or the pulse."""
        lang = person.language
        messages = [
            OutgoingMessage(
                t(
                    lang,
                    "welcome",
                    name=person.name.split(" ")[0],
                    organisation=self.config.organisation,
                )
                + "\n\n"
                + t(lang, "promise", k=self.config.k)
            )
        ]
        if self._background_left(person):
            messages.append(OutgoingMessage(t(lang, "background_intro")))
        messages.extend(self.next_step(session, person, now))
        return messages

    def _background_left(self, person: Person) -> list[str]:
        known = {q.id: getattr(person, q.id, None) for q in self.survey.background}
        return background_to_ask(self.survey, known, set(person.skipped_background or []))

    # ----------------------------------------------------------------- what comes next

    def next_step(
        self, session: Session, person: Person, now: dt.datetime, explicit: bool = False
    ) -> list[OutgoingMessage]:
        """The next message this person should see, decided only from storage."""
        lang = person.language
        left = self._background_left(person)
        if person.onboarded_at is None:
            if left:
                return [self._background_question(session, person, left[0], now)]
            person.onboarded_at = now
            round_ = answers.current_round(session)
            if round_ is None or person.status != "active":
                return [OutgoingMessage(t(lang, "onboarded_next"))]
            return [
                OutgoingMessage(t(lang, "onboarded_open")),
                *self._pulse_step(session, person, round_, now),
            ]
        if person.status != "active":
            return []
        round_ = answers.current_round(session)
        if round_ is None:
            return [OutgoingMessage(t(lang, "no_round"))] if explicit else []
        return self._pulse_step(session, person, round_, now, explicit=explicit)

    def _pulse_step(
        self,
        session: Session,
        person: Person,
        round_: Round,
        now: dt.datetime,
        explicit: bool = True,
    ) -> list[OutgoingMessage]:
        invitation = self.ensure_invitation(session, round_, person)
        if invitation.status != "invited":
            return [OutgoingMessage(t(person.language, "already_done"))] if explicit else []
        pending = answers.pending_answers(session, invitation.id)
        sequence = self._expanded(session, invitation, pending)
        remaining = [q for q in sequence if q not in pending]
        if not remaining:
            return self._finish(session, person, invitation, now)
        messages: list[OutgoingMessage] = []
        if not pending:
            factors = len({q.split(".")[0] for q in sequence if "." in q})
            taps = sum(1 for q in sequence if not self.survey.question(q).is_free_text)
            messages.append(
                OutgoingMessage(t(person.language, "pulse_intro", factors=factors, taps=taps))
            )
        position, total = self._counter(invitation, remaining[0])
        messages.append(
            self._pulse_question(session, person, invitation, remaining[0], position, total, now)
        )
        return messages

    def ensure_invitation(self, session: Session, round_: Round, person: Person) -> Invitation:
        """The person's invitation to the open round, created (with its plan) if missing."""
        invitation = answers.invitation_for(session, round_.id, person.id)
        if invitation is None:
            slot = answers.take_slots(session, round_)
            invitation = answers.invite(session, round_, person.id, self._plan(round_, slot))
        return invitation

    def _plan(self, round_: Round, slot: int) -> list[str]:
        plan = plan_for_slot(
            slot, round_.number, self.survey.factor_ids, self.survey.extra_ids(), round_.per_pulse
        )
        return plan.question_ids()

    def _sequence(self, invitation: Invitation) -> list[str]:
        """The plan, with follow-ups inserted where an earlier answer asks for them."""
        return list(invitation.plan or [])

    def _counter(self, invitation: Invitation, qid: str) -> tuple[int | None, int | None]:
        """ "(3 av 7)" counts the planned questions only: a follow-up ("Hva skal til ...?")
        has no number, so the total never jumps from "7 av 7" to "8 av 8"."""
        plan = self._sequence(invitation)
        return (plan.index(qid) + 1, len(plan)) if qid in plan else (None, None)

    def _expanded(
        self,
        session: Session,
        invitation: Invitation,
        pending: dict[str, PendingAnswer] | None = None,
    ) -> list[str]:
        """`pending`: the invitation's pending answers, when the caller has read them."""
        sequence = self._sequence(invitation)
        if pending is None:
            pending = answers.pending_answers(session, invitation.id)
        out: list[str] = []
        for qid in sequence:
            out.append(qid)
            follow = self.survey.follow_up_for(qid)
            if follow and qid in pending and str(pending[qid].value) == follow.when_value:
                out.append(follow.id)
        return out

    # ----------------------------------------------------------------- rendering

    def _scale_text(self, question: Question, lang: str) -> str:
        scale = question.scale
        if scale is None or scale.kind != "numeric":
            return ""
        lo, hi = scale.labels.get(scale.min), scale.labels.get(scale.max)
        if not lo or not hi:
            return ""
        return "\n" + t(
            lang, "scale_ends", lo=scale.min, lo_label=lo[lang], hi=scale.max, hi_label=hi[lang]
        )

    def question_text(
        self, question: Question, lang: str, position: int | None = None, total: int | None = None
    ) -> str:
        head = f"({t(lang, 'progress', n=position, total=total)}) " if position and total else ""
        lines = []
        if question.context:
            lines.append(f"{head}«{question.context[lang]}»")
            lines.append(question.text[lang])
        else:
            lines.append(f"{head}{question.text[lang]}")
        if question.is_free_text:
            lines.append(t(lang, "text_hint"))
        return "\n".join(lines) + self._scale_text(question, lang)

    def _choices(
        self, question: Question, token: str, lang: str, skippable: bool
    ) -> tuple[Choice, ...]:
        choices: list[Choice] = []
        if question.scale is not None:
            numeric = question.scale.kind == "numeric"
            for value in question.scale.values():
                label = value if numeric else question.scale.label(value, lang)
                choices.append(Choice(label, f"{token}:{value}"))
        if skippable:
            choices.append(Choice(t(lang, "skip"), f"{token}:{SKIP}"))
        return tuple(choices)

    def _pulse_question(
        self,
        session: Session,
        person: Person,
        invitation: Invitation,
        qid: str,
        position: int | None,
        total: int | None,
        now: dt.datetime,
    ) -> OutgoingMessage:
        question = self.survey.question(qid)
        token = prompts.create(session, person.id, "pulse", now, invitation.id, qid)
        lang = person.language
        return OutgoingMessage(
            self.question_text(question, lang, position, total),
            self._choices(question, token, lang, skippable=question.is_free_text),
            free_text=question.is_free_text,
        )

    def _background_question(
        self, session: Session, person: Person, qid: str, now: dt.datetime
    ) -> OutgoingMessage:
        question = self.survey.question(qid)
        token = prompts.create(session, person.id, "background", now, question_id=qid)
        lang = person.language
        return OutgoingMessage(
            question.text[lang], self._choices(question, token, lang, skippable=True)
        )

    # ----------------------------------------------------------------- button presses

    def _choice(
        self, session: Session, person: Person, event: ChoicePressed, now: dt.datetime
    ) -> Reply:
        lang = person.language
        if not well_formed(event.data):
            log.info("press with malformed data ignored")
            return Reply(notice=t(lang, "stale_button"))
        token, _, value = event.data.partition(":")
        prompt = prompts.find(session, token)
        if prompt is None or prompt.person_id != person.id or not value:
            log.info("press with an unknown or foreign token ignored")
            return Reply(notice=t(lang, "stale_button"))
        if prompt.used_at is not None:
            return Reply(notice=t(lang, "already_answered"))
        if prompt.purpose == "pulse":
            return self._pulse_answer(session, person, prompt, value, None, now)
        if prompt.purpose == "background":
            return self._background_answer(session, person, prompt, value, now)
        handler = self.prompt_handlers.get(prompt.purpose)
        if handler is None:
            return Reply(notice=t(lang, "stale_button"))
        if not prompts.claim(session, prompt.token, now):
            return Reply(notice=t(lang, "already_answered"))
        return handler(Context(session, person, event.address, (value,), now, self), prompt)

    def _background_answer(
        self, session: Session, person: Person, prompt: Prompt, value: str, now: dt.datetime
    ) -> Reply:
        lang = person.language
        question = self.survey.question(prompt.question_id or "")
        if value != SKIP and (question.scale is None or not question.scale.is_valid(value)):
            return Reply(notice=t(lang, "invalid_value"))
        if not prompts.claim(session, prompt.token, now):
            return Reply(notice=t(lang, "already_answered"))
        if value == SKIP:
            person.skipped_background = [*(person.skipped_background or []), question.id]
            label = t(lang, "skip")
        else:
            setattr(person, question.id, value)
            label = question.scale.label(value, lang) if question.scale else value
        edit = OutgoingMessage(question.text[lang] + "\n" + t(lang, "chosen", label=label))
        return Reply(edit=edit, messages=self.next_step(session, person, now))

    def _pulse_answer(
        self,
        session: Session,
        person: Person,
        prompt: Prompt,
        value: str | None,
        text: str | None,
        now: dt.datetime,
    ) -> Reply:
        lang = person.language
        invitation = session.get(Invitation, prompt.invitation_id) if prompt.invitation_id else None
        round_ = session.get(Round, invitation.round_id) if invitation else None
        if (
            invitation is None
            or round_ is None
            or round_.status != "open"
            or invitation.status != "invited"
        ):
            return Reply(notice=t(lang, "stale_button"))
        qid = prompt.question_id or ""
        pending = answers.pending_answers(session, invitation.id)  # read once per press
        sequence = self._expanded(session, invitation, pending)
        if qid not in sequence:
            log.info("answer to a question outside the person's pulse ignored")
            return Reply(notice=t(lang, "stale_button"))
        question = self.survey.question(qid)
        stored_value: int | None = None
        stored_text: str | None = None
        if question.is_free_text:
            if value not in (None, SKIP):
                return Reply(notice=t(lang, "invalid_value"))
            if value is None:
                stored_text = text
        else:
            if value is None or question.scale is None or not question.scale.is_valid(value):
                return Reply(notice=t(lang, "invalid_value"))
            stored_value = int(value)
        if not prompts.claim(session, prompt.token, now):
            return Reply(notice=t(lang, "already_answered"))
        pending = {
            **pending,
            qid: answers.store_pending(session, invitation.id, qid, stored_value, stored_text),
        }
        position, total = self._counter(invitation, qid)
        if question.is_free_text:
            label = t(lang, "text_saved") if stored_text else t(lang, "skip")
            edit = OutgoingMessage(
                self.question_text(question, lang, position, total) + "\n" + label
            )
        else:
            label = question.scale.label(value or "", lang) if question.scale else str(value)
            edit = OutgoingMessage(
                self.question_text(question, lang, position, total)
                + "\n"
                + t(lang, "chosen", label=label)
            )
        return Reply(edit=edit, messages=self._continue(session, person, invitation, now, pending))

    def _continue(
        self,
        session: Session,
        person: Person,
        invitation: Invitation,
        now: dt.datetime,
        pending: dict[str, PendingAnswer],
    ) -> list[OutgoingMessage]:
        sequence = self._expanded(session, invitation, pending)
        remaining = [q for q in sequence if q not in pending]
        if not remaining:
            return self._finish(session, person, invitation, now)
        position, total = self._counter(invitation, remaining[0])
        return [
            self._pulse_question(session, person, invitation, remaining[0], position, total, now)
        ]

    # ----------------------------------------------------------------- free text

    def _text(
        self, session: Session, person: Person, event: TextReceived, now: dt.datetime
    ) -> Reply:
        lang = person.language
        confirmed = self._typed_confirmation(session, person, event, now)
        if confirmed is not None:
            return confirmed
        prompt = self._open_text_prompt(session, person)
        if prompt is None:
            if self._has_open_question(session, person, now):
                return Reply([OutgoingMessage(t(lang, "use_buttons"))])
            return Reply([OutgoingMessage(t(lang, "nothing_to_do"))])
        question = self.survey.question(prompt.question_id or "")
        raw = event.text or ""
        if len(raw) > question.max_chars * 4:
            return Reply([OutgoingMessage(t(lang, "text_too_long", max=question.max_chars))])
        cleaned = clean_text(raw, 0)
        if not cleaned:
            return Reply([OutgoingMessage(t(lang, "text_empty"))])
        if len(cleaned) > question.max_chars:
            return Reply([OutgoingMessage(t(lang, "text_too_long", max=question.max_chars))])
        reply = self._pulse_answer(session, person, prompt, None, cleaned, now)
        if reply.edit is None:  # not stored (the round closed, a second answer): say why
            return Reply([OutgoingMessage(reply.notice)] if reply.notice else [])
        # A typed answer has no pressed message to edit; say thanks in the chat instead.
        thanks = t(lang, "text_saved")
        return Reply(messages=[OutgoingMessage(thanks), *reply.messages], answered=thanks)

    def _open_text_prompt(self, session: Session, person: Person) -> Prompt | None:
        for prompt in prompts.unused(session, person.id, "pulse"):
            if prompt.question_id and self.survey.question(prompt.question_id).is_free_text:
                return prompt
        return None

    def _typed_confirmation(
        self, session: Session, person: Person, event: TextReceived, now: dt.datetime
    ) -> Reply | None:
        """ "ja"/"yes" (or "nei"/"avbryt") typed at /slett's question counts as the button."""
        word = " ".join((event.text or "").casefold().replace(",", " ").replace("!", " ").split())
        value = "yes" if word in TYPED_YES else "no" if word in TYPED_NO else None
        if value is None:
            return None
        token = prompts.open_delete_question(session, person.id, since=now - CONFIRM_FOR)
        if token is None:
            return None
        reply = self._choice(session, person, ChoicePressed(event.address, f"{token}:{value}"), now)
        # A typed answer has no pressed message to edit: the outcome becomes a message.
        return Reply([*([reply.edit] if reply.edit else []), *reply.messages], notice=reply.notice)

    def _has_open_question(self, session: Session, person: Person, now: dt.datetime) -> bool:
        """Whether a question waits for a press: a background question, a pulse still under
        way, or a recent /slett or /språk question."""
        return prompts.has_open_question(session, person.id, since=now - CONFIRM_FOR)

    # ----------------------------------------------------------------- finishing

    def _finish(
        self, session: Session, person: Person, invitation: Invitation, now: dt.datetime
    ) -> list[OutgoingMessage]:
        lang = person.language
        feedback = self._feedback(session, person, invitation)
        today = now.astimezone(self.config.tz).date()
        answers.seal(session, invitation, person, today, complete=True, k=self.config.k)
        answers.flush_holding(session, invitation.round_id, self.config.k)
        log.info("a pulse was finished")
        messages = [OutgoingMessage(t(lang, "done"))]
        if feedback:
            messages.append(OutgoingMessage(feedback))
        return messages

    def _feedback(self, session: Session, person: Person, invitation: Invitation) -> str | None:
        """One thing back: last round's mean in their municipality, if the group is big enough."""
        if not person.municipality:
            return None
        round_ = session.get(Round, invitation.round_id)
        previous = answers.latest_closed_round(
            session, before_number=round_.number if round_ else None
        )
        if previous is None:
            return None
        for qid in invitation.plan or []:
            if not qid.endswith(".exp"):
                continue
            shown_mean = releases.release_group_mean(
                session, previous.id, qid[:-4], "municipality", person.municipality,
                self.config.k, "feedback", self.clock().date(),
            )  # fmt: skip
            if shown_mean is not None:
                mean, n = shown_mean
                lang = person.language
                factor = self.survey.factor(qid.split(".")[0]).short[lang]
                name = self.survey.scales["municipality"].label(person.municipality, lang)
                shown = f"{mean:.1f}".replace(".", ",") if lang != "en" else f"{mean:.1f}"
                return t(lang, "done_feedback", municipality=name, mean=shown, factor=factor, n=n)
        return None

    # ----------------------------------------------------------------- rounds

    def open_round(self, now: dt.datetime | None = None, days: int | None = None) -> Round:
        """Open a round, invite everyone reachable, and queue each first question in the outbox."""
        now = now or self.clock()
        with self.db.transaction() as session:
            return self.open_round_in(session, now, days)

    def open_round_in(self, session: Session, now: dt.datetime, days: int | None = None) -> Round:
        days = days or self.config.round_days
        round_ = answers.open_round(
            session, now, now + dt.timedelta(days=days), self.config.per_pulse
        )
        eligible = people.reachable_people(session)
        ready = {str(p.id): p for p in eligible if p.onboarded_at is not None}
        first_slot = answers.take_slots(session, round_, len(ready))
        order = seeded_order(ready, self.config.planning_secret)
        for slot, key in enumerate(order, start=first_slot):
            answers.invite(session, round_, ready[key].id, self._plan(round_, slot))
        for person in eligible:
            first = person.onboarded_at is None
            steps = (
                self.first_contact(session, person, now)
                if first
                else self.next_step(session, person, now)
            )
            self.queue(session, person, steps, f"round:{round_.number}:open", now)
        log.info("round %s opened", round_.number)
        return round_

    def close_round(self, now: dt.datetime | None = None) -> Round | None:
        """Close the open round (partial pulses are sealed anonymously) and call the hooks."""
        now = now or self.clock()
        with self.db.transaction() as session:
            round_ = self.close_round_in(session, now)
        if round_ is not None:
            self.run_round_closed_hooks(round_.id)
        return round_

    def close_round_in(self, session: Session, now: dt.datetime) -> Round | None:
        round_ = answers.current_round(session)
        if round_ is None:
            return None
        answers.close_round(
            session, round_, now, now.astimezone(self.config.tz).date(), self.config.k
        )
        log.info("round %s closed", round_.number)
        return round_

    def run_round_closed_hooks(self, round_id: int) -> None:
        for hook in self.round_closed_hooks:
            try:
                hook(round_id)
            except Exception:  # a failing summary must not undo a closed round
                log.exception("a round-closed hook failed for round %s", round_id)

    def queue(
        self,
        session: Session,
        person: Person,
        messages: list[OutgoingMessage],
        key: str,
        now: dt.datetime,
        kind: str = "pulse",
    ) -> int:
        """Put messages for a person into the outbox (one row each, in order)."""
        address = people.preferred_address(session, person.id)
        if address is None:
            return 0
        return outbox.enqueue_all(
            session,
            key=f"{key}:person:{person.id}",
            platform=address.platform,
            chat_id=address.chat_id,
            kind=kind,
            payloads=[m.to_payload() for m in messages],
            now=now,
            person_id=person.id,
        )

    def set_language(self, session: Session, person: Person, value: str | None) -> str | None:
        lang = normalise_language(value)
        if lang:
            person.language = lang
        return lang
