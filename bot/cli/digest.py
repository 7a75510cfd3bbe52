"""`beholde digest`: this week's steering-group digest, printed or queued."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import console, engine_from, h, load_settings, say


def register(app: typer.Typer) -> None:
    app.command(help=h("digest"))(digest)


def digest(
    post: Annotated[bool, typer.Option(help=h("steering_post"))] = False,
) -> None:
    """This week's steering-group digest: task status per team, gatherings, participation."""
    from bot.digest import digest_text, queue_digest
    from bot.summaries import steering_targets

    settings = load_settings()
    engine = engine_from(settings)
    now = engine.clock()
    with engine.db.transaction() as session:
        console.print(
            digest_text(
                session, engine.survey, now, settings.tz, settings.language, settings.k_anonymity
            ),
            markup=False,
        )
        if post:
            targets = steering_targets(settings, ["slack", "telegram", "teams"])
            queued = queue_digest(
                session,
                engine.survey,
                targets,
                now,
                settings.tz,
                settings.language,
                settings.k_anonymity,
            )
            if targets:
                say(settings.language, "cli_digest_queued", count=queued)
            else:
                say(settings.language, "cli_no_steering_channel")
