"""A reference for the CLI start-up benchmark: the same libraries, none of beholde's logic.

    .venv/bin/python bench/cli_reference.py --help      # typer with lazy imports
    .venv/bin/python bench/cli_reference.py status URL  # + SQLAlchemy, one count query

`beholde --help` and `beholde round status` are measured beside these two in the same run
(see bench/RESULTS.md, "CLI start-up").
"""

from __future__ import annotations

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True)


@app.command()
def status(url: str) -> None:
    """Count invitations of the newest round, as `beholde round status` does."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM invitations")).scalar()
    typer.echo(f"{count} invited")


@app.command()
def other() -> None:
    """A second command, so that typer shows a command list like beholde's."""


if __name__ == "__main__":
    app()
