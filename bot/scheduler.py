"""The schedule: reminders, pulse rounds and nudges on time, on one instance at a time.

APScheduler 3 (AsyncIOScheduler, timezone set explicitly) only decides *when* to look; what is
due is always read from the database, and what is sent is always an outbox row. Jobs are
textual references to module-level functions with one primitive argument (the service key),
with fixed ids, so nothing needs pickling and a restart rebuilds the same jobs.

Several instances on PostgreSQL: only the holder of a PostgreSQL advisory lock (taken on a
dedicated connection) runs the scheduler; if it dies, its connection closes, the lock is
released and another instance takes over within a few seconds. Every instance delivers the
outbox (rows are claimed with FOR UPDATE SKIP LOCKED and a lease). On SQLite one instance
runs, guarded by a lock file; a second one stops at start with a clear message.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import make_url

from bot import network
from bot.i18n import t
from storage import answers
from storage.db import Database
from storage.locks import AdvisoryLock
from surveys.network import Cadence, Policy, Window, parse_clock

if TYPE_CHECKING:
    from bot.serve import Service
    from bot.settings import Settings

log = logging.getLogger(__name__)

LEADER_CHECK = 2.0  # seconds between leadership checks
LEADER_CHECK_SQLITE = 600.0  # SQLite: the lock file is held for the life of the process
SAFETY_INTERVAL = 5  # seconds: reminders planned by other instances are seen this soon
# SQLite runs one instance: only a CLI command can plan from outside, and what it plans for
# "now" goes straight to the outbox (which notices at once), so looking less often is safe.
SAFETY_INTERVAL_SQLITE = 60  # the next reminder still gets an exact job (schedule_next)
ROUNDS_INTERVAL = 30  # seconds between pulse-round checks (open, nudge, close)
ROUNDS_INTERVAL_SQLITE = 60  # one instance: a round opens at most a minute late
BATCH = 500
COALESCE = 0.1  # seconds between runs of the reminder job during a burst
REMINDERS_JOB = "beholde-reminders"
NEXT_REMINDER_JOB = "beholde-reminders-next"
ROUNDS_JOB = "beholde-rounds"

_STATES: dict[str, State] = {}


# --------------------------------------------------------------------------- locks


class SingleInstanceError(RuntimeError):
    """A second instance on a database that allows only one."""


class FileLock:
    """An exclusive lock file next to the SQLite database: one instance per file."""

    def __init__(self, db: Database) -> None:
        database = make_url(db.url).database or ""
        self.path = Path(f"{database}.lock") if database and database != ":memory:" else None
        self.handle: IO[str] | None = None

    def try_acquire(self) -> bool:
        if self.path is None:
            return True
        if self.handle is not None:
            return True
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self.handle = handle
        return True

    def alive(self) -> bool:
        return True

    def release(self) -> None:
        if self.handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


# --------------------------------------------------------------------------- state


@dataclass
class State:
    """One service's scheduling state, found by jobs through a primitive key."""

    key: str
    service: Service
    tz: ZoneInfo
    lock: AdvisoryLock | FileLock
    scheduler: AsyncIOScheduler | None = None
    leading: bool = False
    next_due: dt.datetime | None = None

    @property
    def db(self) -> Database:
        return self.service.engine.db


def defaults_from(settings: Settings) -> network.NetworkDefaults:
    """The network's policy and cadence as the settings describe them."""
    return network.NetworkDefaults(
        name=settings.organisation,
        policy=Policy(
            task_days=tuple(int(d) for d in settings.task_reminder_days.split(",")),
            gathering_days=tuple(int(d) for d in settings.gathering_reminder_days.split(",")),
            at=parse_clock(settings.reminder_time) or dt.time(9, 0),
            window=Window.parse(settings.work_hours),
        ),
        cadence=Cadence(
            weekday=settings.pulse_weekday,
            at=parse_clock(settings.pulse_time) or dt.time(9, 0),
            every_weeks=settings.pulse_every_weeks,
            days=settings.round_days,
        ),
        pulse_enabled=settings.pulse_auto,
    )


def install(service: Service) -> bool:
    """Add the leader election and the scheduler to the service (the service delivers)."""
    settings = service.settings
    if not settings.scheduler:
        log.info("scheduler switched off (BEHOLDE_SCHEDULER=false)")
        return False
    db = service.engine.db
    state = State(
        key=service.worker_id,
        service=service,
        tz=ZoneInfo(settings.timezone),
        lock=FileLock(db) if db.is_sqlite else AdvisoryLock(db),
    )
    _STATES[state.key] = state

    async def start() -> None:
        await on_start(state)

    async def stop() -> None:
        await on_stop(state)

    service.on_start.append(start)
    service.on_stop.append(stop)
    service.tasks.append(lambda: leadership_loop(state))
    return True


async def on_start(state: State) -> None:
    if state.db.is_sqlite:
        if not await asyncio.to_thread(state.lock.try_acquire):
            path = getattr(state.lock, "path", "")
            message = t(state.service.settings.language, "ops.start.sqlite_locked", path=path)
            log.error(message)
            raise SystemExit(message)
        log.info("SQLite: this is the only instance; it runs the scheduler")
    defaults = defaults_from(state.service.settings)

    def apply() -> None:
        with state.db.transaction() as session:
            network.ensure_network(session, state.service.now(), defaults)

    await asyncio.to_thread(apply)


async def on_stop(state: State) -> None:
    stop_scheduler(state)
    await asyncio.to_thread(state.lock.release)
    _STATES.pop(state.key, None)


# --------------------------------------------------------------------------- leadership


async def leadership_loop(state: State) -> None:
    """Become the scheduler when the lock is free; give it up when the lock is lost."""
    stopping = state.service.stopping
    while not stopping.is_set():
        try:
            if not state.leading:
                if await asyncio.to_thread(state.lock.try_acquire):
                    start_scheduler(state)
            elif not await asyncio.to_thread(state.lock.alive):
                log.warning("lost the scheduler lock; another instance may take over")
                stop_scheduler(state)
        except Exception:
            log.exception("leadership check failed; trying again")
            stop_scheduler(state)
            await asyncio.to_thread(state.lock.release)
        # A held lock file cannot be lost: on SQLite there is nothing to check while leading.
        every = LEADER_CHECK_SQLITE if state.leading and state.db.is_sqlite else LEADER_CHECK
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), every)


def start_scheduler(state: State) -> None:
    scheduler = AsyncIOScheduler(timezone=state.tz)
    now = dt.datetime.now(state.tz)
    common: dict[str, Any] = {
        "args": [state.key],
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": None,
        "replace_existing": True,
    }
    # First runs right away: reminders and rounds missed while no one was leader.
    scheduler.add_job(
        "bot.scheduler:reminders_job",
        "interval",
        seconds=safety_interval(state),
        id=REMINDERS_JOB,
        next_run_time=now,
        **common,
    )
    scheduler.add_job(
        "bot.scheduler:rounds_job",
        "interval",
        seconds=ROUNDS_INTERVAL_SQLITE if state.db.is_sqlite else ROUNDS_INTERVAL,
        id=ROUNDS_JOB,
        next_run_time=now,
        **common,
    )
    scheduler.start()
    state.scheduler = scheduler
    state.leading = True
    log.info("this instance runs the scheduler (%s)", state.key)


def safety_interval(state: State) -> int:
    """Seconds between looks for due reminders, whatever was planned since."""
    return SAFETY_INTERVAL_SQLITE if state.db.is_sqlite else SAFETY_INTERVAL


def stop_scheduler(state: State) -> None:
    if state.scheduler is not None:
        with contextlib.suppress(Exception):
            state.scheduler.shutdown(wait=False)
    state.scheduler = None
    state.leading = False


# --------------------------------------------------------------------------- jobs


async def reminders_job(key: str) -> None:
    """Queue due reminders (their commit wakes delivery), and look again exactly when the
    next one is due."""
    state = _STATES.get(key)
    if state is None or not state.leading:
        return
    await asyncio.to_thread(run_reminders, state)
    schedule_next(state)


def run_reminders(state: State) -> int:
    queued = 0
    while True:
        now = state.service.now()
        with state.db.transaction() as session:
            examined, added = network.queue_due_reminders(session, state.tz, now, BATCH)
        queued += added
        if examined < BATCH:
            break
    with state.db.transaction() as session:
        state.next_due = network.next_reminder_at(session)
    if queued:
        log.info("%s reminders queued", queued)
    return queued


def schedule_next(state: State) -> None:
    """A date job at the next planned reminder (in real time, whatever the service clock)."""
    if state.scheduler is None or state.next_due is None:
        return
    # At least COALESCE apart: a burst is queued in batches, not one reminder per job run.
    delay = max((state.next_due - state.service.now()).total_seconds(), COALESCE)
    if delay >= safety_interval(state):
        return  # the interval job looks again before then
    run_at = dt.datetime.now(state.tz) + dt.timedelta(seconds=delay)
    state.scheduler.add_job(
        "bot.scheduler:reminders_job",
        "date",
        run_date=run_at,
        args=[state.key],
        id=NEXT_REMINDER_JOB,
        replace_existing=True,
        misfire_grace_time=None,
    )


async def rounds_job(key: str) -> None:
    """Open the scheduled pulse round, nudge halfway, close it when its time is up."""
    state = _STATES.get(key)
    if state is None or not state.leading:
        return
    await asyncio.to_thread(run_rounds, state)


def run_rounds(state: State) -> bool:
    """One pass over the round schedule; True if something was queued."""
    engine = state.service.engine
    now = state.service.now()
    with state.db.transaction() as session:
        opened = network.pulse_open_due(session, engine, state.tz, now)
    if opened:
        log.info("scheduled round %s opened", opened)
    closed_id = None
    with state.db.transaction() as session:
        if network.round_to_close(session, now):
            closed = engine.close_round_in(session, now)
            closed_id = closed.id if closed else None
    if closed_id is not None:
        engine.run_round_closed_hooks(closed_id)  # after commit: summaries read a closed round
    with state.db.transaction() as session:
        nudged = network.nudge_due(session, state.tz, now)
        current = answers.current_round(session)
    if nudged:
        log.info("%s nudged in round %s", nudged, current.number if current else "?")
    digested = run_digest(state, now)
    return bool(opened or nudged or closed_id or digested)


def run_digest(state: State, now: dt.datetime) -> int:
    """Queue this week's steering-group digest once its moment has come (once per week)."""
    settings = getattr(state.service, "settings", None)
    if settings is None or not settings.digest:  # no configuration: nowhere to post
        return 0
    from bot.digest import (  # summaries and their libraries load when used
        queue_if_due,
        queue_leader_digests_if_due,
    )
    from bot.summaries import steering_targets

    targets = steering_targets(settings, state.service.transports)
    engine = state.service.engine
    with state.db.transaction() as session:
        queued = queue_if_due(
            session,
            engine.survey,
            targets,
            now,
            state.tz,
            settings.language,
            settings.k_anonymity,
            settings.digest_weekday,
            parse_clock(settings.digest_time) or dt.time(8, 0),
        )
    if queued:
        log.info("weekly digest queued for %s channel(s)", queued)
    at = parse_clock(settings.digest_time) or dt.time(8, 0)
    with state.db.transaction() as session:  # the project leaders' own overview (issue 14)
        leaders = queue_leader_digests_if_due(session, now, state.tz, settings.digest_weekday, at)
    return queued + leaders
