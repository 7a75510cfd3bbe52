"""`beholde roster import|list|remove|sync-slack`: the roster of people.

Import is all or nothing; with `--remove-missing` a complete roster also marks the people it
no longer lists as left, after a confirmation. Leaving deletes a person's identity (name,
e-mail, chats, codes, unfinished answers) exactly as `/slett` does; anonymous answers stay.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.common import console, database_from, engine_from, fail, h, load_settings, say, text

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from storage.models import Person
    from surveys.definition import Survey

roster_app = typer.Typer(help=h("roster"), no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(roster_app, name="roster")


def _names(found: list[Person], limit: int = 12) -> str:
    shown = ", ".join(p.name for p in found[:limit])
    return shown + (f" … (+{len(found) - limit})" if len(found) > limit else "")


def chat_person(
    session: Session, who: str, now: dt.datetime, create: bool, language: str, lang: str
) -> Person | str:
    """The rostered person `who` means (name written loosely, or e-mail), or why not.

    A person the roster lacks is created only when asked (`create`), never by a typo.
    """
    from storage import people

    found = people.find_people(session, who)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        return text(lang, "day_roster_several", who=who, names=_names(found))
    if not create:
        return text(lang, "day_roster_no_person", who=who)
    return people.create_person(session, " ".join(who.split()), now, language=language)


def _confirm(question: str, yes: bool) -> bool:
    return yes or typer.confirm(question, default=False)


@roster_app.command("import", help=h("roster.import"))
def roster_import(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            metavar=h("metavar.file"),
            help=h("roster.import.file"),
        ),
    ],
    remove_missing: Annotated[
        bool,
        typer.Option("--remove-missing", help=h("roster.import.remove_missing")),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help=h("yes"))] = False,
) -> None:
    """Import people from a CSV file; nothing is imported unless every row is valid."""
    from bot.network import plan_for_newcomers
    from bot.roster_errors import render as render_error
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
        for error in errors:  # in the importing person's language (bot/roster_errors.py)
            console.print(f"  {render_error(error, lang)}", markup=False)
        raise typer.Exit(1)
    with engine.db.transaction() as session:
        missing = people.missing_from(session, entries)
        if missing:
            say(lang, "day_roster_missing", count=len(missing), names=_names(missing))
        leaving = (
            remove_missing
            and bool(missing)
            and _confirm(text(lang, "day_roster_confirm_left", count=len(missing)), yes)
        )
        if remove_missing and missing and not leaving:
            raise fail(lang, "day_roster_nothing_imported")
        added, updated = people.import_roster(session, entries, engine.clock())
        for person in missing if leaving else []:
            people.delete_identity(session, person)
        # Someone new in a team gets the reminders of what was planned before they joined.
        plan_for_newcomers(session, engine.config.tz, engine.clock())
    say(lang, "cli_roster_imported", added=added, updated=updated)
    if leaving:
        say(lang, "day_roster_left", count=len(missing))
    elif missing:
        say(lang, "day_roster_missing_hint")


@roster_app.command("list", help=h("roster.list"))
def roster_list() -> None:
    """Who is registered, and where they can be reached — never any answers."""
    from rich.table import Table
    from rich.text import Text

    from bot.app import load_configured_survey
    from bot.commands import platform_label
    from storage import people

    settings = load_settings()
    lang = settings.language
    db = database_from(settings)
    survey = load_configured_survey(settings)
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
            chats = ", ".join(
                platform_label(lang, a.platform) for a in people.addresses_of(session, p.id)
            )
            # Text() keeps names exactly as written: "[b]" or "Ola [vikar]" is no markup.
            row = (
                p.name,
                p.email,
                shown_label(survey, "municipality", p.municipality, lang),
                shown_label(survey, "profession", p.profession, lang),
                _known(lang, f"role_{p.role}"),
                p.team,
                chats,
                _known(lang, f"status_{p.status}"),
            )
            table.add_row(*(Text(value or "–") for value in row))
    console.print(table)


def shown_label(survey: Survey, scale: str, value: str | None, lang: str) -> str | None:
    """ "Bodø", "Sykepleier" as people write them, not the stored codes "bodo", "sykepleier"."""
    try:
        return survey.scales[scale].label(value, lang) if value else None
    except KeyError:
        return value


def _known(lang: str, key: str) -> str:
    """A role's or status' words ("prosjektleder", "aktiv"), or the code if it has none."""
    from bot.i18n import catalogue

    return catalogue(lang).get(key) or key.split("_", 1)[1]


@roster_app.command("remove", help=h("roster.remove"))
def roster_remove(
    who: Annotated[str, typer.Argument(metavar=h("metavar.who"), help=h("person"))],
    yes: Annotated[bool, typer.Option("--yes", help=h("yes"))] = False,
) -> None:
    """Remove someone who left: identity deleted, anonymous answers kept."""
    from storage import people

    settings = load_settings()
    lang = settings.language
    with database_from(settings).transaction() as session:
        found = people.find_people(session, who)
        if len(found) != 1:
            key = "day_roster_several" if found else "day_roster_not_found"
            raise fail(lang, key, who=who, names=_names(found))
        person = found[0]
        if not _confirm(text(lang, "day_roster_confirm_remove", name=person.name), yes):
            raise fail(lang, "day_roster_nothing_removed")
        name = person.name
        people.delete_identity(session, person)
    say(lang, "day_roster_removed", name=name)


@roster_app.command("sync-slack", help=h("roster.sync_slack"))
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
