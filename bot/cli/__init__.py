"""The `beholde` command line, one module per command group (entry point `bot.cli:app`).

Each module in this package holds one group and a `register(app)` that adds its commands
(or a sub-Typer) to the app. `bot.cli.common` holds what they share: settings, the engine,
the console and the leader's language.

Adding a command group:
1. Write `bot/cli/<group>.py` with `def register(app: typer.Typer) -> None`.
2. Import only typer and the standard library at module level; import the rest (SQLAlchemy,
   storage, Slack, Telegram, pandas, matplotlib, ...) inside the command function, so that
   `beholde --help` and every other command do not pay for it. tests/test_cli_imports.py
   fails if `import bot.cli` pulls in a heavy library.
3. Put what the command prints in `bot/texts/cli.{nb,nn,en}.yaml` and print it with
   `common.say(...)`; put its help (command, options, arguments) in
   `bot/texts/clihelp.{nb,nn,en}.yaml` and pass it as `help=h("...")` — the docstring is for
   the reader of the code, the help is for the project leader, in BEHOLDE_LANGUAGE.
4. Add the module to `GROUPS` in `typer_app` below.

`beholde serve` is the one command that runs for months: a plain `serve [--host H]
[--port P]` starts without typer, rich and click, ~4 MB of an idle service (issue 13).
Anything else — `serve --help`, a bad option, every other command, and a start that fails
with a message to print — goes through the typer app.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer


@cache
def typer_app() -> typer.Typer:
    """The whole CLI, built on first use."""
    import typer

    from bot.cli import (
        chat,
        dashboard,
        database,
        demo,
        digest,
        invite,
        network,
        ops,
        roster,
        rounds,
        service,
        summary,
        teams,
    )
    from bot.cli.common import h, localise

    app = typer.Typer(help=h("app"), no_args_is_help=True, add_completion=False)
    groups = (
        demo, chat, roster, database, rounds, service, digest, invite, summary, dashboard,
        network, ops, teams,
    )  # fmt: skip
    for group in groups:
        group.register(app)
    localise(app)  # typer's own words around the help, in the same language
    return app


def plain_serve(argv: Sequence[str]) -> dict[str, Any] | None:
    """`serve` with at most `--host H` and `--port N` (also `--x=v`): its options; else None."""
    if not argv or argv[0] != "serve":
        return None
    options: dict[str, Any] = {}
    rest = list(argv[1:])
    while rest:
        name, sep, value = rest.pop(0).partition("=")
        if name not in ("--host", "--port") or name[2:] in options:
            return None
        if not sep:
            if not rest:
                return None
            value = rest.pop(0)
        if name == "--port":
            if not value.isascii() or not value.isdigit():
                return None
            options["port"] = int(value)
        else:
            options["host"] = value
    return options


def serve_quietly(host: str | None = None, port: int | None = None) -> bool:
    """What `beholde serve` does (bot/cli/service.py), without typer; False, having printed
    nothing, when the settings, the survey or the database refuse to start — the typer app
    then says why, in the words every other command uses."""
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    from bot.app import build, setup_logging
    from bot.settings import Settings
    from surveys.definition import SurveyError

    overrides: dict[str, Any] = {"http_host": host, "http_port": port}
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
        setup_logging(settings.log_level)
        engine = build(settings)
    except (ValidationError, SurveyError, SQLAlchemyError):
        return False
    from bot.cli.serving import run_serving

    run_serving(settings, engine)
    return True


class Cli:
    """`app`: called as the console entry point it serves without typer when it can, and runs
    the typer app otherwise; everything else (typer's CliRunner, `get_command`) sees the
    typer app through attribute access."""

    def __call__(self, args: Sequence[str] | None = None, **extra: Any) -> Any:
        options = plain_serve(sys.argv[1:] if args is None else args)
        if options is not None and not extra and serve_quietly(**options):
            return None
        return typer_app()(args, **extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(typer_app(), name)


app = Cli()


def main() -> None:  # pragma: no cover - console entry point
    app()
