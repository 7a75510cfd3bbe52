"""`beholde dashboard link NAME`: a personal one-time link to the steering group's page."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

dashboard_app = typer.Typer(help="The steering group's dashboard.", no_args_is_help=True)
console = Console()


@dashboard_app.command("link")
def link(
    name: Annotated[str, typer.Argument(help="The person's name or e-mail on the roster.")],
) -> None:
    """Print a link valid 15 minutes, once, for someone with role steering or leader."""
    from bot.cli import engine_from, load_settings
    from bot.dashboard import link_for

    settings = load_settings()
    engine = engine_from(settings)
    url = link_for(engine.db, settings, name, engine.clock())
    if url is None:
        console.print(
            "No link: no one by that name on the roster has role steering or leader.",
            style="red",
            markup=False,
        )
        raise typer.Exit(1)
    typer.echo(url)
