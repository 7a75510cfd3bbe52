"""`beholde summary`: the steering-group summary of a round — print, post or export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import console


def register(app: typer.Typer) -> None:
    app.command("summary")(summary)


def summary(
    round_number: Annotated[
        int | None,
        typer.Option("--round", help="Round number (default: the newest closed round)."),
    ] = None,
    post: Annotated[
        bool, typer.Option("--post", help="Queue it for the steering-group channel(s).")
    ] = False,
    xlsx: Annotated[
        Path | None, typer.Option(help="Write a spreadsheet, one sheet per table.")
    ] = None,
    csv: Annotated[
        Path | None, typer.Option(help="Write one CSV file per table into this folder.")
    ] = None,
    chart: Annotated[Path | None, typer.Option(help="Write the chart as PNG.")] = None,
    csv_dialect: Annotated[
        str,
        typer.Option(
            help="excel-no: semicolon and decimal comma (Norwegian Excel); plain: comma, point."
        ),
    ] = "excel-no",
    language: Annotated[
        str | None, typer.Option(help="nb, nn or en (default: BEHOLDE_LANGUAGE).")
    ] = None,
) -> None:
    """Participation, factors and gaps, quitting, eNPS and comment themes — anonymous only."""
    from bot.cli.common import engine_from, load_settings
    from bot.summaries import SummaryOptions, compose, queue_summary, steering_targets
    from bot.summary_chart import chart_png
    from bot.summary_export import (
        DIALECTS,
        RoundInfo,
        writable_file,
        writable_folder,
        write_csv,
        write_xlsx,
    )
    from bot.summary_text import full_text
    from storage import summaries as store

    settings = load_settings()
    lang = language or settings.language
    if lang not in ("nb", "en", "nn"):
        console.print("--language must be nb, nn or en.", style="red")
        raise typer.Exit(2)
    if csv_dialect not in DIALECTS:
        console.print("--csv-dialect must be excel-no or plain.", style="red")
        raise typer.Exit(2)
    # Refuse a path that cannot be written before anything is composed or released.
    for path, why in (
        (xlsx, writable_file(xlsx) if xlsx else None),
        (chart, writable_file(chart) if chart else None),
        (csv, writable_folder(csv) if csv else None),
    ):
        if path is not None and why is not None:
            console.print(f"Not written: {why}", style="red", markup=False)
            raise typer.Exit(2)
    engine = engine_from(settings)
    options = SummaryOptions(settings.k_anonymity, settings.comment_threshold, lang)
    with engine.db.transaction() as session:
        round_ = store.pick_round(session, round_number)
        if round_ is None:
            console.print(
                f"No round {round_number}." if round_number else "No round yet.", style="red"
            )
            raise typer.Exit(1)
        # One release for everything this command shows, printed or written: the ledger
        # records it even when nothing is posted (an export is a release too).
        source = "export" if (xlsx or csv or chart) else "print"
        result = compose(session, engine.survey, round_, options, source, engine.clock())
        info = RoundInfo(round_.opened_at, round_.closes_at, round_.closed_at)
        posted = None
        if post:
            targets = steering_targets(settings, ("slack", "telegram", "teams"))
            posted = queue_summary(
                session, engine.survey, round_, targets, options, engine.clock(), "cli"
            )
    typer.echo(full_text(result, engine.survey, lang, export_hint=xlsx is None))
    png = chart_png(result, engine.survey, lang) if (xlsx or chart) else None
    if xlsx is not None:
        write_xlsx(result, engine.survey, xlsx, lang, info, png)
        console.print(f"Wrote {xlsx}", markup=False)
    if csv is not None:
        files = write_csv(result, engine.survey, csv, lang, csv_dialect)
        console.print(f"Wrote {len(files)} CSV files to {csv}", markup=False)
    if chart is not None and png is not None:
        chart.write_bytes(png)
        console.print(f"Wrote {chart}", markup=False)
    if posted is not None:
        if posted.status == "queued":
            console.print(
                f"Queued {posted.queued} messages for the steering group; "
                "`beholde serve` delivers them."
            )
        elif posted.status == "no_target":
            console.print(
                "Not posted: no steering channel is configured "
                "(BEHOLDE_SLACK_STEERING_CHANNEL or BEHOLDE_TELEGRAM_STEERING_CHAT).",
                style="red",
            )
            raise typer.Exit(1)
        else:
            console.print(
                f"Not posted: only {posted.submissions - (posted.last_posted or 0)} new "
                f"answers since the last summary of round {posted.round_number}; at least "
                f"{options.k} are needed so that no one's answers show by difference.",
                style="red",
            )
            raise typer.Exit(1)
