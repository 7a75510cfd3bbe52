"""What every command shares: settings, the engine, the console and the leader's language.

Nothing heavy is imported at module level (see bot/cli/__init__.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from bot.conversation import Conversation
    from bot.settings import Settings
    from storage.db import Database

console = Console()
err_console = Console(stderr=True)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment/.env; a bad value stops here with a clear message."""
    from pydantic import ValidationError

    from bot.app import setup_logging
    from bot.settings import Settings, explain

    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        console.print(explain(error), style="red", markup=False)
        raise typer.Exit(2) from None
    setup_logging(settings.log_level)
    return settings


def engine_from(settings: Settings) -> Conversation:
    """The assembled engine on a migrated database; a bad survey file or a database that
    cannot be reached stops here, in one sentence."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.app import build
    from surveys.definition import SurveyError

    try:
        return build(settings)
    except SurveyError as error:
        say(settings.language, "cli_cannot_start", style="red", error=str(error))
        raise typer.Exit(2) from None
    except SQLAlchemyError as error:
        raise database_failed(settings, error) from None


def database_from(settings: Settings) -> Database:
    """Only the migrated database, for commands that read counts and need no engine."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.app import database

    try:
        return database(settings)
    except SQLAlchemyError as error:
        raise database_failed(settings, error) from None


def database_failed(settings: Settings, error: Exception) -> typer.Exit:
    """One sentence naming the setting BEHOLDE_DATABASE_URL (password hidden) and the
    driver's first line — never the traceback (exit code 2)."""
    from sqlalchemy.engine import make_url

    try:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: show none of it
        where = "?"
    cause = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    reason = (lines[0] if lines else type(cause).__name__)[:200]
    say(settings.language, "leader_db_unreachable", style="red", where=where, reason=reason)
    return typer.Exit(2)


def text(lang: str, key: str, **values: Any) -> str:
    """A text from the catalogue (`bot/texts/cli.<lang>.yaml` for the CLI's own)."""
    from bot.i18n import t

    return t(lang, key, **values)


def say(lang: str, key: str, *, style: str | None = None, err: bool = False, **values: Any) -> None:
    """Print a catalogue text; never as rich markup, since values may hold names or paths."""
    (err_console if err else console).print(text(lang, key, **values), style=style, markup=False)


def fail(lang: str, key: str, code: int = 1, **values: Any) -> typer.Exit:
    """Print a catalogue text in red; the caller raises the returned exit."""
    say(lang, key, style="red", **values)
    return typer.Exit(code)
