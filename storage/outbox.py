"""The durable outbox: every proactive message is a row before it is a platform call.

Rows are written in the same transaction as the change that causes them, claimed with a
lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several instances never take the same row),
and marked sent only after the platform said ok. A crash between sending and marking repeats
only the messages that were in flight; none is lost.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    event,
    func,
    not_,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from storage.models import OutboxMessage

MAX_ERROR = 500
CHANNEL = "beholde_outbox"  # PostgreSQL NOTIFY channel: "something was queued"
QUEUED = "beholde_outbox_queued"  # session.info flag: this transaction queued a message

_listeners: list[Callable[[], None]] = []
_listeners_lock = threading.Lock()


def on_queued(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` (from any thread) after each commit that queued a message.

    This is how the delivery loop of this process wakes at once; other instances hear the
    PostgreSQL NOTIFY sent in the same transaction. Returns a function that unsubscribes.
    """
    with _listeners_lock:
        _listeners.append(callback)

    def unsubscribe() -> None:
        with _listeners_lock:
            if callback in _listeners:
                _listeners.remove(callback)

    return unsubscribe


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(QUEUED, False):
        with _listeners_lock:
            callbacks = list(_listeners)
        for callback in callbacks:
            callback()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(QUEUED, None)


def _announce(session: Session) -> None:
    """Mark the transaction as having queued something; on PostgreSQL also NOTIFY (once)."""
    if session.info.get(QUEUED):
        return
    session.info[QUEUED] = True
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


def enqueue(
    session: Session,
    *,
    dedupe_key: str,
    platform: str,
    chat_id: str,
    kind: str,
    payload: dict[str, Any],
    not_before: dt.datetime,
    now: dt.datetime,
    person_id: int | None = None,
    expires_at: dt.datetime | None = None,
) -> bool:
    """Add a message unless one with the same dedupe key exists; True if added."""
    exists = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                OutboxMessage(
                    dedupe_key=dedupe_key,
                    person_id=person_id,
                    platform=platform,
                    chat_id=chat_id,
                    kind=kind,
                    payload=payload,
                    not_before=not_before,
                    expires_at=expires_at,
                    status="pending",
                    attempts=0,
                    created_at=now,
                )
            )
    except IntegrityError:
        return False
    _announce(session)
    return True


def enqueue_all(
    session: Session,
    *,
    key: str,
    platform: str,
    chat_id: str,
    kind: str,
    payloads: Sequence[dict[str, Any]],
    now: dt.datetime,
    person_id: int | None = None,
    not_before: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
) -> int:
    """Queue messages for one chat in order, keyed `{key}:{i}`; returns how many were new."""
    return sum(
        enqueue(
            session,
            dedupe_key=f"{key}:{i}",
            platform=platform,
            chat_id=chat_id,
            kind=kind,
            payload=payload,
            not_before=not_before or now,
            now=now,
            person_id=person_id,
            expires_at=expires_at,
        )
        for i, payload in enumerate(payloads)
    )


def _due_unclaimed(now: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    """Pending, due by `now`, and not leased (or its lease has run out)."""
    return (
        OutboxMessage.status == "pending",
        OutboxMessage.not_before <= now,
        or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
    )


def claim_due(
    session: Session,
    now: dt.datetime,
    worker: str,
    lease: dt.timedelta,
    limit: int = 100,
    platforms: Sequence[str] | None = None,
    busy_chats: Sequence[tuple[str, str]] = (),
    skip_ids: Sequence[int] = (),
) -> list[OutboxMessage]:
    """Take up to `limit` due rows for this worker until the lease runs out.

    One chat's messages never overtake each other, across instances too: a chat with a
    message leased by anyone (being sent right now) is skipped, `busy_chats` (platform, chat
    id) are the chats this worker sends to right now, and on PostgreSQL a chat's rows are
    kept only from its first due message on (`_in_order`: another instance may have locked
    that one a moment ago). `skip_ids` were already handled in this pass.
    """
    other = aliased(OutboxMessage)
    # Not correlated: computed once per claim (a hashed subplan), whatever the planner knows.
    leased_chats = select(other.platform, other.chat_id).where(
        other.status == "pending", other.lease_until >= now
    )
    leased_elsewhere = tuple_(OutboxMessage.platform, OutboxMessage.chat_id).in_(leased_chats)
    query = (
        select(OutboxMessage)
        .where(*_due_unclaimed(now), not_(leased_elsewhere))
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit)
    )
    if platforms is not None:
        query = query.where(OutboxMessage.platform.in_(list(platforms)))
    if busy_chats:
        query = query.where(
            not_(tuple_(OutboxMessage.platform, OutboxMessage.chat_id).in_(list(busy_chats)))
        )
    if skip_ids:
        query = query.where(OutboxMessage.id.not_in(list(skip_ids)))
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        query = query.with_for_update(skip_locked=True, of=OutboxMessage)
    rows = list(session.scalars(query))
    if postgres and rows:
        rows = _in_order(session, rows, now)
    for row in rows:
        row.lease_until = now + lease
        row.claimed_by = worker
        row.attempts += 1
    session.flush()
    return rows


def _in_order(session: Session, rows: list[OutboxMessage], now: dt.datetime) -> list[OutboxMessage]:
    """Keep each chat's rows only up to the first due row of that chat that is not ours.

    `SKIP LOCKED` passes over rows another instance is claiming at this very moment; its
    chat's later rows must then wait for it, or they would overtake it. Read after our rows
    are locked, so a claim committed meanwhile is seen.
    """
    chats = sorted({(row.platform, row.chat_id) for row in rows})
    due = session.execute(
        select(OutboxMessage.platform, OutboxMessage.chat_id, OutboxMessage.id)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.not_before <= now,
            tuple_(OutboxMessage.platform, OutboxMessage.chat_id).in_(chats),
        )
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
    )
    ours = {row.id for row in rows}
    blocked: set[tuple[str, str]] = set()
    keep: set[int] = set()
    for platform, chat_id, row_id in due:
        chat = (platform, chat_id)
        if chat in blocked:
            continue
        if row_id in ours:
            keep.add(row_id)
        else:
            blocked.add(chat)
    return [row for row in rows if row.id in keep]


def mark_sent(
    session: Session | Connection, message_id: int, now: dt.datetime, platform_id: str | None
) -> None:
    """Sent: one statement, so the service can mark each send on a bare connection at once."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status="sent", sent_at=now, platform_message_id=platform_id, lease_until=None)
    )


def renew(session: Session, message_ids: Sequence[int], worker: str, until: dt.datetime) -> int:
    """Extend this worker's leases on rows it is still sending: a slow batch stays its own.

    Only leases that still run: a row whose failure was recorded a moment ago (lease cleared,
    due at its retry) must not be leased again by a renewal that was already on its way.
    """
    if not message_ids:
        return 0
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(list(message_ids)),
            OutboxMessage.claimed_by == worker,
            OutboxMessage.status == "pending",
            OutboxMessage.lease_until.is_not(None),
        )
        .values(lease_until=until)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def lease_holders(session: Session, now: dt.datetime) -> list[str]:
    """The workers that hold a lease on a pending row right now."""
    return list(
        session.scalars(
            select(OutboxMessage.claimed_by)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.claimed_by.is_not(None),
                OutboxMessage.lease_until >= now,
            )
            .distinct()
        )
    )


def live_sessions(session: Session) -> set[str]:
    """PostgreSQL: the application names of every connection to this database right now."""
    return set(
        session.scalars(
            text("SELECT application_name FROM pg_stat_activity WHERE datname = current_database()")
        )
    )


def take_back(session: Session, workers: Sequence[str]) -> int:
    """Free the leases of workers that are gone: their rows are due again at once."""
    if not workers:
        return 0
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.claimed_by.in_(list(workers)))
        .values(lease_until=None, claimed_by=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def hold_back_chat(
    session: Session, platform: str, chat_id: str, after_id: int, not_before: dt.datetime
) -> None:
    """A chat's message waits for a retry: its later pending messages wait at least as long."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.platform == platform,
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.status == "pending",
            OutboxMessage.id > after_id,
            OutboxMessage.not_before < not_before,
        )
        .values(not_before=not_before)
    )


def next_due(session: Session, now: dt.datetime, platforms: Sequence[str]) -> dt.datetime | None:
    """When the earliest pending row on these platforms becomes claimable: when it is due,
    or, if it is leased, when its lease runs out (a lease that lapses changes no file, so an
    idle SQLite loop would not look again otherwise)."""
    leased = and_(OutboxMessage.lease_until.is_not(None), OutboxMessage.lease_until >= now)
    free_at = case(
        (
            and_(leased, OutboxMessage.lease_until > OutboxMessage.not_before),
            OutboxMessage.lease_until,
        ),
        else_=OutboxMessage.not_before,
    )
    return session.scalar(
        select(func.min(free_at)).where(
            OutboxMessage.status == "pending",
            OutboxMessage.platform.in_(list(platforms)),
        )
    )


def mark_sent_many(
    session: Session, sent: Sequence[tuple[int, str | None]], now: dt.datetime
) -> None:
    """Mark several rows sent in one statement batch (row id, platform message id)."""
    session.execute(
        update(OutboxMessage),
        [
            {
                "id": row_id,
                "status": "sent",
                "sent_at": now,
                "platform_message_id": platform_id,
                "lease_until": None,
            }
            for row_id, platform_id in sent
        ],
    )


def mark_failed(
    session: Session, message_id: int, reason: str, final: bool, retry_at: dt.datetime | None
) -> None:
    """Record a failure: final ones stay visible with their reason, others are retried later."""
    values: dict[str, Any] = {"last_error": reason[:MAX_ERROR], "lease_until": None}
    if final:
        values["status"] = "failed"
    elif retry_at is not None:
        values["not_before"] = retry_at
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))


def release(session: Session, message_ids: list[int], not_before: dt.datetime) -> None:
    """Give claimed but unsent rows back, due again at `not_before` (the try is not counted)."""
    if not message_ids:
        return
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids), OutboxMessage.status == "pending")
        .values(
            lease_until=None,
            claimed_by=None,
            not_before=not_before,
            attempts=OutboxMessage.attempts - 1,
        )
    )


def mark_dropped(session: Session, message_id: int, reason: str) -> None:
    """A message no longer relevant (its gathering passed); kept with the reason, never sent."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status="dropped", last_error=reason[:MAX_ERROR], lease_until=None)
    )


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    return {status: n for status, n in rows}


def pending_by_platform(session: Session) -> dict[str, int]:
    """How many messages wait to be sent, per platform (for /metrics)."""
    query = (
        select(OutboxMessage.platform, func.count())
        .where(OutboxMessage.status == "pending")
        .group_by(OutboxMessage.platform)
    )
    return {platform: int(n) for platform, n in session.execute(query).all()}


def oldest_due_by_platform(session: Session, now: dt.datetime) -> dict[str, dt.datetime]:
    """When the oldest message already due became due, per platform (for /metrics)."""
    query = (
        select(OutboxMessage.platform, func.min(OutboxMessage.not_before))
        .where(OutboxMessage.status == "pending", OutboxMessage.not_before <= now)
        .group_by(OutboxMessage.platform)
    )
    return {platform: when for platform, when in session.execute(query).all()}


async def notifications(url: str, application_name: str) -> AsyncIterator[None]:
    """PostgreSQL: yield once when LISTEN is in place, then once per NOTIFY on CHANNEL.

    Its own autocommit connection (psycopg's async one), so that a wake-up never waits for a
    pool slot; the caller reconnects when it ends or fails.
    """
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    async with await psycopg.AsyncConnection.connect(
        conninfo, autocommit=True, application_name=application_name
    ) as conn:
        await conn.execute(f"LISTEN {CHANNEL}")
        yield
        async for _notice in conn.notifies():
            yield


def take_due_for_chat(
    session: Session, platform: str, chat_id: str, now: dt.datetime
) -> list[dict]:
    """The payloads of one chat's due, unclaimed messages, in order, marked sent as they are
    handed over: for the terminal chat, which shows them itself (else `deliver` would show
    the same question a second time)."""
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.platform == platform,
            OutboxMessage.chat_id == chat_id,
            *_due_unclaimed(now),
            or_(OutboxMessage.expires_at.is_(None), OutboxMessage.expires_at > now),
        )
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
    )
    rows = list(session.scalars(query))
    for row in rows:
        mark_sent(session, row.id, now, "terminal")
    return [dict(row.payload) for row in rows]
