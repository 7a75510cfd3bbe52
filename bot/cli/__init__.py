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
4. Add the module to `GROUPS` below.
"""

from __future__ import annotations

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

app = typer.Typer(
    help=h("app"),
    no_args_is_help=True,
    add_completion=False,
)

GROUPS = (
    demo, chat, roster, database, rounds, service, digest, invite, summary, dashboard, network, ops,
    teams,
)  # fmt: skip
for group in GROUPS:
    group.register(app)
localise(app)  # typer's own words around the help, in the same language


def main() -> None:  # pragma: no cover - console entry point
    app()
