"""`beholde round open|close|status`: pulse rounds by hand, and the printed round result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.common import console, database_from, engine_from, fail, load_settings, say, text

if TYPE_CHECKING:
    from bot.conversation import Conversation

round_app = typer.Typer(help="Pulse rounds.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(round_app, name="round")


def decimal(value: float, sign: str = "", lang: str = "nb") -> str:
    """One decimal, with a decimal comma in Norwegian (3,1) and a point in English."""
    shown = f"{value:{sign}.1f}"
    return shown if lang == "en" else shown.replace(".", ",")


def print_round(engine: Conversation, round_id: int, lang: str = "nb") -> None:
    """Participation, factor means and the quitting share — only for groups of at least k."""
    from rich.table import Table

    from storage import frames
    from storage.models import Round
    from surveys.aggregate import factor_rows, group_counts, quit_share

    k = engine.config.k
    municipality = engine.survey.scales["municipality"]
    with engine.db.transaction() as session:
        part = frames.participation(session, round_id)
        frame = frames.responses(session, [round_id])
        round_ = session.get(Round, round_id)
        number = round_.number if round_ else round_id
    invited, finished = int(part["invited"].sum()), int(part["finished"].sum())
    console.print()
    say(
        lang,
        "cli_round_result",
        number=number,
        finished=finished,
        invited=invited,
        rate=f"{100 * finished / max(invited, 1):.0f}",
        k=k,
    )
    fewer = text(lang, "cli_fewer_than", k=k)
    table = Table(title=text(lang, "cli_participation_title"))
    table.add_column(text(lang, "cli_col_municipality"))
    table.add_column(text(lang, "cli_col_invited"), justify="right")
    table.add_column(text(lang, "cli_col_finished"), justify="right")
    for row in part.sort_values("invited", ascending=False).itertuples():
        name = (
            municipality.label(row.municipality, lang)
            if row.municipality
            else text(lang, "cli_unknown")
        )
        done = str(row.finished) if row.finished >= k else fewer
        table.add_row(name, str(row.invited), done)
    console.print(table)
    table = Table(title=text(lang, "cli_factors_title"))
    for key in ("factor", "experienced", "importance", "gap", "n"):
        table.add_column(
            text(lang, f"cli_col_{key}"), justify="left" if key == "factor" else "right"
        )
    rows = sorted(
        factor_rows(frame, engine.survey, k, lang),
        key=lambda r: -(r.gap if r.gap is not None else -99),
    )
    for r in rows:
        if r.experienced is None or r.importance is None or r.gap is None:
            table.add_row(r.label, "–", "–", "–", fewer)
        else:
            table.add_row(
                r.label,
                decimal(r.experienced, lang=lang),
                decimal(r.importance, lang=lang),
                decimal(r.gap, "+", lang),
                str(r.n),
            )
    console.print(table)
    share, n = quit_share(frame, k)
    if share is None:
        say(lang, "cli_quit_hidden", k=k)
    else:
        say(lang, "cli_quit_share", share=f"{100 * share:.0f}", n=n)
    per_group = group_counts(frame, "municipality")
    known = set(municipality.values())
    hidden = [municipality.label(m, lang) for m, c in per_group.items() if c < k and m in known]
    if hidden:
        say(lang, "cli_hidden_municipalities", k=k, names=", ".join(hidden))


@round_app.command("open")
def round_open(
    days: Annotated[int | None, typer.Option(help="Days the round stays open.")] = None,
) -> None:
    """Open a pulse round now and queue the first question for everyone reachable."""
    from storage import answers

    settings = load_settings()
    lang = settings.language
    engine = engine_from(settings)
    try:
        round_ = engine.open_round(days=days)
    except ValueError as error:
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


@round_app.command("close")
def round_close() -> None:
    """Close the open round and show its anonymous result."""
    settings = load_settings()
    engine = engine_from(settings)
    closed = engine.close_round()
    if closed is None:
        raise fail(settings.language, "cli_no_open_round")
    print_round(engine, closed.id, settings.language)


@round_app.command("status")
def round_status() -> None:
    """Participation in the open round (counts only)."""
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
        finished=counts.finished,
        invited=counts.invited,
        started=counts.started,
        closes=f"{closes:%d.%m.%Y %H:%M}",
    )
