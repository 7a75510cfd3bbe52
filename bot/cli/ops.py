"""`beholde backup`, `restore` and `doctor`: thin command-line faces of bot/backup.py and
bot/doctor.py, registered with the CLI package. Their output is in the configured language."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.common import h, load_settings
from bot.cli.common import text as t

if TYPE_CHECKING:
    from bot.settings import Settings


def register(app: typer.Typer) -> None:
    app.command("backup", help=h("backup"))(backup)
    app.command("restore", help=h("restore"))(restore)
    app.command("doctor", help=h("doctor"))(doctor)


def _reason(error: Exception, lang: str) -> str:
    """A backup problem in the catalogue's words; the operating system's own otherwise."""
    from bot.backup import BackupError

    if isinstance(error, BackupError):
        return error.text(lang)
    return f"{type(error).__name__}: {getattr(error, 'strerror', None) or error}"


def _settings() -> Settings:
    return load_settings()


def backup(
    file: Annotated[Path, typer.Argument(metavar=h("metavar.file"), help=h("backup.file"))],
) -> None:
    """Back up the database and the planning key into one file (safe while serving)."""
    from bot import backup as ops

    settings = _settings()
    lang = settings.language
    try:
        info = ops.backup(settings, file)
    except (ops.BackupError, OSError) as error:
        typer.echo(t(lang, "ops.backup.failed", error=_reason(error, lang)), err=True)
        raise typer.Exit(1) from None
    key = t(lang, "ops.yes" if info.planning_key else "ops.no")
    typer.echo(
        t(
            lang,
            "ops.backup.done",
            file=file,
            database=info.database,
            rev=info.revision,
            planning=key,
        )
    )
    if settings.planning_secret is not None:
        typer.echo(t(lang, "ops.backup.secret_note"))


def restore(
    file: Annotated[Path, typer.Argument(metavar=h("metavar.file"), help=h("restore.file"))],
) -> None:
    """Replace the database (and the planning key) with a backup's. Stop the service first."""
    from bot import backup as ops

    settings = _settings()
    lang = settings.language
    try:
        info = ops.restore(settings, file)
    except (ops.BackupError, OSError) as error:
        typer.echo(t(lang, "ops.backup.failed", error=_reason(error, lang)), err=True)
        raise typer.Exit(1) from None
    typer.echo(t(lang, "ops.backup.restored", file=file, database=info.database, rev=info.revision))


def doctor() -> None:
    """Check settings, database, each platform's token and the steering targets."""
    from bot.doctor import run_checks
    from bot.settings import Settings

    checks, lang = run_checks(Settings)
    for check in checks:
        typer.echo(check.line(lang))
    failed = sum(1 for c in checks if c.status == "fail")
    typer.echo(
        t(lang, "ops.doctor.summary_fail", n=failed) if failed else t(lang, "ops.doctor.summary_ok")
    )
    if failed:
        raise typer.Exit(1)
