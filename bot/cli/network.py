"""`beholde samling|oppgave|paminn …` (and `gathering|task|remind`): the leader's chat commands
in the terminal, running exactly the same code as in the chat; `beholde network` shows the
reminder policy and the pulse cadence.

    beholde samling ny "Samling 3: Fagutvikling" 12.03.2027 09:00 Gildeskål
    beholde oppgave ny "Forbered innlegg" frist 05.03.2027 alle
    beholde paminn oppgave 1 Fauske
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Annotated

import typer

from bot.cli.common import database_from, engine_from, fail, h, load_settings, say, text

# (the command's names, the chat command it runs); its help is `clihelp.<chat command>`.
GROUPS = (
    (("samling", "gathering"), "gathering"),
    (("oppgave", "task"), "task"),
    (("paminn", "remind"), "remind"),
)


def _run(command: str, words: list[str], language: str | None) -> None:
    from bot import network_commands as commands

    settings = load_settings()
    lang = language or settings.language
    engine = engine_from(settings)
    # typer has already removed the quotes; quote the title again so that it stays whole.
    # Only the first word with spaces is a title: `samling ny "Samling 3" "neste tirsdag"
    # 10:00` means a date after it, not a second quoted text.
    first = next((i for i, w in enumerate(words) if " " in w), None)
    args = [shlex.quote(w) if i == first else w for i, w in enumerate(words)]
    with engine.db.transaction() as session:
        extra = {}
        if command == "task":  # `oppgave ny fra prioritet N …` (issue 12)
            from bot.dashboard.commands import picker

            extra["priority"] = picker(session, engine, settings, lang, engine.clock())
        lines = getattr(commands, command)(
            session, commands.Actor(None, lang), args, engine.clock(), engine.config.tz, **extra
        )
    for line in lines:
        typer.echo(line)


def _make(command: str, help_text: str) -> Callable[..., None]:
    def run(
        words: Annotated[
            list[str] | None, typer.Argument(metavar=h("metavar.words"), help=h("network.words"))
        ] = None,
        english: Annotated[bool, typer.Option("--en", help=h("english"))] = False,
        language: Annotated[str | None, typer.Option(help=h("language"))] = None,
    ) -> None:
        _run(command, words or [], "en" if english else language)

    run.__doc__ = help_text
    return run


def register(app: typer.Typer) -> None:
    """Add the learning-network commands to the `beholde` CLI."""
    settings = {"allow_extra_args": True, "ignore_unknown_options": True}
    for names, command in GROUPS:
        help_text = h(command)
        for name in names:
            app.command(name, context_settings=settings, help=help_text)(_make(command, help_text))
    app.command("network", context_settings=settings, help=h("network"))(network_show)


NESTED = {name: command for names, command in GROUPS for name in names}


def network_show(
    what: Annotated[
        str | None,
        typer.Argument(metavar=h("metavar.what"), help=h("network.what")),
    ] = None,
    words: Annotated[
        list[str] | None, typer.Argument(metavar=h("metavar.words"), help=h("network.rest"))
    ] = None,
    english: Annotated[bool, typer.Option("--en", help=h("english"))] = False,
    language: Annotated[str | None, typer.Option(help=h("language"))] = None,
) -> None:
    """The learning network's reminder policy and pulse cadence (or `network digest`, or
    `network oppgave flytt 3 19.03.2027` and the other leader commands)."""
    from storage import network as store

    if what is not None and what.lower() in NESTED:
        _run(NESTED[what.lower()], words or [], "en" if english else language)
        return
    settings = load_settings()
    lang = "en" if english else language or settings.language
    if what not in (None, "digest") or words:
        raise fail(lang, "cli_network_usage", code=2)
    if what == "digest":
        from bot.digest import leader_digest_text

        engine = engine_from(settings)
        with engine.db.transaction() as session:
            typer.echo(leader_digest_text(session, engine.clock(), engine.config.tz, lang))
        return
    with database_from(settings).transaction() as session:
        row = store.first_network(session)
        if row is None:
            say(lang, "cli_network_none")
            return
        weekday = text(lang, "net_weekdays").split()[row.pulse_weekday % 7]
        say(lang, "cli_network_name", name=row.name)
        say(
            lang,
            "cli_network_reminders",
            task_days=", ".join(map(str, row.task_days)),
            gathering_days=", ".join(map(str, row.gathering_days)),
            at=row.remind_at,
            start=row.work_start,
            end=row.work_end,
        )
        say(
            lang,
            "cli_network_pulse" if row.pulse_enabled else "cli_network_pulse_off",
            weekday=weekday,
            at=row.pulse_at,
            weeks=row.pulse_every_weeks,
            days=row.pulse_open_days,
            next=(
                f"{row.next_pulse_at.astimezone(settings.tz):%d.%m.%Y %H:%M}"
                if row.next_pulse_at
                else text(lang, "cli_network_next_unknown")
            ),
        )
