"""Inbound deliveries already taken: the `inbound_events` table's unique key stops repeats.

Chat platforms deliver at least once (Slack retries when our answer is slow, Telegram may
repeat an update after a restart). The inbound path claims the delivery's identity in the
same transaction that handles it: a repeat finds the key taken and does nothing, whatever
instance gets it, and a failed handling rolls the claim back with everything else, so the
platform's retry is handled.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, cast

from sqlalchemy import Table, delete
from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import InboundEvent

MAX_KEY = 200


def claim(session: Session, platform: str, key: str, now: dt.datetime) -> bool:
    """True the first time this (platform, key) is seen, False for a repeat.

    One `INSERT … ON CONFLICT DO NOTHING`: a repeat costs no error and leaves the
    transaction usable. On PostgreSQL a concurrent claim of the same key waits for the first
    transaction and then sees it taken (or free again, if the first one rolled back).
    """
    connection = session.connection()
    statement = _claim_statement(connection.dialect.name)
    values = {"platform": platform, "event_key": key[:MAX_KEY], "received_at": now}
    return connection.execute(statement, values).first() is not None


@functools.cache
def _claim_statement(dialect: str) -> Any:
    """Built once per dialect (its cache key too): a press pays only for executing it. The
    dialect's own module is imported here: PostgreSQL's is ~2 MB a SQLite service never needs."""
    table = cast(Table, InboundEvent.__table__)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing().returning(table.c.event_key)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing().returning(table.c.event_key)


def prune(db: Database, platform: str, before: dt.datetime) -> int:
    """Drop claims older than any retry the platform would still make."""
    with db.transaction() as session:
        result = session.execute(
            delete(InboundEvent).where(
                InboundEvent.platform == platform, InboundEvent.received_at < before
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
