"""Platform rate budgets shared by every instance on one PostgreSQL database.

Slack's tiers (per method and workspace), Telegram's 30 messages a second and Teams' tenant
limit are per app: two instances pacing only themselves could together exceed them. On
PostgreSQL — the only database several instances share — each transport's budget pacer
(`shared_pacers()`) also takes a place in a window kept in the database (storage/budgets.py)
before each call. On SQLite one instance runs, its own pacer is exact, and nothing is shared.

If the database cannot be asked, the call goes ahead on the local pacer alone (and that is
logged once): a database hiccup must not stop a reply that is already being sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from bot.pacing import Limit
from storage import budgets
from storage.db import Database

log = logging.getLogger(__name__)


class DatabaseBudgets:
    """`bot.pacing.SharedLimits` over the `rate_spends` table."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.taken = 0  # places taken, for tests and benchmarks
        self.waits = 0  # times another instance's calls made this one wait
        self._failing = False

    async def take(self, key: str, limits: Sequence[Limit]) -> float:
        try:
            wait = await asyncio.to_thread(self._take, key, limits)
        except Exception as error:
            if not self._failing:
                log.warning(
                    "shared rate budget unavailable (%s); pacing locally", type(error).__name__
                )
            self._failing = True
            return 0.0
        self._failing = False
        if wait > 0:
            self.waits += 1
        else:
            self.taken += 1
        return wait

    def _take(self, key: str, limits: Sequence[Limit]) -> float:
        with self.db.transaction() as session:
            return budgets.take(session, key, limits)


def share(db: Database, transports: Mapping[str, Any]) -> DatabaseBudgets | None:
    """Make every transport's budget pacers count in the shared windows (PostgreSQL only)."""
    if db.is_sqlite:
        return None
    shared = DatabaseBudgets(db)
    for name, transport in transports.items():
        pacers = getattr(transport, "shared_pacers", None)
        if pacers is None:
            continue
        for suffix, (pacer, scope) in pacers().items():
            pacer.share(shared, f"{name}:{suffix}" if suffix else name, scope)
    return shared
