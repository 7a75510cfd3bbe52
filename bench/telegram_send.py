"""Benchmark: one pulse round sent to N registered Telegram people through the fake Bot API.

The fake enforces 30 messages/s and injects 5 % 429s (retry_after 1 s) and 2 % 502s; the
round goes through the real path: `open_round` fills the outbox, `deliver_due` sends it
through the Telegram transport (PTB over HTTP, rate-limited and retrying sender). Measured:
achieved delivery rate ÷ 30, messages lost, messages delivered twice, messages out of order.

    .venv/bin/python bench/telegram_send.py --people 5000 --write
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.results_file import put_section  # noqa: E402
from bot.app import build  # noqa: E402
from bot.outbox import deliver_due  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.transports.telegram import TelegramBot  # noqa: E402
from storage.models import Address, OutboxMessage, Person  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

LIMIT = 30
SECTION = "## Telegram: one round through the fake Bot API (issue 3)"


def add_people(engine, n: int) -> None:
    now = engine.clock()
    with engine.db.transaction() as session:
        for i in range(n):
            person = Person(
                key=f"bench:{i}",
                name=f"Ansatt {i}",
                created_at=now,
                onboarded_at=now,
                skipped_background=[],
                municipality="bodo",
                profession="sykepleier",
            )
            session.add(person)
            session.flush()
            session.add(
                Address(
                    person_id=person.id,
                    platform="telegram",
                    chat_id=str(10_000 + i),
                    created_at=now,
                )
            )


async def run(people: int, database: str | None, seed: int) -> dict[str, float]:
    fake = FakeTelegram(per_second=LIMIT, p429=0.05, p5xx=0.02, seed=seed)
    await fake.start()
    with tempfile.TemporaryDirectory(prefix="beholde-bench-") as tmp:
        url = database or f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=url,
            telegram_token=fake.token,
            telegram_api_url=fake.base_url,
            telegram_max_per_second=LIMIT,
        )
        engine = build(settings)
        started = time.monotonic()
        add_people(engine, people)
        engine.open_round()
        with engine.db.transaction() as session:
            queued = session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
        prepared = time.monotonic() - started
        bot = TelegramBot(settings, engine)
        await bot.application.initialize()
        transports = {"telegram": bot.transport}
        first = time.monotonic()
        while True:
            stats = await deliver_due(
                engine.db, transports, dt.datetime.now(dt.UTC), "bench", limit=1000
            )
            with engine.db.transaction() as session:
                pending = session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == "pending")
                )
            if not pending:
                break
            if stats.handled == 0:
                await asyncio.sleep(0.1)
        with engine.db.transaction() as session:
            statuses = dict(
                session.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                ).all()
            )
            rows = session.execute(
                select(OutboxMessage.chat_id, OutboxMessage.payload).order_by(OutboxMessage.id)
            ).all()
        await bot.application.shutdown()
        engine.db.dispose()
    ok = fake.ok_calls("sendMessage")
    last = max(c.at for c in ok)
    elapsed = last - first
    delivered = collections.Counter((c.chat_id, c.params["text"]) for c in ok)
    expected = collections.Counter((chat, payload["text"]) for chat, payload in rows)
    lost = sum((expected - delivered).values())
    duplicates = sum(n - 1 for n in delivered.values() if n > 1)
    order: dict[str, list[str]] = collections.defaultdict(list)
    for c in ok:
        order[str(c.chat_id)].append(c.params["text"])
    wanted: dict[str, list[str]] = collections.defaultdict(list)
    for chat, payload in rows:
        wanted[chat].append(payload["text"])
    out_of_order = sum(1 for chat in wanted if order[chat] != wanted[chat])
    calls = collections.Counter(c.status for c in fake.calls if c.method == "sendMessage")
    await fake.stop()
    rate = len(ok) / elapsed
    return {
        "people": people,
        "messages": queued,
        "prepare_s": prepared,
        "elapsed_s": elapsed,
        "rate": rate,
        "ratio": rate / LIMIT,
        "lost": lost,
        "duplicates": duplicates,
        "out_of_order": out_of_order,
        "failed_rows": statuses.get("failed", 0),
        "answers_429": calls.get(429, 0),
        "answers_5xx": calls.get(502, 0),
        "backend": "PostgreSQL" if database and database.startswith("postgres") else "SQLite",
    }


def write(result: dict[str, float], command: str) -> None:
    rate = f"{result['rate']:.1f} messages/s over {result['elapsed_s']:.0f} s"
    body = f"""{SECTION}

One pulse round opened for {result["people"]:,} registered Telegram people (an intro and the
first question each: {result["messages"]:,} messages) and delivered by the outbox through the
Telegram transport (python-telegram-bot over HTTP, the rate-limited retrying sender) to the
fake Bot API, which allows {LIMIT} messages/s and injects 5 % 429s (`retry_after` 1 s) and
2 % 502s. Database: {result["backend"]}; 2 cores.

| measure | result | goal |
|---|---|---|
| achieved rate ÷ {LIMIT}/s | {result["ratio"]:.2f} ({rate}) | ≥ 0.9 |
| lost | {result["lost"]} | 0 |
| duplicates | {result["duplicates"]} | 0 |
| chats with messages out of order | {result["out_of_order"]} | 0 |
| rows failed for good | {result["failed_rows"]} | 0 |
| 429 / 5xx answers retried | {result["answers_429"]} / {result["answers_5xx"]} | |

The rate is successful `sendMessage` calls from the first delivery to the last (opening the
round and filling the outbox took another {result["prepare_s"]:.0f} s and is not counted).
Lost, duplicates and order compare every outbox row with what the fake recorded per chat.
The sender counts a 429'd call as not sent, but a 502'd one as sent (Telegram may have
delivered it), which is why the rate stays a little under 30/s.

Reproduce: `{command}`
"""
    put_section(SECTION, body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="write bench/RESULTS.md")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(run(args.people, args.database, args.seed))
    for key, value in result.items():
        print(f"{key:>14}: {value:.3f}" if isinstance(value, float) else f"{key:>14}: {value}")
    if args.write:
        command = ".venv/bin/python bench/telegram_send.py --people " + str(args.people)
        if args.database:
            command += " --database <URL>"
        write(result, command + " --write")


if __name__ == "__main__":
    main()
