"""`beholde roster import|list|sync-slack`: the roster of people."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import console, database_from, engine_from, fail, load_settings, say, text

roster_app = typer.Typer(help="The roster of people.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(roster_app, name="roster")


@roster_app.command("import")
def roster_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Import people from a CSV file; nothing is imported unless every row is valid."""
    from storage import people
    from surveys.roster import parse_roster

    settings = load_settings()
    lang = settings.language
    engine = engine_from(settings)
    try:
        content = file.read_text("utf-8-sig")
    except UnicodeDecodeError:
        raise fail(lang, "cli_roster_not_utf8", file=str(file)) from None
    entries, errors = parse_roster(content, engine.survey)
    if errors:
        say(lang, "cli_roster_problems", style="red", file=str(file), count=len(errors))
        for error in errors:
            console.print(f"  {error}", markup=False)
        raise typer.Exit(1)
    with engine.db.transaction() as session:
        added, updated = people.import_roster(session, entries, engine.clock())
    say(lang, "cli_roster_imported", added=added, updated=updated)


@roster_app.command("list")
def roster_list() -> None:
    """Who is registered, and where they can be reached — never any answers."""
    from rich.table import Table

    from storage import people

    settings = load_settings()
    lang = settings.language
    db = database_from(settings)
    table = Table()
    for column in (
        "name",
        "email",
        "municipality",
        "profession",
        "role",
        "team",
        "chats",
        "status",
    ):
        table.add_column(text(lang, f"cli_col_{column}"))
    with db.transaction() as session:
        for p in people.list_people(session):
            chats = ", ".join(a.platform for a in people.addresses_of(session, p.id)) or "–"
            table.add_row(
                p.name,
                p.email or "–",
                p.municipality or "–",
                p.profession or "–",
                p.role,
                p.team or "–",
                chats,
                p.status,
            )
    console.print(table)


@roster_app.command("sync-slack")
def sync_slack() -> None:
    """Find rostered people on Slack by e-mail; greet new ones through the outbox."""
    import asyncio

    from bot.slack_roster import SyncResult, sync_slack_roster
    from bot.transports.slack_sender import SlackSender, make_client

    settings = load_settings()
    lang = settings.language
    token = settings.slack_bot_token
    if token is None:
        raise fail(lang, "cli_slack_no_token", code=2)
    engine = engine_from(settings)

    async def run() -> SyncResult:
        client = make_client(token.get_secret_value(), settings.slack_api_url)
        return await sync_slack_roster(engine, SlackSender(client))

    result = asyncio.run(run())
    say(
        lang,
        "cli_slack_synced",
        matched=result.matched,
        greeted=result.greeted,
        missing=len(result.not_found),
    )
    for name in result.not_found:
        say(lang, "cli_slack_not_found", name=name)
    for error in result.errors:
        say(lang, "cli_slack_error", style="red", error=error)
    if result.errors:
        raise typer.Exit(1)
