"""`beholde teams package`: the Teams app package (.zip) with this instance's app id."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import fail, h, load_settings, say

teams_app = typer.Typer(help=h("teams"), no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(teams_app, name="teams")


@teams_app.command("package", help=h("teams.package"))
def package_command(
    out: Annotated[Path, typer.Option("--out", help=h("teams.package.out"))] = Path(
        "beholde-teams.zip"
    ),
) -> None:
    """Write the Teams app package (.zip) with this instance's app id filled in."""
    from bot.teams_package import package

    settings = load_settings()
    if not settings.teams_app_id:
        raise fail(settings.language, "cli_teams_no_app_id", code=2)
    written = package(
        out,
        settings.teams_app_id,
        settings.teams_privacy_url,
        settings.teams_terms_url,
        settings.organisation,
    )
    say(settings.language, "cli_teams_written", file=str(written))
