"""Two instances on one PostgreSQL share Slack's rate budgets and keep each chat's order.

Two real `beholde serve` processes (tests/slack_instance_script.py) send the same outbox to
a fake Slack Web API that records when each call arrived. `conversations.open` is limited
to 5 calls a second (for the test; 50 a minute on Slack): each instance alone would make 5
a second, so together they would make 10 unless the budget is shared.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.ports import OutgoingMessage
from storage import budgets, outbox
from storage.db import Database
from storage.models import OutboxMessage
from tests.conftest import wipe
from tests.fakes.local import free_port
from tests.fakes.slack_api import FakeSlack
from tests.waiting import stop, wait_for

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "slack_instance_script.py"
PER_SECOND = 5
CHATS = 30
PER_CHAT = 3


class FakeSlackThread:
    """The fake Web API on its own event loop, so the test itself can block."""

    def __init__(self) -> None:
        self.fake = FakeSlack()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self.loop).result(10)
        return self.fake

    def __exit__(self, *_exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def start(url: str, api: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    env = {
        **os.environ,
        "BEHOLDE_DATABASE_URL": url,
        "BEHOLDE_HTTP_PORT": str(port),
        "BEHOLDE_PULSE_AUTO": "false",
        "BEHOLDE_LOG_LEVEL": "INFO",
        "BEHOLDE_SLACK_BOT_TOKEN": "xoxb-test-token",
        "BEHOLDE_SLACK_SIGNING_SECRET": "signing-secret-for-tests",
        "BEHOLDE_SLACK_API_URL": api,
        "PYTHONPATH": str(ROOT),
    }
    for name in ("BEHOLDE_TELEGRAM_TOKEN", "BEHOLDE_TEAMS_APP_ID"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--open-per-second", str(PER_SECOND)],
        env=env,
        cwd=str(ROOT),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proc, port


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def most_in_any_window(times: list[float], seconds: float) -> int:
    times = sorted(times)
    best, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= seconds:
            first += 1
        best = max(best, last - first + 1)
    return best


@pytest.fixture
def pg(pg_url: str) -> Iterator[Database]:
    database = Database(pg_url)
    database.upgrade()
    wipe(database)
    yield database
    wipe(database)
    database.dispose()


def test_the_shared_window_takes_one_place_per_call_and_says_how_long_to_wait(
    pg: Database,
) -> None:
    limits = [(3, 10.0)]
    now = dt.datetime(2027, 1, 12, 9, 0, tzinfo=dt.UTC)
    waits = []
    for i in range(4):
        with pg.transaction() as session:
            waits.append(
                budgets.take(session, "slack:chat.update", limits, now + dt.timedelta(seconds=i))
            )
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(7.0)  # the first place frees 10 s after it was taken
    with pg.transaction() as session:
        assert (
            budgets.take(session, "slack:chat.update", limits, now + dt.timedelta(seconds=10)) == 0
        )
        assert (
            budgets.taken_in(
                session, "slack:chat.update", limits[0], now + dt.timedelta(seconds=10)
            )
            == 3
        )
        assert budgets.take(session, "slack:users.info", limits, now) == 0  # another budget


def test_two_instances_share_the_tier_budget_and_keep_each_chats_order(pg: Database) -> None:
    with FakeSlackThread() as fake:
        for chat in range(CHATS):
            fake.add_user(f"p{chat}@kommune.test", f"U{chat:03d}")
        procs = [start(pg.url, fake.base_url) for _ in range(2)]
        outputs: list[str] = []
        try:
            assert wait_for(lambda: all(healthy(port) for _, port in procs), 60), [
                stop(p) for p, _ in procs
            ]
            now = dt.datetime.now(dt.UTC)
            with pg.transaction() as session:  # NOTIFY wakes both instances at once
                for chat in range(CHATS):
                    for i in range(PER_CHAT):
                        outbox.enqueue(
                            session,
                            dedupe_key=f"shared:{chat}:{i}",
                            platform="slack",
                            chat_id=f"U{chat:03d}",
                            kind="message",
                            payload=OutgoingMessage(f"chat {chat} message {i}").to_payload(),
                            not_before=now,
                            now=now,
                        )

            def all_sent() -> bool:
                with pg.reading() as session:
                    left = session.scalar(
                        select(func.count()).where(OutboxMessage.status != "sent")
                    )
                return left == 0

            sent = wait_for(all_sent, 90)
        finally:
            outputs = [stop(p) for p, _ in procs]
        assert sent, (fake.counts(), outputs)
    with pg.reading() as session:
        senders = set(session.scalars(select(OutboxMessage.claimed_by).distinct()))
    assert len(senders) == 2, ("both instances must have sent", outputs)
    opens = [c.at for c in fake.calls if c.method == "conversations.open"]
    assert len(opens) >= CHATS
    # Each instance alone keeps 5 in any second; without sharing, two make ~10.
    assert most_in_any_window(opens, 0.9) <= PER_SECOND, outputs
    posts = [c.params for c in fake.calls if c.method == "chat.postMessage"]
    by_channel: dict[str, list[int]] = {}
    for params in posts:
        number = int(str(params["text"]).rsplit(" ", 1)[-1])
        by_channel.setdefault(str(params["channel"]), []).append(number)
    assert len(by_channel) == CHATS
    assert all(numbers == sorted(numbers) for numbers in by_channel.values()), by_channel
    assert sum(len(n) for n in by_channel.values()) == CHATS * PER_CHAT  # none twice, none lost
