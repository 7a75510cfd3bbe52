"""`beholde roster import|list|remove` and finding the person behind `chat --as`.

Import is all or nothing; with `--remove-missing` a complete roster also marks the people it
no longer lists as left, after a confirmation. Leaving deletes a person's identity (name,
e-mail, chats, codes, unfinished answers) exactly as `/slett` does; anonymous answers stay.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from bot.i18n import t
from storage import people
from storage.models import Person
from surveys.roster import parse_roster

LANG = "en"  # the CLI speaks English, like the rest of `beholde`


def _names(found: list[Person], limit: int = 12) -> str:
    shown = ", ".join(p.name for p in found[:limit])
    return shown + (f" … (+{len(found) - limit})" if len(found) > limit else "")


def chat_person(
    session: Session, who: str, now: dt.datetime, create: bool, language: str
) -> Person | str:
    """The rostered person `who` means (name written loosely, or e-mail), or why not.

    A person the roster lacks is created only when asked (`create`), never by a typo.
    """
    found = people.find_people(session, who)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        return t(LANG, "day_roster_several", who=who, names=_names(found))
    if not create:
        return t(LANG, "day_roster_no_person", who=who)
    return people.create_person(session, " ".join(who.split()), now, language=language)


def _confirm(question: str, yes: bool) -> bool:
    return yes or typer.confirm(question, default=False)


def roster_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    remove_missing: Annotated[
        bool,
        typer.Option("--remove-missing", help="Mark people this roster no longer lists as left."),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Import people from a CSV file; nothing is imported unless every row is valid."""
    from bot.cli import console, engine_from, load_settings

    engine = engine_from(load_settings())
    try:
        text = file.read_text("utf-8-sig")
    except UnicodeDecodeError:
        console.print(f"{file}: the file is not UTF-8 text; save it as CSV UTF-8.", style="red")
        raise typer.Exit(1) from None
    entries, errors = parse_roster(text, engine.survey)
    if errors:
        console.print(f"{file}: {len(errors)} problem(s); nothing was imported:", style="red")
        for error in errors:
            console.print(f"  {error}", markup=False)
        raise typer.Exit(1)
    with engine.db.transaction() as session:
        missing = people.missing_from(session, entries)
        names = _names(missing)
        if missing:
            console.print(
                t(LANG, "day_roster_missing", count=len(missing), names=names), markup=False
            )
        leaving = (
            remove_missing
            and bool(missing)
            and _confirm(t(LANG, "day_roster_confirm_left", count=len(missing)), yes)
        )
        if remove_missing and missing and not leaving:
            console.print(t(LANG, "day_roster_nothing_imported"))
            raise typer.Exit(1)
        added, updated = people.import_roster(session, entries, engine.clock())
        for person in missing if leaving else []:
            people.delete_identity(session, person)
    console.print(f"Imported {added} new and updated {updated} people.")
    if leaving:
        console.print(t(LANG, "day_roster_left", count=len(missing)))
    elif missing:
        console.print(t(LANG, "day_roster_missing_hint"))


def roster_list() -> None:
    """Who is registered, and where they can be reached — never any answers."""
    from bot.cli import console, engine_from, load_settings

    engine = engine_from(load_settings())
    table = Table()
    for column in ("Name", "E-mail", "Municipality", "Profession", "Role", "Team", "Chats"):
        table.add_column(column)
    table.add_column("Status")
    with engine.db.transaction() as session:
        for p in people.list_people(session):
            chats = ", ".join(a.platform for a in people.addresses_of(session, p.id)) or "–"
            # Text() keeps names exactly as written: "[b]" or "Ola [vikar]" is no markup.
            row = (p.name, p.email, p.municipality, p.profession, p.role, p.team, chats, p.status)
            table.add_row(*(Text(value or "–") for value in row))
    console.print(table)


def roster_remove(
    who: Annotated[str, typer.Argument(help="The person's name or e-mail address.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove someone who left: identity deleted, anonymous answers kept."""
    from bot.cli import console, engine_from, load_settings

    engine = engine_from(load_settings())
    with engine.db.transaction() as session:
        found = people.find_people(session, who)
        if len(found) != 1:
            key = "day_roster_several" if found else "day_roster_not_found"
            console.print(t(LANG, key, who=who, names=_names(found)), markup=False)
            raise typer.Exit(1)
        person = found[0]
        if not _confirm(t(LANG, "day_roster_confirm_remove", name=person.name), yes):
            console.print(t(LANG, "day_roster_nothing_removed"))
            raise typer.Exit(1)
        name = person.name
        people.delete_identity(session, person)
    console.print(t(LANG, "day_roster_removed", name=name), markup=False)


def register(roster_app: typer.Typer) -> None:
    """Add the roster commands to `beholde roster`."""
    roster_app.command("import")(roster_import)
    roster_app.command("list")(roster_list)
    roster_app.command("remove")(roster_remove)
