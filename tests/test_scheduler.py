"""The schedule: pulse rounds on a cadence, one nudge, and delivery across processes.

The multi-process tests run real `beholde serve` instances (tests/instance_script.py) with a
recording fake transport against PostgreSQL: two instances send 1,000 reminders exactly once;
an instance killed with SIGKILL mid-fan-out is tested in tests/test_crash_safety.py.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select

from bot import network as net
from bot import scheduler
from bot.conversation import Conversation
from storage.db import Database
from storage.models import Address, Invitation, OutboxMessage, Person, Round
from storage.network_models import Reminder
from tests.conftest import FakeClock, add_person, wipe
from tests.fakes.local import free_port
from tests.waiting import stop, wait_for

OSLO = ZoneInfo("Europe/Oslo")
SCRIPT = Path(__file__).parent / "instance_script.py"
ROOT = Path(__file__).resolve().parent.parent


def oslo(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=OSLO).astimezone(dt.UTC)


def state_for(engine: Conversation, clock: FakeClock) -> SimpleNamespace:
    return SimpleNamespace(service=SimpleNamespace(engine=engine, now=clock), db=engine.db, tz=OSLO)


# --------------------------------------------------------------------------- pulse rounds


def test_rounds_open_on_cadence_nudge_once_halfway_and_close_with_the_hook(
    engine: Conversation, clock: FakeClock
) -> None:
    for name in ("Ingrid", "Ola", "Kari"):
        add_person(engine, name)
    closed: list[int] = []
    engine.round_closed_hooks.append(closed.append)
    state = state_for(engine, clock)
    clock.now = oslo(2027, 1, 11, 12, 0)  # a Monday
    scheduler.run_rounds(state)
    with engine.db.transaction() as session:
        assert net.ensure_network(session, clock.now).next_pulse_at == oslo(2027, 1, 12, 9, 0)
        assert session.scalar(select(func.count()).select_from(Round)) == 0
    clock.now = oslo(2027, 1, 12, 9, 0, 30)
    scheduler.run_rounds(state)
    scheduler.run_rounds(state)  # a second look opens nothing more
    with engine.db.transaction() as session:
        rounds = session.scalars(select(Round)).all()
        assert len(rounds) == 1 and rounds[0].closes_at == oslo(2027, 1, 17, 9, 0)
        assert net.ensure_network(session, clock.now).next_pulse_at == oslo(2027, 1, 26, 9, 0)
    # Halfway is Thursday 21:00 — night: the nudge waits for the morning, and comes once.
    clock.now = oslo(2027, 1, 14, 21, 0)
    scheduler.run_rounds(state)
    assert not [r for r in all_outbox(engine) if ":nudge:" in r.dedupe_key]
    for hour in (7, 8, 9, 12):
        clock.now = oslo(2027, 1, 15, hour, 0)
        scheduler.run_rounds(state)
    nudges = [r for r in all_outbox(engine) if ":nudge:" in r.dedupe_key]
    assert len(nudges) == 3 and {r.not_before for r in nudges} == {oslo(2027, 1, 15, 8, 0)}
    assert "En vennlig påminnelse" in nudges[0].payload["text"]
    with engine.db.transaction() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Invitation).where(Invitation.nudged_at.is_(None))
            )
            == 0
        )
    clock.now = oslo(2027, 1, 17, 9, 0)
    scheduler.run_rounds(state)
    assert closed == [rounds[0].id]


def test_a_missed_pulse_opens_once_late_while_it_would_still_be_open(
    engine: Conversation, clock: FakeClock
) -> None:
    add_person(engine, "Ingrid")
    state = state_for(engine, clock)
    clock.now = oslo(2027, 1, 11, 12, 0)
    scheduler.run_rounds(state)
    clock.now = oslo(2027, 1, 14, 10, 0)  # down from Monday to Thursday
    scheduler.run_rounds(state)
    with engine.db.transaction() as session:
        round_ = session.scalars(select(Round)).one()
        assert round_.closes_at == oslo(2027, 1, 17, 9, 0)  # the slot's own closing time
    clock.now = oslo(2027, 2, 10, 10, 0)  # down for weeks: stale slots are skipped
    scheduler.run_rounds(state)
    with engine.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Round)) == 1
        assert net.ensure_network(session, clock.now).next_pulse_at == oslo(2027, 2, 23, 9, 0)


# --------------------------------------------------------------------------- processes


def start_instance(url: str, record: Path, *extra: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "BEHOLDE_DATABASE_URL": url,
        "BEHOLDE_HTTP_PORT": str(free_port()),
        "BEHOLDE_PULSE_AUTO": "false",
        "BEHOLDE_LOG_LEVEL": "INFO",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), str(record), *extra],
        env=env,
        cwd=str(ROOT),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def lines(record: Path) -> list[str]:
    return record.read_text().splitlines() if record.exists() else []


def all_outbox(engine_or_db) -> list[OutboxMessage]:
    db = getattr(engine_or_db, "db", engine_or_db)
    with db.transaction() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
    return rows


@pytest.fixture
def pg(pg_url: str) -> Database:
    database = Database(pg_url)
    database.upgrade()
    wipe(database)
    yield database
    wipe(database)
    database.dispose()


def seed_team_reminders(db: Database, count: int, fire_at: dt.datetime) -> None:
    """`count` team members, each with one planned task reminder due at `fire_at`."""
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        net.ensure_network(session, now)
        session.execute(
            insert(Person),
            [
                {
                    "key": f"k{i}",
                    "name": f"Person {i}",
                    "language": "nb",
                    "role": "team_member",
                    "team": f"Lag {i % 9}",
                    "status": "active",
                    "skipped_background": [],
                    "created_at": now,
                }
                for i in range(count)
            ],
        )
        ids = dict(session.execute(select(Person.key, Person.id)).all())
        session.execute(
            insert(Address),
            [
                {
                    "person_id": ids[f"k{i}"],
                    "platform": "test",
                    "chat_id": f"c{i}",
                    "created_at": now,
                }
                for i in range(count)
            ],
        )
        task, _ = net.add_task(
            session, OSLO, now, "Forbered innlegg", (now + dt.timedelta(days=30)).date(), None, None
        )
        session.execute(Reminder.__table__.delete())  # only the reminders below
        session.execute(
            insert(Reminder),
            [
                {
                    "key": f"bench:{i}",
                    "kind": "task",
                    "task_id": task.id,
                    "person_id": ids[f"k{i}"],
                    "step": "d7",
                    "fire_at": fire_at,
                    "expires_at": fire_at + dt.timedelta(days=7),
                    "status": "planned",
                    "created_at": now,
                }
                for i in range(count)
            ],
        )


def next_noon() -> dt.datetime:
    """A service clock at midday, so the test does not depend on the hour it runs at."""
    local = dt.datetime.now(OSLO)
    noon = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(12), tzinfo=OSLO)
    return noon.astimezone(dt.UTC)


@pytest.mark.postgres
@pytest.mark.slow
def test_two_instances_send_a_thousand_reminders_each_exactly_once(
    pg: Database, tmp_path: Path
) -> None:
    record = tmp_path / "sent.txt"
    noon = next_noon()
    offset = str((noon - dt.datetime.now(dt.UTC)).total_seconds())
    seed_team_reminders(pg, 1000, noon + dt.timedelta(seconds=4))
    first = start_instance(pg.url, record, "--offset", offset)
    second = start_instance(pg.url, record, "--offset", offset)
    try:
        done = wait_for(lambda: len(lines(record)) >= 1000, 60)
        # A fixed wait on purpose: the test asserts that nothing more is sent in it.
        time.sleep(1.5)
    finally:
        for proc in (first, second):
            proc.send_signal(signal.SIGTERM)
        out = stop(first) + stop(second)
    sent = lines(record)
    assert done, out[-3000:]
    counts = Counter(sent)
    assert len(sent) == 1000 and max(counts.values()) == 1
    assert len({line.split("\t")[0] for line in sent}) == 1000
    assert out.count("this instance runs the scheduler") == 1, out[-3000:]
    statuses = Counter(r.status for r in all_outbox(pg))
    assert statuses == {"sent": 1000}


def test_a_second_instance_on_sqlite_stops_with_a_clear_message(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    first = start_instance(url, tmp_path / "a.txt")
    try:
        lock = Path(f"{tmp_path / 'one.db'}.lock")  # the pid is written once it is locked
        assert wait_for(lambda: lock.exists() and lock.read_text().strip().isdigit(), 30)
        second = start_instance(url, tmp_path / "b.txt")
        out = second.communicate(timeout=60)[0]
        assert second.returncode != 0
        assert "en annen instans kjører allerede på denne SQLite-databasen" in out  # nb
        assert first.poll() is None  # the first one keeps running
    finally:
        stop(first)
