"""The engine's shared vocabulary: configuration, the command registry and a handler's context.

Kept apart from `bot.conversation` so that the engine's parts (routing, the pulse flow, round
administration) and its features (`bot.commands`, `bot.network_commands`) can all use these
types without importing the engine itself — no import cycle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.ports import Address, Reply
from storage.models import Person, Prompt

if TYPE_CHECKING:
    from bot.conversation import Conversation

Clock = Callable[[], dt.datetime]
SKIP = "skip"
MAX_CHOICE_DATA = 64

TYPED_YES = {"ja", "j", "yes", "y", "ja slett", "yes delete", "ja takk"}
TYPED_NO = {"nei", "n", "no", "avbryt", "cancel", "nei takk"}
CONFIRM_FOR = dt.timedelta(hours=1)  # how long a typed "ja" still answers /slett's question


def well_formed(data: str) -> bool:
    """Button data we issue is short printable ASCII; anything else is forged."""
    return 0 < len(data) <= MAX_CHOICE_DATA and data.isascii() and data.isprintable()


def typed_yes_no(text: str | None) -> str | None:
    """ "yes"/"no" for a typed "ja", "Nei takk!", "yes" …; None for anything else."""
    word = " ".join((text or "").casefold().replace(",", " ").replace("!", " ").split())
    return "yes" if word in TYPED_YES else "no" if word in TYPED_NO else None


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
    comment_threshold: int = 10  # comments a round needs before themes (or a quote) are shown
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
