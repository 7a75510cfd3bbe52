"""Benchmark: Telegram fan-out with faults, beholde's outbox beside a bare sender (issue 13).

The fake Bot API allows 30 messages/s (sliding window) and injects 5 % 429s (retry_after
1 s), 2 % 502s and 1 % dropped connections (the message is processed, the answer never comes
back). Both contenders use the same python-telegram-bot client and rate-limited retrying
sender with the same concurrency (32 chats at once):

- **bare**: 32 workers take messages from an in-memory queue and send them; a message that
  still fails goes back to the queue when it may be tried again. No database.
- **beholde**: the messages are outbox rows (SQLite file or PostgreSQL) and the service's
  delivery pipeline (`bot.outbox.Delivery.run`) sends them, marking each one at once.

Rate = distinct messages delivered ÷ seconds from the first delivery to the last. The two run
alternately, three times each, so both see the same machine load.

    .venv/bin/python bench/fanout_faults.py --people 300 --runs 3 \\
        [--database postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import logging
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot.app import build  # noqa: E402
from bot.outbox import Delivery  # noqa: E402
from bot.ports import Address, OutgoingMessage, SendError  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.transports.telegram import TelegramBot  # noqa: E402
from storage import outbox  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402
from tests.fakes.telegram_api import SENDS, FakeTelegram  # noqa: E402
from tests.pg_support import drop_database, scratch_database  # noqa: E402

LIMIT = 30


class FaultyTelegram(FakeTelegram):
    """The fake Bot API, plus connections dropped after a send was processed."""

    def __init__(self, p_drop: float, seed: int, **options: Any) -> None:
        super().__init__(seed=seed, **options)
        self.p_drop = p_drop
        self.drops = random.Random(seed + 1)
        self.dropped = 0

    async def _dispatch(self, request: web.Request) -> web.Response:
        response = await super()._dispatch(request)
        method = request.match_info.get("method", "")
        if method in SENDS and response.status == 200 and self.drops.random() < self.p_drop:
            self.dropped += 1
            if request.transport is not None:
                request.transport.abort()  # processed, but the answer is lost
        return response

    def delivered(self) -> list[tuple[float, str, str]]:
        return [
            (c.at, str(c.chat_id), c.params["text"])
            for c in self.calls
            if c.method == "sendMessage" and c.status == 200
        ]


def messages(people: int) -> list[tuple[str, str]]:
    return [(str(10_000 + i), f"Ny pulsrunde {i:04d}") for i in range(people)]


def rate_of(fake: FaultyTelegram, wanted: list[tuple[str, str]]) -> dict[str, float]:
    delivered = fake.delivered()
    first: dict[tuple[str, str], float] = {}
    for at, chat, text_ in delivered:
        first.setdefault((chat, text_), at)
    lost = sum(1 for m in wanted if m not in first)
    times = sorted(first.values())
    elapsed = times[-1] - times[0] if len(times) > 1 else float("nan")
    counts = collections.Counter((chat, text_) for _, chat, text_ in delivered)
    return {
        "rate": (len(first) - 1) / elapsed,
        "elapsed": elapsed,
        "lost": lost,
        "duplicates": sum(n - 1 for n in counts.values()),
        "answers_429": sum(1 for c in fake.calls if c.status == 429),
        "answers_502": sum(1 for c in fake.calls if c.status == 502),
        "dropped": fake.dropped,
    }


def settings_for(fake: FakeTelegram, url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        telegram_token=fake.token,
        telegram_api_url=fake.base_url,
        telegram_max_per_second=LIMIT,
        planning_secret="bench-planning-secret-0123456789abcdef",
    )


async def bare(people: int, url: str, seed: int) -> dict[str, float]:
    fake = FaultyTelegram(0.01, seed, per_second=LIMIT, p429=0.05, p5xx=0.02)
    await fake.start()
    engine = build(settings_for(fake, url))
    bot = TelegramBot(settings_for(fake, url), engine)
    await bot.application.initialize()
    transport = bot.transport
    wanted = messages(people)
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for item in wanted:
        queue.put_nowait(item)
    left = len(wanted)
    done = asyncio.Event()

    async def worker() -> None:
        nonlocal left
        while left:
            try:
                chat, text_ = await asyncio.wait_for(queue.get(), 0.2)
            except TimeoutError:
                continue
            try:
                await transport.send(Address("telegram", chat), OutgoingMessage(text_))
            except SendError as error:
                wait = error.retry_after if error.retry_after is not None else 1.0
                asyncio.get_running_loop().call_later(wait, queue.put_nowait, (chat, text_))
                continue
            left -= 1
            if not left:
                done.set()

    workers = [asyncio.create_task(worker()) for _ in range(transport.concurrency)]
    await done.wait()
    await asyncio.gather(*workers)
    await bot.application.shutdown()
    engine.db.dispose()
    await fake.stop()
    return rate_of(fake, wanted)


async def beholde(people: int, url: str, seed: int) -> dict[str, float]:
    fake = FaultyTelegram(0.01, seed, per_second=LIMIT, p429=0.05, p5xx=0.02)
    await fake.start()
    settings = settings_for(fake, url)
    engine = build(settings)
    wanted = messages(people)
    now = dt.datetime.now(dt.UTC)
    with engine.db.transaction() as session:
        session.execute(OutboxMessage.__table__.delete())
        for i, (chat, text_) in enumerate(wanted):
            outbox.enqueue(
                session,
                dedupe_key=f"bench:{seed}:{i}",
                platform="telegram",
                chat_id=chat,
                kind="pulse",
                payload=OutgoingMessage(text_).to_payload(),
                not_before=now,
                now=now,
            )
    bot = TelegramBot(settings, engine)
    await bot.application.initialize()
    delivery = Delivery(engine.db, {"telegram": bot.transport})
    stopping = asyncio.Event()

    async def until_done() -> None:
        while True:
            await asyncio.sleep(0.2)
            with engine.db.transaction() as session:
                pending = session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == "pending")
                )
            if not pending:
                stopping.set()
                return

    await asyncio.gather(delivery.run(stopping), until_done())
    await bot.application.shutdown()
    engine.db.dispose()
    await fake.stop()
    result = rate_of(fake, wanted)
    result["claims"] = delivery.claims
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", help="PostgreSQL URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="beholde-fanout-") as tmp:
        url = (
            scratch_database(args.database, "beholde_bench")
            if args.database
            else f"sqlite:///{tmp}/bench.db"
        )
        backend = "PostgreSQL" if args.database else "SQLite"
        print(
            f"| run | {backend} | bare msg/s | beholde msg/s | ratio | beholde lost / dup "
            "| 429 / 502 / dropped (beholde) | claims |"
        )
        print("|---|---|---|---|---|---|---|---|")
        try:
            for run in range(1, args.runs + 1):
                seed = 10 + run
                b = asyncio.run(bare(args.people, url, seed))
                o = asyncio.run(beholde(args.people, url, seed))
                print(
                    f"| {run} | {args.people} people | {b['rate']:.2f} ({b['rate'] / LIMIT:.2f}) "
                    f"| {o['rate']:.2f} ({o['rate'] / LIMIT:.2f}) | {o['rate'] / b['rate']:.3f} "
                    f"| {o['lost']} / {o['duplicates']} "
                    f"| {o['answers_429']} / {o['answers_502']} / {o['dropped']} "
                    f"| {o['claims']} |",
                    flush=True,
                )
        finally:
            if args.database:
                drop_database(url)


if __name__ == "__main__":
    main()
