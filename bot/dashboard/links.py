"""One-time links to the dashboard: issued here, spent in `bot.dashboard.web`.

Kept free of aiohttp and the summary's libraries, so `beholde dashboard link` and `/styring`
stay light.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from storage import dashboard as store

if TYPE_CHECKING:
    from bot.settings import Settings
    from storage.db import Database

PATH = "/styring"


def base_url(settings: Settings) -> str:
    return (settings.public_url or f"http://{settings.http_host}:{settings.http_port}").rstrip("/")


def link_for(db: Database, settings: Settings, name: str, now: dt.datetime) -> str | None:
    """A personal one-time link for NAME, or None when NAME may not see the dashboard."""
    with db.transaction() as session:
        person = store.find_person(session, name)
        token = store.issue_link(session, person, now) if person is not None else None
    return f"{base_url(settings)}{PATH}/inn?t={token}" if token else None
