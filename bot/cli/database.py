"""`beholde db upgrade`: create or migrate the schema."""

from __future__ import annotations

import typer

from bot.cli.common import engine_from, h, load_settings, say

db_app = typer.Typer(help=h("db"), no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


@db_app.command("upgrade", help=h("db.upgrade"))
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    from storage.db import safe_url

    settings = load_settings()
    engine_from(settings)
    say(settings.language, "cli_db_ready", url=safe_url(settings.database_url))
