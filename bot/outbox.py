"""Durable delivery: claim due outbox rows, send them through their transport, mark them.

At-least-once: a row is marked sent only after the platform said ok, and it is marked at once
— in its own small transaction — so a crash repeats only the sends that were in flight at
that instant (at most the transport's `concurrency`). Failures are retried with exponential
backoff and jitter; a permanent failure (the person blocked the bot) is recorded with its
reason and stops further sends to that person. Nothing is dropped silently.

The pipe stays full: `Delivery` runs one task per chat, as many at once as the transport's
`concurrency`, and claims the next chat's rows as soon as a slot is free — a message waiting
on a retry holds back only its own chat. The loop sleeps until the next row is due, and is
woken when this process queues something (or, on PostgreSQL, when another instance does,
by LISTEN/NOTIFY); otherwise it looks rarely. Leases are renewed while rows are being sent,
and leases of instances that are gone are taken back at start and while running, so a
restarted service resumes within seconds instead of waiting for the lease to run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

from bot import budgets, metrics
from bot.budgets import DatabaseBudgets
from bot.ports import Address, OutgoingMessage, SendError, Transport
from storage import outbox, people
from storage.db import INSTANCE, Database
from storage.models import OutboxMessage
from surveys.network import Window

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = dt.timedelta(seconds=60)
RENEW_EVERY = 15.0  # seconds between lease renewals of rows still being sent
IDLE_POLL = 1.0  # SQLite: seconds between looks at the database file (a stat, no query)
IDLE_POLL_NOTIFIED = 30.0  # PostgreSQL, where NOTIFY wakes us: seconds between queries
LIVENESS_EVERY = 5.0  # PostgreSQL: seconds between checks for leases of instances gone
LIVENESS_EVERY_SQLITE = 60.0  # SQLite runs one instance; others are checked at start
CHANNEL_KINDS = frozenset({"steering"})  # outbox kinds posted with post_to_channel
UNHEALTHY_AFTER = 5  # failed sends in a row before /healthz calls a platform unhealthy
PREFETCH = 2  # chats claimed per send slot: a freed slot starts the next chat at once

Clock = Callable[[], dt.datetime]
Chat = tuple[str, str]


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.dropped


def backoff(attempt: int, retry_after: float | None = None) -> dt.timedelta:
    """How long to wait before the next try: the platform's wish, or 2^n s with jitter."""
    if retry_after is not None:
        return dt.timedelta(seconds=max(0.0, retry_after))
    base = min(2.0**attempt, 900.0)
    return dt.timedelta(seconds=base * random.uniform(0.5, 1.5))


def concurrency(transport: Transport) -> int:
    """Sends to different chats a transport takes at once (its optional `concurrency`)."""
    return max(1, int(getattr(transport, "concurrency", 1)))


@dataclass
class Delivery:
    """One process's outbox pipeline over the transports it runs."""

    db: Database
    transports: Mapping[str, Transport]
    worker: str = INSTANCE
    clock: Clock = field(default=lambda: dt.datetime.now(dt.UTC))
    stats: DeliveryStats = field(default_factory=DeliveryStats)
    inflight: dict[Chat, asyncio.Task[None]] = field(default_factory=dict)
    held: set[int] = field(default_factory=set)  # claimed rows not yet finished
    gates: dict[str, asyncio.Semaphore] = field(default_factory=dict)  # sends in flight
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    claims: int = 0  # claim transactions, for the benchmarks
    chats_done: int = 0  # chat tasks finished, so a pass knows a chat came free meanwhile
    file_state: tuple[int, ...] = ()  # SQLite: the database files as last seen
    next_at: dt.datetime | None = None  # when the next known row becomes due
    failing: dict[str, int] = field(default_factory=dict)  # failed sends in a row, by platform
    budgets: DatabaseBudgets | None = None  # rate budgets shared with other instances
    database_path: str | None = None  # SQLite: the file looked at when idle
    eager_drain: bool = False  # drain claims whenever one slot frees (the benchmark's A/B)

    # ----------------------------------------------------------------- one pass

    async def drain(self, now: dt.datetime, limit: int | None = None) -> DeliveryStats:
        """Send every row due at `now` once (retries wait for a later pass); for the CLI and
        tests. Chats are refilled as slots free up, as in the service: once a quarter of the
        room is free, not after every chat (a claim per chat cost a pass of 2,000 rows more
        CPU than its sends, and the sends waited for it: bench/teams_fanout.py --via drain)."""
        done: set[int] = set()
        before = DeliveryStats(**vars(self.stats))
        while True:
            budget = None if limit is None else limit - len(done)
            if budget is not None and budget <= 0:
                break
            finished = self.chats_done
            started = await self.fill(now, skip=done, budget=budget, eager=self.eager_drain)
            if not started and not self.inflight:
                if self.chats_done != finished:
                    continue  # a chat finished while we claimed: its later rows are free now
                break
            if self.inflight:
                await asyncio.wait(set(self.inflight.values()), return_when=asyncio.FIRST_COMPLETED)
        if self.inflight:
            await asyncio.gather(*self.inflight.values(), return_exceptions=True)
        return DeliveryStats(
            self.stats.sent - before.sent,
            self.stats.retried - before.retried,
            self.stats.failed - before.failed,
            self.stats.dropped - before.dropped,
        )

    # ----------------------------------------------------------------- the service loop

    async def run(self, stopping: asyncio.Event) -> None:
        """Deliver until `stopping` is set; what was claimed is finished or given back."""
        if not self.transports:
            return
        loop = asyncio.get_running_loop()

        def queued_here() -> None:  # called after a commit, from any thread
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(self.wake.set)

        unsubscribe = outbox.on_queued(queued_here)
        self.budgets = budgets.share(self.db, self.transports)  # PostgreSQL: with all instances
        helpers = [asyncio.create_task(self._renew_loop(stopping))]
        notified = not self.db.is_sqlite
        if notified:
            helpers.append(asyncio.create_task(self._listen(stopping)))
        try:
            await self._take_back_dead(self.clock(), at_start=True)
            checked = loop.time()
            liveness = LIVENESS_EVERY if notified else LIVENESS_EVERY_SQLITE
            while not stopping.is_set():
                woken = self.wake.is_set()
                self.wake.clear()
                now = self.clock()
                try:
                    due = self.next_at is not None and self.next_at <= now
                    if not (woken or due or self.inflight or self._files_changed()):
                        await self._sleep(stopping, self._idle_wait(now, notified))
                        continue
                    started = await self.fill(now, eager=False)
                    if loop.time() - checked >= liveness:
                        checked = loop.time()
                        if await self._take_back_dead(now):
                            continue
                    wait = await self._until_next(now, notified, started)
                except Exception:
                    log.exception("outbox delivery failed; trying again shortly")
                    wait = IDLE_POLL
                await self._sleep(stopping, wait)
        finally:
            unsubscribe()
            for task in helpers:
                task.cancel()
            # Let sends in flight finish briefly; whatever is left keeps its lease and is
            # taken back by the next instance (at most the in-flight sends repeat).
            if self.inflight:
                await asyncio.wait(set(self.inflight.values()), timeout=5)
            unfinished = sorted(self.held)
            for task in self.inflight.values():
                task.cancel()
            await asyncio.gather(*helpers, *self.inflight.values(), return_exceptions=True)
            if unfinished:  # claimed, not sent: due again now, for whoever runs next
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(self._release, unfinished)

    async def _sleep(self, stopping: asyncio.Event, seconds: float) -> None:
        if seconds <= 0:
            return
        waiters = [asyncio.create_task(self.wake.wait()), asyncio.create_task(stopping.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _files_changed(self) -> bool:
        """SQLite: whether any connection wrote since we last looked (a stat of the database
        and its WAL: how a CLI command in another process is noticed without a query).
        PostgreSQL: always "maybe" — there, idle looks are rare and NOTIFY wakes us."""
        if not self.db.is_sqlite:
            return True
        database = self._database_path()
        state: list[int] = []
        for suffix in ("", "-wal"):
            try:
                info = os.stat(database + suffix)
            except OSError:
                state += [0, 0]
                continue
            state += [info.st_mtime_ns, info.st_size]
        changed = tuple(state) != self.file_state
        self.file_state = tuple(state)
        return changed or not database or database == ":memory:"

    def _database_path(self) -> str:
        if self.database_path is None:
            self.database_path = make_url(self.db.url).database or ""
        return self.database_path

    def _idle_wait(self, now: dt.datetime, notified: bool) -> float:
        """Nothing changed: sleep one poll, or less if a known row becomes due sooner."""
        poll = IDLE_POLL_NOTIFIED if notified else IDLE_POLL
        if self.next_at is None:
            return poll
        return max(0.0, min(poll, (self.next_at - now).total_seconds()))

    async def _until_next(self, now: dt.datetime, notified: bool, started: int) -> float:
        """Seconds to sleep: until the next row is due, at most the idle poll.

        A chat task that ends sets `wake`, so rows held back behind a chat being sent to
        need no timer; rows due now that this pass could not start mean exactly that.
        """
        poll = IDLE_POLL_NOTIFIED if notified else IDLE_POLL
        if self.inflight and not started:  # a chat that ends wakes us; no query needed now
            return poll
        if not self._free_platforms():
            return poll
        due = self.next_at = await asyncio.to_thread(self._next_due, now)
        if due is None:
            return poll
        seconds = (due - now).total_seconds()
        if seconds <= 0:
            return 0.0 if started else poll
        return min(poll, seconds)

    def _next_due(self, now: dt.datetime) -> dt.datetime | None:
        with self.db.reading() as session:
            return outbox.next_due(session, now, list(self.transports))

    # ----------------------------------------------------------------- claiming

    def _free_platforms(self, eager: bool = True) -> dict[str, int]:
        """Chats each platform could take on now. Not eager: only once a quarter of its
        room is free (fewer, larger claims), or when it has nothing at all."""
        busy: dict[str, int] = {}
        for platform, _chat in self.inflight:
            busy[platform] = busy.get(platform, 0) + 1
        free = {}
        for name, transport in self.transports.items():
            room = PREFETCH * concurrency(transport)
            n = room - busy.get(name, 0)
            if n > 0 and (eager or not busy.get(name) or n >= max(1, room // 4)):
                free[name] = n
        return free

    def _gate(self, platform: str) -> asyncio.Semaphore:
        gate = self.gates.get(platform)
        if gate is None:
            gate = self.gates[platform] = asyncio.Semaphore(concurrency(self.transports[platform]))
        return gate

    async def fill(
        self,
        now: dt.datetime,
        skip: set[int] | None = None,
        budget: int | None = None,
        eager: bool = True,
    ) -> int:
        """Claim rows for every free slot and start their chats; returns chats started."""
        started = 0
        for platform, free in self._free_platforms(eager).items():
            limit = free if budget is None else min(free, budget - started)
            if limit <= 0:
                break
            # Snapshots taken here, on the loop: chat tasks change `inflight` meanwhile.
            busy, skipped = list(self.inflight), sorted(skip or ())
            rows = await asyncio.to_thread(self._claim, now, platform, limit, busy, skipped)
            by_chat: dict[Chat, list[OutboxMessage]] = {}
            for row in rows:
                by_chat.setdefault((row.platform, row.chat_id), []).append(row)
                self.held.add(row.id)
                if skip is not None:
                    skip.add(row.id)
            for chat, chat_rows in by_chat.items():
                task = asyncio.create_task(self._deliver_chat(chat, chat_rows, now))
                self.inflight[chat] = task
                started += 1
        return started

    def _claim(
        self, now: dt.datetime, platform: str, limit: int, busy: list[Chat], skip: list[int]
    ) -> list[OutboxMessage]:
        self.claims += 1
        with self.db.transaction() as session:
            rows = outbox.claim_due(
                session,
                now,
                self.worker,
                LEASE,
                limit,
                platforms=[platform],
                busy_chats=busy,
                skip_ids=skip,
            )
            session.expunge_all()
        return rows

    # ----------------------------------------------------------------- sending

    async def _deliver_chat(self, chat: Chat, rows: list[OutboxMessage], now: dt.datetime) -> None:
        """One chat's rows in order; a retry stops the chat (its later rows wait for it)."""
        try:
            transport = self.transports[chat[0]]
            for i, row in enumerate(rows):
                retry_at = await self._deliver_one(transport, row, now)
                if retry_at is not None:
                    later = [r.id for r in rows[i + 1 :]]
                    await asyncio.to_thread(self._hold_back, row, later, retry_at)
                    return
        except Exception:
            log.exception("outbox delivery to a chat failed; its rows are retried later")
        finally:
            for row in rows:
                self.held.discard(row.id)
            self.inflight.pop(chat, None)
            self.chats_done += 1
            self.wake.set()  # a slot is free

    async def _deliver_one(
        self, transport: Transport, row: OutboxMessage, now: dt.datetime
    ) -> dt.datetime | None:
        """Send one row; on failure, when the chat's next message may go (None after success)."""
        if row.expires_at is not None and row.expires_at <= now:
            await asyncio.to_thread(self._write, outbox.mark_dropped, row.id, "no longer relevant")
            self.stats.dropped += 1
            metrics.observe_send(row, "dropped", now, None)
            return None
        async with self._gate(row.platform):
            return await self._send_and_mark(transport, row, now)

    async def _send_and_mark(
        self, transport: Transport, row: OutboxMessage, now: dt.datetime
    ) -> dt.datetime | None:
        """The send and its mark, under the platform's gate: the only sends a crash repeats
        are these, at most the transport's concurrency."""
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
            await asyncio.to_thread(_record_failure, self.db, row, error, final, retry_at)
            self.held.discard(row.id)  # its lease is cleared: a renewal must not take it again
            metrics.observe_send(row, "failed" if final else "retried", now, error.retry_after)
            if not error.permanent:  # a person blocking the bot says nothing about the platform
                self.failing[row.platform] = self.failing.get(row.platform, 0) + 1
            if final:
                self.stats.failed += 1
                log.error("outbox message %s failed for good: %s", row.id, error.reason)
            else:
                self.stats.retried += 1
            return retry_at or now
        # Marked at once: between this send and this commit is the only window a crash repeats.
        await asyncio.to_thread(self._mark_sent, row.id, platform_id)
        self.held.discard(row.id)
        self.stats.sent += 1
        self.failing[row.platform] = 0
        metrics.observe_send(row, "sent", self.clock(), None)
        return None

    def healthy(self, platform: str) -> bool:
        """Whether the platform takes our messages: fewer than 5 failed sends in a row."""
        return self.failing.get(platform, 0) < UNHEALTHY_AFTER

    def _write(self, action: Callable[..., None], *args: object) -> None:
        with self.db.transaction() as session:
            action(session, *args)

    def _mark_sent(self, row_id: int, platform_id: str | None) -> None:
        with self.db.engine.begin() as conn:  # no ORM session: the commonest write, kept lean
            outbox.mark_sent(conn, row_id, self.clock(), platform_id)

    def _hold_back(self, row: OutboxMessage, later: list[int], retry_at: dt.datetime) -> None:
        with self.db.transaction() as session:
            outbox.release(session, later, retry_at)
            outbox.hold_back_chat(session, row.platform, row.chat_id, row.id, retry_at)

    # ----------------------------------------------------------------- leases

    async def _renew_loop(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            await asyncio.sleep(RENEW_EVERY)
            if self.held:
                try:
                    await asyncio.to_thread(self._renew, sorted(self.held))  # sorted: a snapshot
                except Exception:
                    log.exception("renewing outbox leases failed; trying again")

    def _release(self, ids: list[int]) -> None:
        with self.db.transaction() as session:
            outbox.release(session, ids, self.clock())

    def _renew(self, ids: list[int]) -> None:
        with self.db.transaction() as session:
            outbox.renew(session, ids, self.worker, self.clock() + LEASE)

    async def _take_back_dead(self, now: dt.datetime, at_start: bool = False) -> int:
        taken = await asyncio.to_thread(self._take_back, now)
        if taken:
            log.info("took back %s outbox rows from instances that are gone", taken)
        elif at_start:
            log.debug("no outbox leases of dead instances")
        return taken

    def _take_back(self, now: dt.datetime) -> int:
        with self.db.reading() as session:
            holders = [h for h in outbox.lease_holders(session, now) if h != self.worker]
            if not holders:
                return 0
            live = set() if self.db.is_sqlite else outbox.live_sessions(session)
        dead = [h for h in holders if is_dead(h, live, sqlite=self.db.is_sqlite)]
        if not dead:
            return 0
        with self.db.transaction() as session:
            return outbox.take_back(session, dead)

    # ----------------------------------------------------------------- LISTEN/NOTIFY

    async def _listen(self, stopping: asyncio.Event) -> None:
        """PostgreSQL: wake when any instance queues a message (NOTIFY beholde_outbox)."""
        while not stopping.is_set():
            try:
                # The first wake-up covers anything queued while we were not listening.
                async for _notice in outbox.notifications(self.db.url, self.worker):
                    self.wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning(
                    "outbox LISTEN failed (%s); polling until it is back", type(error).__name__
                )
                await asyncio.sleep(5)


def is_dead(holder: str, live: set[str], sqlite: bool) -> bool:
    """Whether a lease holder is gone: not connected (PostgreSQL), or (SQLite, one host) its
    process no longer runs or is now a different beholde instance with the same pid."""
    parts = holder.split(":")
    if len(parts) != 4 or parts[0] != "beholde":
        return False  # not a service instance (the CLI, a test): its lease runs out
    if not sqlite:
        return holder not in live
    host, pid_text, _token = parts[1], parts[2], parts[3]
    if host != socket.gethostname()[:32] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return holder != INSTANCE
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # no such process (or no such pid at all)
        return True
    except PermissionError:
        return False
    return False


async def deliver_due(
    db: Database,
    transports: Mapping[str, Transport],
    now: dt.datetime,
    worker: str,
    limit: int | None = None,
) -> DeliveryStats:
    """Send what is due at `now` on these transports, each row at most once in this call."""
    return await Delivery(db, transports, worker, clock=lambda: now).drain(now, limit)


def within_hours(row: OutboxMessage, moment: dt.datetime) -> dt.datetime:
    """A retry moved into the person's hours, if the row carries them (never at night)."""
    window, tz = row.payload.get("window"), row.payload.get("tz")
    if not window or not tz:
        return moment
    try:
        return Window.parse(window).fit(moment, ZoneInfo(tz))
    except (ValueError, KeyError):
        return moment


def _record_failure(
    db: Database, row: OutboxMessage, error: SendError, final: bool, retry_at: dt.datetime | None
) -> None:
    with db.transaction() as session:
        outbox.mark_failed(session, row.id, error.reason, final=final, retry_at=retry_at)
        if error.permanent and row.person_id is not None:
            people.mark_unreachable(session, row.person_id, error.reason)
