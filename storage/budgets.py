"""Rate budgets shared by every instance on one database (Slack tiers, Telegram's 30/s …).

A platform counts calls per app, not per process, so two instances on one PostgreSQL that
each keep their own pacer could together send twice the limit. Each call first takes one
place in the shared window here: a row `(key, at)` in `rate_spends`, where `key` names the
budget and window (`slack:chat.update@50/60`). Taking is one short transaction that locks
the budget (a transaction-scoped advisory lock on PostgreSQL; SQLite's `BEGIN IMMEDIATE`
already serialises writers), counts the places taken in the last `period` seconds and either
adds one or says how long until one frees. Times come from the database's clock on
PostgreSQL, so instances on hosts whose clocks differ still share one window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Index, Integer, String, delete, func, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base, UTCDateTime

Limit = tuple[int, float]  # at most `count` calls in any `period` seconds


class RateSpend(Base):
    """One call's place in a shared rate window; gone once the window has passed it."""

    __tablename__ = "rate_spends"
    __table_args__ = (Index("ix_rate_spends_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


def window_key(name: str, limit: Limit) -> str:
    count, period = limit
    return f"{name}@{count}/{period:g}"[:120]


def database_now(session: Session) -> dt.datetime:
    """The shared clock: PostgreSQL's (instances on several hosts agree), else this host's."""
    if session.get_bind().dialect.name == "postgresql":
        value = session.scalar(select(func.clock_timestamp()))
        assert value is not None
        return value.astimezone(dt.UTC)
    return dt.datetime.now(dt.UTC)


def take(
    session: Session, name: str, limits: Sequence[Limit], now: dt.datetime | None = None
) -> float:
    """Take one place under every limit of budget `name`: 0.0 if taken, else the seconds
    until one frees (nothing is taken then). Call inside a transaction of its own."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
    now = database_now(session) if now is None else now
    wait = 0.0
    for limit in limits:
        count, period = limit
        key = window_key(name, limit)
        start = now - dt.timedelta(seconds=period)
        session.execute(delete(RateSpend).where(RateSpend.key == key, RateSpend.at <= start))
        taken = list(
            session.scalars(
                select(RateSpend.at)
                .where(RateSpend.key == key, RateSpend.at > start)
                .order_by(RateSpend.at)
            )
        )
        if len(taken) >= count:
            # The oldest place that must leave the window before one more call fits.
            frees = taken[len(taken) - count] + dt.timedelta(seconds=period)
            wait = max(wait, (frees - now).total_seconds(), 0.001)
    if wait > 0:
        return wait
    session.execute(
        insert(RateSpend), [{"key": window_key(name, lim), "at": now} for lim in limits]
    )
    return 0.0


def taken_in(session: Session, name: str, limit: Limit, now: dt.datetime) -> int:
    """Places of one window taken in the `period` before `now` (for tests and /metrics)."""
    start = now - dt.timedelta(seconds=limit[1])
    return int(
        session.scalar(
            select(func.count()).where(
                RateSpend.key == window_key(name, limit), RateSpend.at > start
            )
        )
        or 0
    )
