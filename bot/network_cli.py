"""`beholde samling|oppgave|paminn …` (and `gathering|task|remind`): the leader's chat commands
in the terminal, running exactly the same code as in the chat.

    beholde samling ny "Samling 3: Fagutvikling" 12.03.2027 09:00 Gildeskål
    beholde oppgave ny "Forbered innlegg" frist 05.03.2027 alle
    beholde paminn oppgave 1 Fauske
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from bot import network as net
from bot import network_commands as commands

Command = Callable[..., list[str]]


def _run(command: Command, words: list[str], language: str) -> None:
    from bot.cli import engine_from, load_settings
    from bot.dashboard.commands import picker

    settings = load_settings()
    engine = engine_from(settings)
    # typer has already removed the quotes; quote again so titles with spaces stay whole.
    args = [shlex.quote(w) if " " in w else w for w in words]
    with engine.db.transaction() as session:
        extra = {}
        if command is commands.task:  # `oppgave ny fra prioritet N …` (issue 12)
            extra["priority"] = picker(session, engine, settings, language, engine.clock())
        lines = command(
            session, commands.Actor(None, language), args, engine.clock(), engine.config.tz,
            **extra,
        )  # fmt: skip
    for line in lines:
        typer.echo(line)


def _make(command: Command, help_text: str) -> Callable[..., None]:
    def run(
        words: Annotated[
            list[str] | None, typer.Argument(help="As in the chat, e.g. ny|liste|flytt …")
        ] = None,
        english: Annotated[bool, typer.Option("--en", help="Answer in English.")] = False,
    ) -> None:
        _run(command, words or [], "en" if english else "nb")

    run.__doc__ = help_text
    return run


def _network(session: Session) -> list[str]:
    from sqlalchemy import select

    from storage.network_models import Network

    row = session.scalar(select(Network).limit(1))
    if row is None:
        return [
            "No network yet: it is created when `beholde serve` starts or a gathering is added."
        ]
    return [
        f"Network: {row.name}",
        f"Reminders: tasks {row.task_days} days before, gatherings {row.gathering_days} days "
        f"before, at {row.remind_at}; working hours {row.work_start}-{row.work_end}",
        f"Pulse: {'on' if row.pulse_enabled else 'off'}, weekday {row.pulse_weekday} "
        f"(0 = Monday) at {row.pulse_at}, every {row.pulse_every_weeks} weeks, open "
        f"{row.pulse_open_days} days; next {row.next_pulse_at or 'when the scheduler first runs'}",
    ]


def register(app: typer.Typer) -> None:
    """Add the learning-network commands to the `beholde` CLI."""
    settings = {"allow_extra_args": True, "ignore_unknown_options": True}
    for names, command, help_text in (
        (
            ("samling", "gathering"),
            commands.gathering,
            "Gatherings: ny, liste, flytt, avlys, webinar, holdt.",
        ),
        (("oppgave", "task"), commands.task, "Tasks between gatherings: ny, liste, status."),
        (
            ("paminn", "remind"),
            commands.remind,
            "Send a reminder now: samling N [lag] | oppgave N [lag].",
        ),
    ):
        for name in names:
            app.command(name, context_settings=settings, help=help_text)(_make(command, help_text))

    @app.command("network")
    def network_show() -> None:
        """The learning network's reminder policy and pulse cadence."""
        from bot.cli import engine_from, load_settings

        engine = engine_from(load_settings())
        with engine.db.transaction() as session:
            for line in _network(session):
                typer.echo(line)


__all__ = ["net", "register"]
