"""The composition root: settings in, a ready conversation engine out.

The engine (`bot.conversation`) knows nothing of its features; they are registered here:
the employee commands (`bot.commands`) and the learning network's commands and buttons
(`bot.network_commands`). A new feature adds its `register(engine)` to `FEATURES`.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.settings import Settings, data_dir

if TYPE_CHECKING:
    from bot.conversation import Clock, Conversation, EngineConfig
    from storage.db import Database
    from surveys.definition import Survey

# The engine, the database and the survey are imported where they are used, so that a command
# that only reads the database (`beholde round status`) does not load the conversation engine.


def load_configured_survey(settings: Settings) -> Survey:
    from surveys.definition import load_survey

    survey = load_survey(settings.survey_file)
    names = settings.municipality_names()
    return survey.with_municipalities(names) if names else survey


def planning_secret(settings: Settings) -> str:
    """The configured planning secret, or one kept in a key file next to the default database."""
    if settings.planning_secret is not None:
        return settings.planning_secret.get_secret_value()
    path = data_dir() / "planning.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def engine_config(settings: Settings) -> EngineConfig:
    from bot.conversation import EngineConfig

    return EngineConfig(
        planning_secret=planning_secret(settings),
        k=settings.k_anonymity,
        organisation=settings.organisation,
        per_pulse=settings.factors_per_pulse,
        round_days=settings.round_days,
        tz=settings.tz,
        default_language=settings.language,
        comment_threshold=settings.comment_threshold,
    )


def register_employee_features(engine: Conversation) -> None:
    """/puls, /pause, /stopp, /hjelp, /meg, /slett, /språk, /runde and their buttons."""
    from bot.commands import PROMPT_HANDLERS, register_employee_commands

    register_employee_commands(engine.commands)
    engine.prompt_handlers.update(PROMPT_HANDLERS)


def register_network_features(engine: Conversation) -> None:
    """Gatherings, tasks, reminders and working hours (issue 5); `/samling ny` and
    `/oppgave ny` asked step by step (bot/drafts.py)."""
    from bot import drafts
    from bot.network_commands import register

    register(engine)
    drafts.register(engine)


def register_steering_features(engine: Conversation) -> None:
    """The leader's "Lag oppgave fra prioritet N" buttons under a posted summary (issue 12)."""
    from bot.dashboard.priority_buttons import register

    register(engine)


FEATURES: tuple[Callable[[Conversation], None], ...] = (
    register_employee_features,
    register_network_features,
    register_steering_features,
)


def assemble(
    db: Database,
    survey: Survey,
    config: EngineConfig | None = None,
    clock: Clock | None = None,
) -> Conversation:
    """An engine with every feature registered (tests use this too)."""
    from bot.conversation import Conversation, system_clock

    engine = Conversation(db, survey, config, clock or system_clock)
    for register in FEATURES:
        register(engine)
    return engine


def database(settings: Settings, migrate: bool = True) -> Database:
    """The configured database, migrated to the newest schema."""
    from storage.db import Database

    db = Database(settings.database_url)
    if migrate:
        db.upgrade()
    return db


def build(settings: Settings, clock: Clock | None = None, migrate: bool = True) -> Conversation:
    """Database (migrated), survey and engine, wired together."""
    db = database(settings, migrate)
    return assemble(db, load_configured_survey(settings), engine_config(settings), clock)


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    # Libraries log request URLs; Telegram's contain the bot token. Keep them quiet.
    for noisy in (
        "httpx",
        "httpcore",
        "telegram",
        "slack_bolt",
        "slack_sdk",
        "apscheduler",
        "alembic",  # its plugin and migration chatter is no news to the person at the terminal
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
