"""`beholde chat --as NAME`: answer pulses in the terminal against the real engine."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import console, engine_from, h, load_settings, text
from bot.cli.roster import chat_person


def register(app: typer.Typer) -> None:
    app.command(help=h("chat"))(chat)


def chat(
    as_: Annotated[str, typer.Option("--as", help=h("person"))],
    language: Annotated[str, typer.Option(help=h("chat.language"))] = "nb",
    new: Annotated[bool, typer.Option("--new", help=h("chat.new"))] = False,
) -> None:
    """Answer a pulse in the terminal, against the same engine and database as the chat apps."""
    from bot.ports import Address, OutgoingMessage
    from bot.transports.console import PLATFORM, ConsoleTransport
    from storage import outbox, people

    settings = load_settings()
    engine = engine_from(settings)
    transport = ConsoleTransport(typer.echo)
    with engine.db.transaction() as session:
        person = people.by_address(session, PLATFORM, as_) or chat_person(
            session, as_, engine.clock(), new, language, settings.language
        )
        if isinstance(person, str):
            console.print(person, style="red", markup=False)
            raise typer.Exit(1)
        # The terminal "chat" is named by the person's name as on the roster, so that
        # `beholde deliver` says "Til Ingrid Hansen" however the name was typed here.
        address = Address(PLATFORM, person.name)
        people.bind_address(session, person, PLATFORM, person.name, engine.clock())
        lang = person.language
        # What waits in the outbox for this chat (the round's first question, a reminder) is
        # shown here, once, instead of by a later `beholde deliver` as well.
        waiting = outbox.take_due_for_chat(session, PLATFORM, person.name, engine.clock())
    for payload in waiting:
        transport.show(OutgoingMessage.from_payload(payload))
    if not waiting:
        transport.show_reply(engine.greet(address))
    typer.echo("\n" + text(lang, "cli_chat_hint"))
    while True:
        try:
            line = input("> ")
        except (EOFError, KeyboardInterrupt):
            typer.echo("")
            break
        if line.strip() in ("/avslutt", "/quit", "/exit"):
            break
        event = transport.parse(address, line)
        if event is not None:
            transport.show_reply(engine.handle(event))
