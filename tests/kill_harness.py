"""Kill `beholde serve` with SIGKILL at random points of a fan-out and count what it cost.

Used by tests/test_crash_safety.py (a few kills) and bench/kill_fanout.py (twenty, both
databases). The fake Telegram Bot API runs in this process on its own thread; the service is
the real `beholde serve` (python-telegram-bot over HTTP, the outbox, the scheduler) in a
subprocess. After each kill, the outbox rows still pending that Telegram had already
received are exactly the messages that will be sent twice: that is "in flight at the kill".
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage
from tests.fakes.local import free_port
from tests.fakes.telegram_api import Call, FakeTelegram
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 32  # TelegramTransport.concurrency: the most sends in flight at once


class FakeTelegramThread:
    """The fake Bot API on its own event loop, so this process can block while it serves."""

    def __init__(self, **options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake: FakeTelegram = self._run(self._start(options))

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    async def _start(self, options: dict[str, Any]) -> FakeTelegram:
        fake = FakeTelegram(**options)
        await fake.start()
        return fake

    def sends(self) -> list[Call]:
        return [c for c in list(self.fake.calls) if c.method == "sendMessage" and c.status == 200]

    def stop(self) -> None:
        self._run(self.fake.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@dataclass
class KillResult:
    backend: str
    people: int
    kills: int
    lost: int = 0
    duplicates: int = 0
    in_flight: list[int] = field(default_factory=list)  # per kill
    restart_s: list[float] = field(default_factory=list)  # spawn → first send, per restart
    resume_s: list[float] = field(default_factory=list)  # /healthz answers → first send
    startup_s: float = 0.0  # the first spawn → first send (no kill before it)
    total_s: float = 0.0
    out_of_order: int = 0
    log_tail: str = ""


def seed(db: Database, people: int) -> None:
    """One message to each of `people` Telegram chats, all due now."""
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        for i in range(people):
            outbox.enqueue(
                session,
                dedupe_key=f"fanout:{i}",
                platform="telegram",
                chat_id=str(10_000 + i),
                kind="reminder",
                payload={"text": f"Påminnelse {i:04d}", "choices": []},
                not_before=now,
                now=now,
            )


def spawn(
    url: str, fake: FakeTelegram, workdir: Path, per_second: int, port: int
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "BEHOLDE_DATABASE_URL": url,
        "BEHOLDE_HTTP_PORT": str(port),
        "BEHOLDE_TELEGRAM_TOKEN": fake.token,
        "BEHOLDE_TELEGRAM_API_URL": fake.base_url,
        "BEHOLDE_TELEGRAM_MAX_PER_SECOND": str(per_second),
        "BEHOLDE_PLANNING_SECRET": "kill-test-planning-secret-0123456789abcdef",
        "BEHOLDE_PULSE_AUTO": "false",
        "BEHOLDE_DIGEST": "false",
        "BEHOLDE_LOG_LEVEL": "INFO",
        "XDG_DATA_HOME": str(workdir),
        "PYTHONPATH": str(ROOT),
    }
    log = (workdir / "serve.log").open("a")
    return subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import app; app()", "serve"],
        env=env,
        cwd=str(workdir),  # no stray .env from the checkout
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def pending_rows(db: Database) -> list[tuple[str, str]]:
    with db.transaction() as session:
        rows = session.execute(
            select(OutboxMessage.chat_id, OutboxMessage.payload).where(
                OutboxMessage.status == "pending"
            )
        ).all()
    return [(chat, payload["text"]) for chat, payload in rows]


def run_kills(
    url: str,
    workdir: Path,
    *,
    people: int = 300,
    kills: int = 20,
    seed_: int = 1,
    per_second: int = 100,
) -> KillResult:
    """Fan out to `people`, SIGKILL the service at `kills` random points, finish, count."""
    db = Database(url)
    db.upgrade()
    seed(db, people)
    backend = "SQLite" if db.is_sqlite else "PostgreSQL"
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # killed clients' resets
    server = FakeTelegramThread(per_second=per_second)
    result = KillResult(backend, people, kills)
    points = sorted(random.Random(seed_).sample(range(5, people - 5), kills))
    started = time.monotonic()
    counted: collections.Counter[tuple[str, str]] = collections.Counter()
    proc: subprocess.Popen[str] | None = None
    try:
        for n, point in enumerate(points):
            before = len(server.sends())
            spawned = time.monotonic()
            port = free_port()
            proc = spawn(url, server.fake, workdir, per_second, port)
            if not wait_for(lambda p=port: healthy(p), 60, every=0.005):
                raise AssertionError(f"restart {n} never answered /healthz")
            ready = time.monotonic()
            target = max(point, before + 1)
            if not wait_for(lambda t=target: len(server.sends()) >= t, 60, every=0.005):
                raise AssertionError(f"no progress to {target} sends after restart {n}")
            first = next(c.at for c in server.sends()[before:])
            if n == 0:
                result.startup_s = first - spawned
            else:
                result.restart_s.append(first - spawned)
                result.resume_s.append(max(0.0, first - ready))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            proc = None
            # Receipts of a row still pending will be repeated; count each receipt once.
            received = collections.Counter((c.chat_id, c.params["text"]) for c in server.sends())
            in_flight = 0
            for row in pending_rows(db):
                in_flight += received[row] - counted[row]
                counted[row] = received[row]
            result.in_flight.append(in_flight)
        proc = spawn(url, server.fake, workdir, per_second, free_port())
        if not wait_for(lambda: not pending_rows(db), 90, every=0.005):
            raise AssertionError("the fan-out did not finish after the last restart")
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        proc = None
        result.total_s = time.monotonic() - started
        with db.transaction() as session:
            rows = session.execute(
                select(OutboxMessage.chat_id, OutboxMessage.payload, OutboxMessage.status)
            ).all()
        sends = server.sends()
        received = collections.Counter((c.chat_id, c.params["text"]) for c in sends)
        expected = collections.Counter((chat, payload["text"]) for chat, payload, _ in rows)
        result.lost = sum((expected - received).values()) + sum(
            1 for *_, status in rows if status != "sent"
        )
        result.duplicates = sum(n - 1 for n in received.values() if n > 1)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)
        server.stop()
        db.dispose()
        log_file = workdir / "serve.log"
        result.log_tail = log_file.read_text()[-3000:] if log_file.exists() else ""
    return result
