"""A reference for the CLI start-up benchmark: the same libraries, none of beholde's logic.

    .venv/bin/python bench/cli_reference.py --help      # typer with lazy imports
    .venv/bin/python bench/cli_reference.py status URL  # + SQLAlchemy, one count query
    .venv/bin/python bench/cli_reference.py summary URL # + the newest round's answers, averaged

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
def summary(url: str) -> None:
    """Read the newest round's answers and print each question's mean, as a lower bound for
    `beholde summary` (which also suppresses, writes the ledger and words the text)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT question_id, value FROM responses WHERE value IS NOT NULL AND "
                "round_id = (SELECT max(id) FROM rounds WHERE status = 'closed')"
            )
        ).all()
    sums: dict[str, list[int]] = {}
    for question, value in rows:
        total = sums.setdefault(question, [0, 0])
        total[0] += value
        total[1] += 1
    for question, (total, count) in sorted(sums.items()):
        typer.echo(f"{question}: {total / count:.1f} ({count})")


@app.command()
def other() -> None:
    """A second command, so that typer shows a command list like beholde's."""


if __name__ == "__main__":
    app()
