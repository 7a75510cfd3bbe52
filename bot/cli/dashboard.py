"""`beholde dashboard link NAME`: a personal one-time link to the steering group's page."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import engine_from, fail, h, load_settings

dashboard_app = typer.Typer(help=h("dashboard"), no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(dashboard_app, name="dashboard")


@dashboard_app.command("link", help=h("dashboard.link"))
def link(
    name: Annotated[str, typer.Argument(metavar=h("metavar.name"), help=h("person"))],
) -> None:
    """Print a link valid 15 minutes, once, for someone with role steering or leader."""
    from bot.dashboard.links import link_for

    settings = load_settings()
    engine = engine_from(settings)
    url = link_for(engine.db, settings, name, engine.clock())
    if url is None:
        raise fail(settings.language, "cli_dashboard_no_person")
    typer.echo(url)
