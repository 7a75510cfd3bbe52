"""Serving until stopped, shared by both starts of `beholde serve`; imports nothing heavy, so
that `bot.cli`'s typer-free start can use it (bot/cli/__init__.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.conversation import Conversation
    from bot.settings import Settings


def run_serving(settings: Settings, engine: Conversation) -> None:
    """Serve until stopped, for both starts of `beholde serve` (`bot.cli.serve_quietly` and
    bot/cli/service.py's); a port that cannot be opened is said in one sentence, exit 2."""
    import asyncio

    from bot.serve import Service, run_service

    try:
        asyncio.run(run_service(Service(settings, engine), settings.http_host, settings.http_port))
    except OSError as error:
        from bot.cli.common import fail

        code = fail(settings.language, "cli_http_failed", code=2, error=str(error)).exit_code
        raise SystemExit(code) from None
