"""`beholde serve` (every configured platform, the outbox, the schedule) and `beholde deliver`."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import engine_from, h, load_settings, say


def register(app: typer.Typer) -> None:
    app.command(help=h("serve"))(serve)
    app.command(help=h("deliver"))(deliver)


def serve(
    host: Annotated[str | None, typer.Option(help=h("serve.host"))] = None,
    port: Annotated[int | None, typer.Option(help=h("serve.port"))] = None,
) -> None:
    """Run the service: every configured chat platform, the outbox and the schedule.

    A plain `beholde serve` starts in `bot.cli.serve_quietly` instead, without typer; this
    one runs for `--help`, odd options and a start that must explain why it failed. Both
    serve through `bot.cli.serving.run_serving`."""
    from bot.cli.serving import run_serving

    settings = load_settings(service=True, http_host=host, http_port=port)
    run_serving(settings, engine_from(settings))


def deliver() -> None:
    """Send what is due in the outbox for the console (for trying things by hand)."""
    import asyncio
    import datetime as dt

    from bot.outbox import deliver_due
    from bot.transports.console import PLATFORM, ConsoleTransport

    settings = load_settings()
    engine = engine_from(settings)
    transport = ConsoleTransport(typer.echo, settings.language, addressed=True)
    stats = asyncio.run(
        deliver_due(engine.db, {PLATFORM: transport}, dt.datetime.now(dt.UTC), "cli")
    )
    say(
        settings.language,
        "cli_delivered",
        sent=stats.sent,
        retried=stats.retried,
        failed=stats.failed,
    )
