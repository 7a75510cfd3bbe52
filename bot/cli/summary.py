"""`beholde summary`: the steering-group summary of a round — print, post or export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import h


def register(app: typer.Typer) -> None:
    app.command("summary", help=h("summary"))(summary)


def summary(
    round_number: Annotated[
        int | None,
        typer.Option("--round", help=h("summary.round")),
    ] = None,
    post: Annotated[bool, typer.Option("--post", help=h("steering_post"))] = False,
    xlsx: Annotated[Path | None, typer.Option(help=h("summary.xlsx"))] = None,
    csv: Annotated[Path | None, typer.Option(help=h("summary.csv"))] = None,
    chart: Annotated[Path | None, typer.Option(help=h("summary.chart"))] = None,
    csv_dialect: Annotated[
        str,
        typer.Option(help=h("summary.csv_dialect")),
    ] = "excel-no",
    language: Annotated[str | None, typer.Option(help=h("language"))] = None,
) -> None:
    """Participation, factors and gaps, quitting, eNPS and comment themes — anonymous only.

    matplotlib (≈ 0.3 s) and openpyxl load only when a chart or a workbook is written."""
    from bot.cli.common import engine_from, fail, load_settings, say
    from bot.summaries import SummaryOptions, compose, queue_summary, steering_targets, task_trends
    from bot.summary_export import DIALECTS, RoundInfo, writable_file, writable_folder, write_csv
    from bot.summary_text import full_text
    from storage import summaries as store

    settings = load_settings()
    lang = language or settings.language
    if lang not in ("nb", "en", "nn"):
        raise fail(settings.language, "steer_cli_bad_language", 2)
    if csv_dialect not in DIALECTS:
        raise fail(lang, "steer_cli_bad_dialect", 2)
    # Refuse a path that cannot be written before anything is composed or released.
    for path, why in (
        (xlsx, writable_file(xlsx, lang) if xlsx else None),
        (chart, writable_file(chart, lang) if chart else None),
        (csv, writable_folder(csv, lang) if csv else None),
    ):
        if path is not None and why is not None:
            raise fail(lang, "steer_cli_not_written", 2, why=why)
    engine = engine_from(settings)
    options = SummaryOptions(settings.k_anonymity, settings.comment_threshold, lang)
    with engine.db.transaction() as session:
        round_ = store.pick_round(session, round_number)
        if round_ is None:
            if round_number:
                raise fail(lang, "steer_cli_no_round", number=round_number)
            raise fail(lang, "steer_cli_no_round_yet")
        # One release for everything this command shows, printed or written: the ledger
        # records it even when nothing is posted (an export is a release too).
        source = "export" if (xlsx or csv or chart) else "print"
        result = compose(session, engine.survey, round_, options, source, engine.clock())
        tasks = task_trends(session, engine.survey, result, options, engine.clock())
        info = RoundInfo(round_.opened_at, round_.closes_at, round_.closed_at)
        posted = None
        if post:
            targets = steering_targets(settings, ("slack", "telegram", "teams"))
            posted = queue_summary(
                session, engine.survey, round_, targets, options, engine.clock(), "cli"
            )
    typer.echo(full_text(result, engine.survey, lang, export_hint=xlsx is None, tasks=tasks))
    png = None
    if xlsx or chart:
        from bot.summary_chart import chart_png

        png = chart_png(result, engine.survey, lang)
    if xlsx is not None:
        from bot.summary_export import write_xlsx

        write_xlsx(result, engine.survey, xlsx, lang, info, png)
        say(lang, "steer_cli_wrote", path=xlsx)
    if csv is not None:
        files = write_csv(result, engine.survey, csv, lang, csv_dialect)
        say(lang, "steer_cli_wrote_csv", count=len(files), folder=csv)
    if chart is not None and png is not None:
        chart.write_bytes(png)
        say(lang, "steer_cli_wrote", path=chart)
    if posted is not None:
        if posted.status == "queued":
            say(lang, "steer_cli_queued", queued=posted.queued)
        elif posted.status == "no_target":
            raise fail(lang, "steer_cli_no_target")
        else:
            new = posted.submissions - (posted.last_posted or 0)
            raise fail(lang, "steer_cli_too_few_new", new=new, number=posted.round_number,
                       k=options.k)  # fmt: skip
