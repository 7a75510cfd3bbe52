"""`beholde invite`: one personal Telegram deep link per rostered person, for the leader.

A link is `https://t.me/<bot>?start=<code>`; Telegram hands the code to the bot as
`/start <code>` when the person taps Start, and the engine binds that chat to the person.
Codes carry 128 bits of randomness, are stored only as hashes, work once and expire
(BEHOLDE_INVITE_VALID_DAYS). Asking again replaces a person's earlier unused link.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import delete, select

from bot.conversation import Conversation
from storage import people
from storage.models import Address, InviteCode, Person

PLATFORM = "telegram"


def _municipality_id(engine: Conversation, wanted: str) -> str | None:
    """Accept the id (`bodo`) or the name in any language (`Bodø`)."""
    scale = engine.survey.scales.get("municipality")
    folded = wanted.strip().casefold()
    if scale is None:
        return wanted
    for value in scale.values():
        names = {value.casefold()}
        for lang in ("nb", "en", "nn"):
            try:
                names.add(scale.label(value, lang).casefold())
            except (KeyError, ValueError):
                continue
        if folded in names:
            return value
    return None


def make_invites(
    engine: Conversation, bot_username: str, valid_days: int, municipality: str | None = None
) -> list[tuple[str, str, str]]:
    """(name, municipality, link) for every rostered person without a Telegram chat."""
    now = engine.clock()
    links: list[tuple[str, str, str]] = []
    with engine.db.transaction() as session:
        on_telegram = select(Address.person_id).where(Address.platform == PLATFORM)
        query = (
            select(Person)
            .where(Person.id.not_in(on_telegram), Person.status != "stopped")
            .order_by(Person.municipality, Person.name)
        )
        if municipality is not None:
            query = query.where(Person.municipality == municipality)
        for person in session.scalars(query).all():
            session.execute(
                delete(InviteCode).where(
                    InviteCode.person_id == person.id,
                    InviteCode.platform == PLATFORM,
                    InviteCode.used_at.is_(None),
                )
            )
            code = people.new_invite_code(session, person, PLATFORM, now, valid_days)
            links.append(
                (
                    person.name,
                    person.municipality or "",
                    f"https://t.me/{bot_username}?start={code}",
                )
            )
    return links


async def _ask_username(token: str, base_url: str) -> str:
    from telegram import Bot

    async with Bot(token, base_url=base_url) as bot:
        return bot.username


def invite(
    municipality: Annotated[
        str | None, typer.Option(help="Only people in this municipality (id or name).")
    ] = None,
    bot_username: Annotated[
        str | None,
        typer.Option(help="The bot's @username (default BEHOLDE_TELEGRAM_BOT_USERNAME or getMe)."),
    ] = None,
) -> None:
    """Print a one-time Telegram registration link for each person not on Telegram yet."""
    from bot.cli import console, engine_from, load_settings

    settings = load_settings()
    engine = engine_from(settings)
    wanted = None
    if municipality is not None:
        wanted = _municipality_id(engine, municipality)
        if wanted is None:
            console.print(f"Unknown municipality: {municipality}", style="red", markup=False)
            raise typer.Exit(1)
    username = (bot_username or settings.telegram_bot_username or "").lstrip("@")
    if not username:
        if settings.telegram_token is None:
            console.print(
                "Give --bot-username, or set BEHOLDE_TELEGRAM_BOT_USERNAME or "
                "BEHOLDE_TELEGRAM_TOKEN so the name can be asked from Telegram.",
                style="red",
            )
            raise typer.Exit(2)
        try:
            username = asyncio.run(
                _ask_username(settings.telegram_token.get_secret_value(), settings.telegram_api_url)
            )
        except Exception as error:  # never echo the request: its URL holds the token
            console.print(
                f"Could not ask Telegram for the bot's name ({type(error).__name__}); "
                "give --bot-username.",
                style="red",
            )
            raise typer.Exit(2) from None
    links = make_invites(engine, username, settings.invite_valid_days, wanted)
    if not links:
        console.print("Everyone on the roster already has Telegram (or nobody matched).")
        return
    for name, place, link in links:
        typer.echo(f"{name}\t{place or '-'}\t{link}")
    Console(stderr=True).print(
        f"{len(links)} link(s), each valid once for {settings.invite_valid_days} days. "
        "Earlier unused links for these people no longer work.",
        style="dim",
    )
