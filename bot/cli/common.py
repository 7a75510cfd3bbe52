"""What every command shares: settings, the engine, the console, the leader's language and
the help texts in that language.

Nothing heavy is imported at module level (see bot/cli/__init__.py).
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

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


# --------------------------------------------------------------------------- help texts


def help_language() -> str:
    """The language of `beholde --help`: BEHOLDE_LANGUAGE from the environment, else from
    ./.env (as the settings read it), else nb — without loading pydantic-settings."""
    value = os.environ.get("BEHOLDE_LANGUAGE")
    if value is None:
        value = _dotenv_language(Path(".env"))
    value = (value or "").strip().lower()
    return value if value in ("nb", "nn", "en") else "nb"


def _dotenv_language(path: Path) -> str | None:
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        name, sep, value = line.strip().removeprefix("export ").partition("=")
        if sep and name.strip() == "BEHOLDE_LANGUAGE":
            return value.split("#")[0].strip().strip("'\"")
    return None


HELP_LANGUAGE = help_language()


TEXTS = Path(__file__).resolve().parent.parent / "texts"
# One `key: "text"` line without escapes: what YAML reads as exactly that text.
_PLAIN_LINE = re.compile(r'([\w.]+): "([^"\\]*)"')


@cache
def help_texts(lang: str) -> dict[str, str]:
    """Only `bot/texts/clihelp.<lang>.yaml`: `--help` need not parse the whole catalogue
    (≈ 10 ms; the same texts are in it, and tests/test_texts.py checks all three languages).
    A file of plain `key: "text"` lines is read without PyYAML (its import is ≈ 25 ms of a
    ≈ 300 ms `beholde --help` on the loaded test machine); anything else is left to YAML."""
    # A plain path, not importlib.resources (≈ 10 ms of imports): bot/ is never zipped.
    return parse_help((TEXTS / f"clihelp.{lang}.yaml").read_text("utf-8"))


def parse_help(raw: str) -> dict[str, str]:
    """The texts of a help file: plain lines directly, any other file through YAML."""
    texts: dict[str, str] = {}
    for line in raw.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        plain = _PLAIN_LINE.fullmatch(line.rstrip())
        if plain is None:
            return _yaml_texts(raw)
        texts[plain[1]] = plain[2]
    return texts


def _yaml_texts(raw: str) -> dict[str, str]:
    import yaml

    from bot.i18n import SAFE_LOADER

    return {str(k): str(v).rstrip("\n") for k, v in yaml.load(raw, Loader=SAFE_LOADER).items()}


def h(key: str) -> str:
    """A help text (`clihelp.<key>`) in the CLI's language; a missing one is a KeyError."""
    return help_texts(HELP_LANGUAGE)[f"clihelp.{key}"]


def _localise_chrome() -> None:
    """typer's own words around the help ("Options", "[default: …]") in the CLI's language.
    They are module settings of typer.rich_utils, which typer imports only to draw help."""
    from typer import rich_utils

    rich_utils.OPTIONS_PANEL_TITLE = h("chrome.options")
    rich_utils.ARGUMENTS_PANEL_TITLE = h("chrome.arguments")
    rich_utils.COMMANDS_PANEL_TITLE = h("chrome.commands")
    rich_utils.DEFAULT_STRING = h("chrome.default")
    rich_utils.REQUIRED_LONG_STRING = h("chrome.required")
    rich_utils.ERRORS_PANEL_TITLE = h("chrome.error")
    rich_utils.RICH_HELP = h("chrome.try_help")


class _Localised:
    """The usage line, the help option and typer's panel titles in the CLI's language."""

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=h("chrome.usage") + " ")

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = h("chrome.help_option")
        return option

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _localise_chrome()
        super().format_help(ctx, formatter)  # type: ignore[misc]

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # A usage error is drawn in the same frame as the help: localise it first. (click's
        # own sentence inside it, e.g. "Missing argument", stays click's.)
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc]
        except Exception:
            _localise_chrome()
            raise


class HelpCommand(_Localised, TyperCommand):
    """A command whose help frame is in the CLI's language."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.options_metavar == "[OPTIONS]":
            self.options_metavar = h("chrome.options_metavar")


class HelpGroup(_Localised, TyperGroup):
    """A command group whose help frame is in the CLI's language."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.options_metavar == "[OPTIONS]":
            self.options_metavar = h("chrome.options_metavar")
        if self.subcommand_metavar == "COMMAND [ARGS]...":
            self.subcommand_metavar = h("chrome.subcommand_metavar")

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except Exception:  # "No such command" is drawn in the same frame as the help
            _localise_chrome()
            raise


def localise(app: typer.Typer) -> None:
    """Draw the help of `app`, its commands and its groups (recursively) in the CLI's
    language; the texts themselves come from `h()` where each command is declared."""
    app.info.cls = app.info.cls or HelpGroup
    for command in app.registered_commands:
        if command.cls in (None, TyperCommand):  # typer's default, not a class of our own
            command.cls = HelpCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            localise(group.typer_instance)
