"""Inbound deliveries already taken: the `inbound_events` table's unique key stops repeats.

Chat platforms deliver at least once (Slack retries when our answer is slow, Telegram may
repeat an update after a restart). A transport claims the delivery's identity before it acts;
the second claim of the same identity fails on the primary key, whatever instance gets it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import InboundEvent

MAX_KEY = 200


def claim(db: Database, platform: str, key: str, now: dt.datetime) -> bool:
    """True the first time this (platform, key) is seen, False for a repeat."""
    try:
        with db.transaction() as session:
            session.add(InboundEvent(platform=platform, event_key=key[:MAX_KEY], received_at=now))
    except IntegrityError:
        return False
    return True


def release(db: Database, platform: str, key: str) -> None:
    """Forget a claim whose handling failed, so that the platform's retry is handled."""
    with db.transaction() as session:
        session.execute(
            delete(InboundEvent).where(
                InboundEvent.platform == platform, InboundEvent.event_key == key[:MAX_KEY]
            )
        )


def prune(db: Database, platform: str, before: dt.datetime) -> int:
    """Drop claims older than any retry the platform would still make."""
    with db.transaction() as session:
        result = session.execute(
            delete(InboundEvent).where(
                InboundEvent.platform == platform, InboundEvent.received_at < before
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


def claim_from(db: Database, platform: str, key: str, chat_id: str, now: dt.datetime) -> str:
    """Claim a delivery and say who sent it, in one transaction (one round trip per press).

    Returns "repeat" for a delivery seen before, "known" when the chat belongs to a person,
    "stranger" otherwise.
    """
    from storage.people import by_address

    try:
        with db.transaction() as session:
            session.add(InboundEvent(platform=platform, event_key=key[:MAX_KEY], received_at=now))
            session.flush()
            return "known" if by_address(session, platform, chat_id) is not None else "stranger"
    except IntegrityError:
        return "repeat"
