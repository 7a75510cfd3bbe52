"""`beholde invite`: one single-use Telegram registration link per rostered person."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import engine_from, fail, h, load_settings, say


def register(app: typer.Typer) -> None:
    app.command(help=h("invite"))(invite)


def invite(
    municipality: Annotated[str | None, typer.Option(help=h("invite.municipality"))] = None,
    bot_username: Annotated[
        str | None,
        typer.Option(help=h("invite.bot_username")),
    ] = None,
) -> None:
    """Print a one-time Telegram registration link for each person not on Telegram yet."""
    import asyncio

    from bot.invite import ask_username, make_invites, municipality_id

    settings = load_settings()
    lang = settings.language
    engine = engine_from(settings)
    wanted = None
    if municipality is not None:
        wanted = municipality_id(engine.survey, municipality)
        if wanted is None:
            raise fail(lang, "cli_unknown_municipality", name=municipality)
    username = (bot_username or settings.telegram_bot_username or "").lstrip("@")
    if not username:
        if settings.telegram_token is None:
            raise fail(lang, "cli_invite_needs_username", code=2)
        try:
            username = asyncio.run(
                ask_username(settings.telegram_token.get_secret_value(), settings.telegram_api_url)
            )
        except Exception as error:  # never echo the request: its URL holds the token
            raise fail(
                lang, "cli_invite_getme_failed", code=2, error=type(error).__name__
            ) from None
    links = make_invites(engine, username, settings.invite_valid_days, wanted)
    if not links:
        say(lang, "cli_invite_none")
        return
    from bot.cli.roster import shown_label

    for name, place, link in links:  # "Bodø" as people write it, not the code "bodo"
        shown = shown_label(engine.survey, "municipality", place, lang)
        typer.echo(f"{name}\t{shown or '-'}\t{link}")
    say(
        lang,
        "cli_invite_done",
        style="dim",
        err=True,
        count=len(links),
        days=settings.invite_valid_days,
    )
    # Each person gets a new code; a link printed for them before no longer works.
    say(lang, "cli_invite_replaces", style="dim", err=True)
