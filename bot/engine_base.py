"""What every part of the engine shares: its configuration, the `Basis` it reads (database,
survey, knobs, clock), and small rules about buttons and typed yes/no.

The parts (`bot.routing`, `bot.pulse_flow`, `bot.round_admin`, …) get a `Basis` and the
parts they call, never the `Conversation` facade, so no arrow runs back up to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from storage.db import Database
from surveys.definition import Survey

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


DEFAULT_ORGANISATION = "læringsnettverket"  # the setting's default, said in each language


@dataclass
class EngineConfig:
    """The knobs of the conversation, taken from settings."""

    k: int = 5
    organisation: str = DEFAULT_ORGANISATION  # as configured; the default is translated
    per_pulse: int = 3
    round_days: int = 5
    tz: dt.tzinfo = dt.UTC
    default_language: str = "nb"
    comment_threshold: int = 10  # comments a round needs before themes (or a quote) are shown
    # Orders people for matrix sampling, stably across rounds. Kept outside the database so
    # that the database alone cannot tell which factors a person was asked.
    planning_secret: str = "beholde"


@dataclass
class Basis:
    """What every part of one engine reads; the facade's attributes of the same names."""

    db: Database
    survey: Survey
    config: EngineConfig
    clock: Clock
