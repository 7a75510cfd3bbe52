"""`beholde round open|close|status`: pulse rounds by hand, and the printed round result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.common import (
    console,
    database_from,
    engine_from,
    fail,
    h,
    load_settings,
    say,
    survey_from,
)

if TYPE_CHECKING:
    from bot.conversation import Conversation

round_app = typer.Typer(help=h("round"), no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(round_app, name="round")


def print_round(
    engine: Conversation, round_id: int, source: str = "round_close", lang: str | None = None
) -> None:
    """The round's anonymous result, through the one release path (bot/summaries.py)."""
    from bot.summaries import print_round_report

    print_round_report(engine, round_id, source, lang)


MAX_ROUND_DAYS = 60  # a pulse round is short; two months is a typing slip, not a plan


@round_app.command("open", help=h("round.open"))
def round_open(
    days: Annotated[int | None, typer.Option(help=h("round.open.days"))] = None,
) -> None:
    """Open a pulse round now and queue the first question for everyone reachable."""
    from storage import answers

    settings = load_settings()
    lang = settings.language
    if days is not None and not 1 <= days <= MAX_ROUND_DAYS:  # 0 would mean "the default"
        raise fail(lang, "cli_round_days_range", days=days, most=MAX_ROUND_DAYS)
    engine = engine_from(settings)
    with engine.db.transaction() as session:
        current = answers.current_round(session)
    if current is not None:
        raise fail(lang, "cli_round_already_open", number=current.number)
    try:
        round_ = engine.open_round(days=days)
    except ValueError as error:  # opened by another instance meanwhile
        console.print(str(error), style="red", markup=False)
        raise typer.Exit(1) from None
    with engine.db.transaction() as session:
        counts = answers.round_counts(session, round_.id)
    closes = round_.closes_at.astimezone(engine.config.tz)
    say(
        lang,
        "cli_round_opened",
        number=round_.number,
        closes=f"{closes:%d.%m.%Y %H:%M}",
        invited=counts.invited,
    )
    if counts.invited == 0:  # nobody has a chat yet: they are invited when they first write
        say(lang, "cli_round_nobody_reachable")


@round_app.command("close", help=h("round.close"))
def round_close() -> None:
    """Close the open round and show its anonymous result."""
    settings = load_settings()
    engine = engine_from(settings)
    closed = engine.close_round()
    if closed is None:
        raise fail(settings.language, "cli_no_open_round")
    print_round(engine, closed.id, "round_close", settings.language)


@round_app.command("status", help=h("round.status"))
def round_status() -> None:
    """Participation in the open round: the summary's table, through the release path.

    Only the database and the survey: the conversation engine and its features are not
    assembled for a few counts."""
    import datetime as dt

    from bot.summaries import SummaryOptions, print_participation
    from storage import answers

    settings = load_settings()
    lang = settings.language
    db = database_from(settings)
    with db.transaction() as session:
        current = answers.current_round(session)
        if current is None:
            say(lang, "cli_no_open_round")
            return
        counts = answers.round_counts(session, current.id)
    closes = current.closes_at.astimezone(settings.tz)
    say(
        lang,
        "cli_round_status",
        number=current.number,
        started=counts.started,
        closes=f"{closes:%d.%m.%Y %H:%M}",
    )
    options = SummaryOptions(settings.k_anonymity, settings.comment_threshold, lang)
    survey = survey_from(settings)
    print_participation(db, survey, options, current.id, "status", dt.datetime.now(dt.UTC))
