"""The conversation engine: first contact, background questions, pulses — on any platform.

Every inbound event is handled in one database transaction, and every decision is made
from what storage holds, so a restart (or a second instance, or a second platform) continues
exactly where the person stopped.

`Conversation` is the facade the rest of the code imports, and the engine's face to its
features: the command registry and the `Context` a handler gets are defined here. The work
is done by parts a reader finds by name, each given only what it needs (no part imports
this module):

- `bot.routing` — which part answers an event (strangers, presses, typed text);
- `bot.pulse_flow` — first contact, the next step, storing answers, finishing a pulse;
- `bot.pulse_render` — how a question, its scale and its buttons look;
- `bot.round_admin` — opening and closing rounds, the outbox queue;
- `bot.quote_consent` — "Kan vi sitere deg anonymt?" after a comment;
- `bot.engine_base` — the config and the `Basis` (database, survey, knobs, clock) they share.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot import pulse_render
from bot.engine_base import (
    CONFIRM_FOR,
    MAX_CHOICE_DATA,
    SKIP,
    TYPED_NO,
    TYPED_YES,
    Basis,
    Clock,
    EngineConfig,
    system_clock,
    well_formed,
)
from bot.i18n import normalise_language, t
from bot.ports import (
    Address,
    Choice,
    ChoicePressed,
    Command,
    InboundEvent,
    OutgoingMessage,
    Reply,
)
from bot.pulse_flow import PulseFlow
from bot.round_admin import RoundAdmin
from bot.routing import Router
from storage import prompts
from storage.db import Database
from storage.models import Invitation, Person, Prompt, Round
from surveys.definition import Question, Survey

__all__ = [
    "CONFIRM_FOR",
    "MAX_CHOICE_DATA",
    "SKIP",
    "TYPED_NO",
    "TYPED_YES",
    "Clock",
    "CommandRegistry",
    "CommandSpec",
    "Context",
    "Conversation",
    "EngineConfig",
    "Handler",
    "PromptHandler",
    "system_clock",
    "well_formed",
]

log = logging.getLogger(__name__)


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
        self.basis = Basis(db, survey, config or EngineConfig(), clock)
        self.commands = CommandRegistry()
        self.round_closed_hooks: list[Callable[[int], None]] = []
        # Features (employee commands, the learning network) register themselves here;
        # bot.app.assemble() does it, so the engine imports none of them.
        self.prompt_handlers: dict[str, PromptHandler] = {}
        self.flow = PulseFlow(self.basis)
        self.rounds = RoundAdmin(self.basis, self.flow, self.round_closed_hooks)
        self.routing = Router(self.basis, self.flow, self._run_command, self._run_prompt)

    # What every part reads lives in `basis`; set here, every part sees the change.
    @property
    def db(self) -> Database:
        return self.basis.db

    @db.setter
    def db(self, value: Database) -> None:
        self.basis.db = value

    @property
    def survey(self) -> Survey:
        return self.basis.survey

    @survey.setter
    def survey(self, value: Survey) -> None:
        self.basis.survey = value

    @property
    def config(self) -> EngineConfig:
        return self.basis.config

    @config.setter
    def config(self, value: EngineConfig) -> None:
        self.basis.config = value

    @property
    def clock(self) -> Clock:
        return self.basis.clock

    @clock.setter
    def clock(self, value: Clock) -> None:
        self.basis.clock = value

    # ----------------------------------------------------------------- features

    def _run_command(
        self,
        session: Session,
        person: Person,
        event: Command,
        now: dt.datetime,
        after: list[Callable[[], None]],
    ) -> Reply:
        """A registered command, if the person's role allows it."""
        spec = self.commands.get(event.name)
        if spec is None:
            return Reply([OutgoingMessage(t(person.language, "unknown_command"))])
        if spec.roles is not None and person.role not in spec.roles:
            log.info("refused %s for role %s", event.name, person.role)
            return Reply([OutgoingMessage(t(person.language, "not_allowed"))])
        return spec.handler(Context(session, person, event.address, event.args, now, self, after))

    def _run_prompt(
        self,
        session: Session,
        person: Person,
        event: ChoicePressed,
        prompt: Prompt,
        value: str,
        now: dt.datetime,
    ) -> Reply:
        """A press on a feature's button (/slett, /språk, a task …), claimed once."""
        handler = self.prompt_handlers.get(prompt.purpose)
        if handler is None:
            return Reply(notice=t(person.language, "stale_button"))
        if not prompts.claim(session, prompt.token, now):
            return Reply(notice=t(person.language, "already_answered"))
        return handler(Context(session, person, event.address, (value,), now, self), prompt)

    # ----------------------------------------------------------------- inbound (bot.routing)

    def handle(self, event: InboundEvent) -> Reply:
        """Answer one inbound event. Invalid input changes nothing and gets a clear reply.

        Platform deliveries come through `bot.inbound.receive`, which claims the delivery and
        calls `respond` in the same transaction; this is the same without a delivery.
        """
        return self.routing.handle(event)

    def respond(
        self,
        session: Session,
        person: Person | None,
        event: InboundEvent,
        now: dt.datetime,
        after: list[Callable[[], None]],
        press: prompts.Press | None = None,
    ) -> Reply:
        """The reply to `event` from `person` (None: nobody is bound to the chat), inside the
        caller's transaction; `after` collects what must run once it is committed; `press`:
        what the caller read for a button press already (`storage.prompts.read_press`)."""
        return self.routing.respond(session, person, event, now, after, press)

    def duplicate_reply(self, event: InboundEvent) -> Reply:
        return self.routing.duplicate_reply(event)

    def greet(self, address: Address) -> Reply:
        """First contact for a person already bound to this address (console, Slack sync)."""
        return self.routing.greet(address)

    # ----------------------------------------------------------------- steps (bot.pulse_flow)

    def first_contact(
        self, session: Session, person: Person, now: dt.datetime
    ) -> list[OutgoingMessage]:
        """Greeting, the anonymity promise, then background questions or the pulse."""
        return self.flow.first_contact(session, person, now)

    def next_step(
        self, session: Session, person: Person, now: dt.datetime, explicit: bool = False
    ) -> list[OutgoingMessage]:
        """The next message this person should see, decided only from storage."""
        return self.flow.next_step(session, person, now, explicit)

    # ----------------------------------------------------------------- look (bot.pulse_render)

    def question_text(
        self, question: Question, lang: str, position: int | None = None, total: int | None = None
    ) -> str:
        return pulse_render.question_text(question, lang, position, total)

    def _choices(
        self, question: Question, token: str, lang: str, skippable: bool
    ) -> tuple[Choice, ...]:
        return pulse_render.choices(question, token, lang, skippable)

    # ----------------------------------------------------------------- rounds (bot.round_admin)

    def open_round(self, now: dt.datetime | None = None, days: int | None = None) -> Round:
        """Open a round, invite everyone reachable, and queue each first question in the outbox."""
        return self.rounds.open_round(now, days)

    def open_round_in(self, session: Session, now: dt.datetime, days: int | None = None) -> Round:
        return self.rounds.open_round_in(session, now, days)

    def close_round(self, now: dt.datetime | None = None) -> Round | None:
        """Close the open round (partial pulses are sealed anonymously) and call the hooks."""
        return self.rounds.close_round(now)

    def close_round_in(self, session: Session, now: dt.datetime) -> Round | None:
        return self.rounds.close_round_in(session, now)

    def run_round_closed_hooks(self, round_id: int) -> None:
        self.rounds.run_round_closed_hooks(round_id)

    def ensure_invitation(self, session: Session, round_: Round, person: Person) -> Invitation:
        """The person's invitation to the open round, created (with its plan) if missing."""
        return self.flow.ensure_invitation(session, round_, person)

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
        return self.rounds.queue(session, person, messages, key, now, kind)

    # ----------------------------------------------------------------- the person

    def set_language(self, session: Session, person: Person, value: str | None) -> str | None:
        lang = normalise_language(value)
        if lang:
            person.language = lang
        return lang
