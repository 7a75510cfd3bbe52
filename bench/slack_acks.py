"""Benchmark: signed Slack button presses against `beholde serve` with PostgreSQL.

Starts `beholde serve` (HTTP mode) as a subprocess against a fresh PostgreSQL database and the
fake Slack Web API (run in this process), opens a round for enough people, and sends signed
`block_actions` presses — each one a real answer — at increasing open-loop rates. Measures
time-to-ack at the client (p50/p99) and sustained answers/s (rows stored in pending_answers
per second until the step's answers are all in). The same load is then sent to a bare aiohttp
endpoint doing one INSERT per request (SQLAlchemy in a thread, same database), as a floor.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/slack_acks.py --rates 50,100,200,300 --seconds 5

Writes a Markdown table to stdout (paste it into bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, func, select, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage import people  # noqa: E402
from storage.models import Address, OutboxMessage, PendingAnswer, Prompt  # noqa: E402
from tests.fakes import slack_client  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.pg_support import drop_database, scratch_database  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(db_url: str, fake: FakeSlack, n: int) -> list[tuple[str, str]]:
    """n onboarded people on Slack, a round open; returns (user, press value) per person."""
    settings = Settings(_env_file=None, database_url=db_url)  # type: ignore[call-arg]
    engine = build(settings)
    now = engine.clock()
    with engine.db.transaction() as session:
        for i in range(n):
            user = f"U{i:07d}"
            fake.add_user(f"{user.lower()}@bench.test", user)
            fake.messages[("D" + user, "1.000001")] = {"text": "question", "blocks": []}
            person = people.create_person(
                session,
                f"Bench {i}",
                now,
                key=f"bench{i}",
                municipality="bodo",
                profession="sykepleier",
                age_band="30-39",
                tenure_band="2-5",
                position_band="100",
                shifts="1",
            )
            person.onboarded_at = now
            people.bind_address(session, person, "slack", user, now)
    engine.open_round()
    with engine.db.transaction() as session:
        # The round's first questions are "sent" already: the bench presses them.
        session.execute(update(OutboxMessage).values(status="sent", sent_at=now))
        rows = session.execute(
            select(Address.chat_id, Prompt.token)
            .join(Prompt, Prompt.person_id == Address.person_id)
            .where(Prompt.purpose == "pulse", Prompt.used_at.is_(None))
        ).all()
    engine.db.dispose()
    return [(user, f"{token}:3") for user, token in rows]


def answers_stored(db_url: str) -> int:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        count = int(conn.execute(select(func.count()).select_from(PendingAnswer)).scalar() or 0)
    engine.dispose()
    return count


async def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(url) as response:
                    if response.status in (200, 404, 405):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


async def load(url: str, bodies: list[str], rate: float) -> tuple[list[float], int, float]:
    """Send the bodies open-loop at `rate`/s; returns (latencies s, errors, duration)."""
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(body: str, at: float) -> None:
            nonlocal errors
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            headers = slack_client.signed_headers(body)
            started = time.perf_counter()
            try:
                async with http.post(url, data=body.encode(), headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            latencies.append(time.perf_counter() - started)

        start = time.perf_counter() + 0.2
        await asyncio.gather(*(one(b, start + i / rate) for i, b in enumerate(bodies)))
        duration = time.perf_counter() - start
    return latencies, errors, duration


async def sustained(
    db_url: str, before: int, expected: int, started: float, limit: float = 120
) -> float:
    """Answers per second from the step's first press until its answers are all stored."""
    while time.perf_counter() - started < limit:
        stored = await asyncio.to_thread(answers_stored, db_url) - before
        if stored >= expected:
            break
        await asyncio.sleep(0.05)
    return stored / (time.perf_counter() - started)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


BARE = """
import asyncio, sys
from aiohttp import web
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[2], pool_size=5, max_overflow=10)
with engine.begin() as c:
    c.execute(text("CREATE TABLE IF NOT EXISTS bare_presses (id serial primary key, body text)"))
def insert(body):
    with engine.begin() as c:
        c.execute(text("INSERT INTO bare_presses (body) VALUES (:b)"), {"b": body[:200]})
async def press(request):
    body = await request.text()
    await asyncio.to_thread(insert, body)
    return web.Response(text="")
async def health(request):
    return web.Response(text="ok")
app = web.Application()
app.router.add_post("/slack/events", press)
app.router.add_get("/healthz", health)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


async def bare_step(url: str, rate: float, seconds: float) -> str:
    n = int(rate * seconds)
    bodies = [slack_client.action_body("UBARE", "DUBARE", "1.0", "x:1") for _ in range(n)]
    latencies, errors, duration = await load(url, bodies, rate)
    return (
        f"| bare aiohttp + one INSERT | {rate:.0f} | {n} | {n / duration:.0f} | "
        f"{pct(latencies, 0.5):.1f} | {pct(latencies, 0.99):.1f} | {errors} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="50,100,200,300")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    base = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    db_url = scratch_database(base, "beholde_bench")
    fake = FakeSlack()
    await fake.start()
    total = int(sum(r * args.seconds for r in rates)) + 10
    print(f"preparing {total} people ...", file=sys.stderr)
    presses = await asyncio.to_thread(prepare, db_url, fake, total)
    port = free_port()
    env = {
        **os.environ,
        "BEHOLDE_DATABASE_URL": db_url,
        "BEHOLDE_SLACK_BOT_TOKEN": fake.token,
        "BEHOLDE_SLACK_SIGNING_SECRET": slack_client.SECRET,
        "BEHOLDE_SLACK_API_URL": fake.base_url,
        "BEHOLDE_HTTP_PORT": str(port),
        "BEHOLDE_LOG_LEVEL": "WARNING",
    }
    env.pop("BEHOLDE_TELEGRAM_TOKEN", None)
    # Both endpoints run side by side; each step goes to beholde, then the same load to the
    # bare endpoint, so that the pair meets the same machine (it is shared and noisy).
    bare_port = free_port()
    bare = subprocess.Popen([sys.executable, "-c", BARE, str(bare_port), db_url])
    serve = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT, env=env)
    rows: list[str] = []
    ratios: list[str] = []
    try:
        await wait_http(f"http://127.0.0.1:{bare_port}/healthz")
        await wait_http(f"http://127.0.0.1:{port}/healthz")
        url = f"http://127.0.0.1:{port}/slack/events"
        offset = 0
        for index, rate in enumerate(rates):
            n = int(rate * args.seconds)
            step = presses[offset : offset + n]
            offset += n
            bodies = [
                slack_client.action_body(user, "D" + user, "1.000001", value)
                for user, value in step
            ]
            before = await asyncio.to_thread(answers_stored, db_url)
            started = time.perf_counter() + 0.2
            latencies, errors, _ = await load(url, bodies, rate)
            per_s = await sustained(db_url, before, n, started)
            label = "beholde serve (bolt, PostgreSQL)" + (
                ", first after start" if index == 0 else ""
            )
            rows.append(
                f"| {label} | {rate:.0f} | {n} | {per_s:.0f} | "
                f"{pct(latencies, 0.5):.1f} | {pct(latencies, 0.99):.1f} | {errors} |"
            )
            print(rows[-1], file=sys.stderr)
            await asyncio.sleep(1.0)
            rows.append(
                await bare_step(f"http://127.0.0.1:{bare_port}/slack/events", rate, args.seconds)
            )
            print(rows[-1], file=sys.stderr)
            bare_per_s = float(rows[-1].split("|")[4])
            ratios.append(f"{rate:.0f}/s: {per_s / bare_per_s:.2f}")
            await asyncio.sleep(1.0)
    finally:
        serve.terminate()
        serve.wait(timeout=30)
        bare.terminate()
        bare.wait(timeout=30)
        await fake.stop()
        drop_database(db_url)
    print(
        "| endpoint | presses/s offered | presses | answers/s sustained "
        "| p50 ack ms | p99 ack ms | errors |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nanswers/s, beholde ÷ bare in the same step: {', '.join(ratios)}")
    print(f"Slack Web API calls made by beholde serve: {dict(fake.counts())}")


if __name__ == "__main__":
    asyncio.run(main())
