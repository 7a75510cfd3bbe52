"""`beholde demo`: the whole loop in seconds on a temporary SQLite database (see bot/demo.py)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import engine_from, fail, h, load_settings, say


def register(app: typer.Typer) -> None:
    app.command(help=h("demo"))(demo)


def demo(
    database: Annotated[str | None, typer.Option(help=h("demo.database"))] = None,
    seed: Annotated[int, typer.Option(help=h("demo.seed"))] = 7,
) -> None:
    """The whole loop in seconds: synthetic staff answer a round; the anonymous result is shown."""
    from bot.cli.rounds import print_round
    from bot.demo import run_demo
    from storage import people

    with tempfile.TemporaryDirectory(prefix="beholde-demo-") as tmp:
        url = database or f"sqlite:///{Path(tmp) / 'demo.db'}"
        settings = load_settings(database_url=url, log_level="WARNING")
        lang = settings.language
        engine = engine_from(settings)
        with engine.db.transaction() as session:
            if people.list_people(session):  # the demo's synthetic staff must not mix in
                engine.db.dispose()
                raise fail(lang, "cli_demo_not_empty", code=2)
        started = time.perf_counter()
        counts = run_demo(engine, seed)
        closed = engine.close_round()
        assert closed is not None
        say(
            lang,
            "cli_demo_done",
            style="bold",
            people=counts["people"],
            municipalities=len(engine.survey.scales["municipality"].options),
            seconds=f"{time.perf_counter() - started:.1f}",
        )
        print_round(engine, closed.id, "demo", lang)
        engine.db.dispose()
