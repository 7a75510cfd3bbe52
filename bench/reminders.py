"""Benchmark: 50,000 pending reminders for 5,000 people on PostgreSQL.

Measures (1) the time to plan them through the same functions the leader's commands use,
(2) the start-up time of a `beholde serve` instance over that database (until /healthz
answers and the scheduler runs), and (3) how late reminders fire: `--due` of them are moved
to fire over the next `--spread` seconds while the other ~48,000 stay pending, and a real
serve process (tests/instance_script.py, recording fake transport) sends them; lateness is
the transport's receive time minus the planned time.

    BEHOLDE_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/reminders.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import network as net  # noqa: E402
from storage.db import Database, normalise_url  # noqa: E402
from storage.models import Address, Person  # noqa: E402
from storage.network_models import Reminder  # noqa: E402

OSLO = ZoneInfo("Europe/Oslo")
TEAMS = [
    "Bodø",
    "Fauske",
    "Saltdal",
    "Sørfold",
    "Steigen",
    "Beiarn",
    "Gildeskål",
    "Hamarøy",
    "Meløy",
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--due", type=int, default=2000)
    parser.add_argument("--spread", type=float, default=20.0)
    parser.add_argument(
        "--step", default="d7", help="which reminders fire: d7 (task, 1 message) or d14 (gathering)"
    )
    options = parser.parse_args()
    base = os.environ.get(
        "BEHOLDE_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    url = make_url(normalise_url(base))
    name = f"beholde_bench_{secrets.token_hex(3)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    bench_url = url.set(database=name).render_as_string(hide_password=False)
    try:
        run(bench_url, options)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(url: str, options: argparse.Namespace) -> None:
    db = Database(url)
    db.upgrade()
    # A clock at midday tomorrow, so working hours never get in the way of the measurement.
    local = dt.datetime.now(OSLO)
    noon = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(12), tzinfo=OSLO)
    now = noon.astimezone(dt.UTC)
    offset = (now - dt.datetime.now(dt.UTC)).total_seconds()
    with db.transaction() as session:
        network = net.ensure_network(session, now)
        network.task_days = [7, 1]
        network.pulse_enabled = False
        session.execute(
            insert(Person),
            [
                {
                    "key": f"p{i}",
                    "name": f"Person {i}",
                    "language": "nb",
                    "role": "team_member",
                    "team": TEAMS[i % len(TEAMS)],
                    "status": "active",
                    "skipped_background": [],
                    "created_at": now,
                }
                for i in range(options.people)
            ],
        )
        ids = dict(session.execute(select(Person.key, Person.id)).all())
        session.execute(
            insert(Address),
            [
                {
                    "person_id": ids[f"p{i}"],
                    "platform": "test",
                    "chat_id": f"c{i}",
                    "created_at": now,
                }
                for i in range(options.people)
            ],
        )
    # (1) planning: two gatherings (3 reminders each) and two tasks (2 each) per person.
    started = time.perf_counter()
    with db.transaction() as session:
        day = noon.date()
        for weeks in (5, 9):
            start = dt.datetime.combine(day + dt.timedelta(weeks=weeks), dt.time(9), tzinfo=OSLO)
            net.add_gathering(
                session,
                OSLO,
                now,
                f"Samling {weeks}",
                start.astimezone(dt.UTC),
                (start + dt.timedelta(hours=6)).astimezone(dt.UTC),
                "Bodø",
            )
        for weeks in (4, 8):
            net.add_task(
                session, OSLO, now, f"Oppgave {weeks}", day + dt.timedelta(weeks=weeks), None, None
            )
    plan_seconds = time.perf_counter() - started
    with db.transaction() as session:
        count = net.plan_counts(session).get("planned", 0)
    print(f"planned {count} reminders for {options.people} people in {plan_seconds:.1f} s")

    # (3) setup: `due` reminders (distinct people) fire over the next `spread` seconds.
    service_now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset)
    first_fire = service_now + dt.timedelta(seconds=15)
    with db.transaction() as session:
        rows = session.execute(
            select(Reminder.id, Reminder.person_id)
            .where(Reminder.step == options.step)
            .order_by(Reminder.id)
            .limit(options.due)
        ).all()
        fire_by_chat = {}
        keys = {pid: key for key, pid in ids.items()}
        for i, (rid, person_id) in enumerate(rows):
            fire = first_fire + dt.timedelta(seconds=options.spread * i / max(len(rows), 1))
            session.execute(update(Reminder).where(Reminder.id == rid).values(fire_at=fire))
            fire_by_chat["c" + keys[person_id][1:]] = fire

    # (2) start-up of a serve instance over 50,000 pending reminders.
    record = Path(tempfile.mkdtemp()) / "sent.txt"
    port = free_port()
    env = {
        **os.environ,
        "BEHOLDE_DATABASE_URL": url,
        "BEHOLDE_HTTP_PORT": str(port),
        "BEHOLDE_PULSE_AUTO": "false",
        "BEHOLDE_TASK_REMINDER_DAYS": "7,1",
        "PYTHONPATH": str(ROOT),
    }
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "instance_script.py"),
            str(record),
            "--offset",
            str(offset),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.05)
        if proc.poll() is not None:
            raise SystemExit(proc.stdout.read() if proc.stdout else "serve died")
    startup = time.perf_counter() - started
    print(f"beholde serve answered /healthz after {startup:.2f} s")
    deadline = time.monotonic() + 15 + options.spread + 60
    while time.monotonic() < deadline:
        got = (
            {line.split("\t")[0] for line in record.read_text().splitlines()}
            if record.exists()
            else set()
        )
        if len(got & fire_by_chat.keys()) >= len(fire_by_chat):
            break
        time.sleep(0.2)
    proc.terminate()
    out = proc.communicate(timeout=30)[0]
    late = []
    seen: set[str] = set()
    for line in record.read_text().splitlines():
        chat, _, stamp = line.split("\t")
        if chat in fire_by_chat and chat not in seen:
            seen.add(chat)
            got = dt.datetime.fromtimestamp(float(stamp), dt.UTC) + dt.timedelta(seconds=offset)
            late.append((got - fire_by_chat[chat]).total_seconds())
    if len(late) < len(fire_by_chat):
        print(out[-2000:])
    print(
        f"fired {len(late)} of {len(fire_by_chat)} due over {options.spread:.0f} s with "
        f"{count - len(late)} others pending: lateness "
        f"p50 {statistics.median(late) * 1000:.0f} ms, "
        f"p99 {percentile(late, 99) * 1000:.0f} ms, max {max(late) * 1000:.0f} ms"
    )
    db.dispose()


if __name__ == "__main__":
    main()
