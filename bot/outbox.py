"""Durable delivery: claim due outbox rows, send them through their transport, mark them.

At-least-once: a row is marked sent only after the platform said ok, so a crash between
send and mark repeats only the messages that were in flight. Failures are retried with
exponential backoff and jitter; a permanent failure (the person blocked the bot) is recorded
with its reason and stops further sends to that person. Nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import update

from bot.ports import Address, OutgoingMessage, SendError, Transport
from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage, Person
from surveys.network import Window

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = dt.timedelta(seconds=120)
MARK_BATCH = 20  # sent rows marked per transaction
CHANNEL_KINDS = frozenset({"steering"})  # outbox kinds posted with post_to_channel


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


def backoff(attempt: int, retry_after: float | None = None) -> dt.timedelta:
    """How long to wait before the next try: the platform's wish, or 2^n s with jitter."""
    if retry_after is not None:
        return dt.timedelta(seconds=max(0.0, retry_after))
    base = min(2.0**attempt, 900.0)
    return dt.timedelta(seconds=base * random.uniform(0.5, 1.5))


async def deliver_due(
    db: Database,
    transports: Mapping[str, Transport],
    now: dt.datetime,
    worker: str,
    limit: int = 100,
) -> DeliveryStats:
    """Send what is due now on the platforms this process serves.

    Database work runs off the event loop, so a burst of reminders never delays the
    acknowledgement of a button press; sent rows are marked in small batches.
    """
    rows = await asyncio.to_thread(_claim, db, now, worker, limit, list(transports))
    stats = DeliveryStats()
    # One chat's messages go in order; different chats may go at once, as many as the
    # transport can pace (its optional `concurrency`; default one after another).
    by_chat: dict[tuple[str, str], list[OutboxMessage]] = {}
    for row in rows:
        by_chat.setdefault((row.platform, row.chat_id), []).append(row)
    gates = {
        name: asyncio.Semaphore(max(1, int(getattr(transport, "concurrency", 1))))
        for name, transport in transports.items()
    }
    marks = _Marks(db, now)

    async def deliver_chat(chat_rows: list[OutboxMessage]) -> None:
        platform = chat_rows[0].platform
        async with gates[platform]:
            for i, row in enumerate(chat_rows):
                retry_at = await _deliver_one(db, transports[platform], row, now, stats, marks)
                if retry_at is not None:  # later messages must not overtake this one
                    later = [r.id for r in chat_rows[i + 1 :]]
                    await asyncio.to_thread(_release, db, later, retry_at)
                    return

    await asyncio.gather(*(deliver_chat(chat_rows) for chat_rows in by_chat.values()))
    await marks.flush()
    return stats


def _claim(
    db: Database, now: dt.datetime, worker: str, limit: int, platforms: list[str]
) -> list[OutboxMessage]:
    with db.transaction() as session:
        rows = outbox.claim_due(session, now, worker, LEASE, limit, platforms=platforms)
        session.expunge_all()
    return rows


def _release(db: Database, row_ids: list[int], retry_at: dt.datetime) -> None:
    with db.transaction() as session:
        outbox.release(session, row_ids, retry_at)


class _Marks:
    """Sent rows, marked in small batches: fewer transactions, while the rows between send
    and mark — the only ones a crash can repeat — stay few."""

    def __init__(self, db: Database, now: dt.datetime) -> None:
        self.db = db
        self.now = now
        self.pending: list[tuple[int, str | None]] = []

    async def add(self, row_id: int, platform_id: str | None) -> None:
        self.pending.append((row_id, platform_id))
        if len(self.pending) >= MARK_BATCH:
            await self.flush()

    async def flush(self) -> None:
        batch, self.pending = self.pending, []
        if batch:
            await asyncio.to_thread(self._write, batch)

    def _write(self, batch: list[tuple[int, str | None]]) -> None:
        with self.db.transaction() as session:
            outbox.mark_sent_many(session, batch, self.now)


async def _deliver_one(
    db: Database,
    transport: Transport,
    row: OutboxMessage,
    now: dt.datetime,
    stats: DeliveryStats,
    marks: _Marks,
) -> dt.datetime | None:
    """Send one row; on failure, when the chat's next message may go (None after success)."""
    if row.expires_at is not None and row.expires_at <= now:
        await asyncio.to_thread(_drop, db, row.id)
        return None
    message = OutgoingMessage.from_payload(row.payload)
    try:
        if row.kind in CHANNEL_KINDS:  # the steering group: the transport knows its channel
            platform_id = await transport.post_to_channel(message)
        else:
            platform_id = await transport.send(Address(row.platform, row.chat_id), message)
    except SendError as error:
        final = error.permanent or row.attempts >= MAX_ATTEMPTS
        retry_at = (
            None if final else within_hours(row, now + backoff(row.attempts, error.retry_after))
        )
        await asyncio.to_thread(_record_failure, db, row, error, final, retry_at)
        if final:
            stats.failed += 1
            log.warning("outbox message %s failed for good: %s", row.id, error.reason)
        else:
            stats.retried += 1
        return retry_at or now
    await marks.add(row.id, platform_id)
    stats.sent += 1
    return None


def within_hours(row: OutboxMessage, moment: dt.datetime) -> dt.datetime:
    """A retry moved into the person's hours, if the row carries them (never at night)."""
    window, tz = row.payload.get("window"), row.payload.get("tz")
    if not window or not tz:
        return moment
    try:
        return Window.parse(window).fit(moment, ZoneInfo(tz))
    except (ValueError, KeyError):
        return moment


def _drop(db: Database, row_id: int) -> None:
    with db.transaction() as session:
        outbox.mark_dropped(session, row_id, "no longer relevant")


def _record_failure(
    db: Database, row: OutboxMessage, error: SendError, final: bool, retry_at: dt.datetime | None
) -> None:
    with db.transaction() as session:
        outbox.mark_failed(session, row.id, error.reason, final=final, retry_at=retry_at)
        if error.permanent and row.person_id is not None:
            session.execute(
                update(Person)
                .where(Person.id == row.person_id)
                .values(unreachable_reason=error.reason[:200])
            )
