"""Benchmark: an idle `beholde serve` beside a reference process, in the same run (issue 13).

`beholde serve` runs Telegram (long polling against the fake Bot API), Slack (HTTP mode
against the fake Web API) and the scheduler over a database with 300 rostered people, and
then does nothing for `--seconds`. The reference imports the same libraries (aiohttp,
python-telegram-bot, slack-bolt, SQLAlchemy, APScheduler, psycopg), serves `/healthz` and
idles. Measured for both: start until `/healthz` answers, resident memory (VmRSS) after the
idle period, and CPU seconds (user + system, /proc) per minute of idling.

beholde's own modules are compiled to bytecode first (`compileall`), as `pip install` does
for an installed package and its libraries: with PYTHONDONTWRITEBYTECODE=1 (set in some
shells and in deploy/Containerfile) an editable checkout would otherwise compile its ~150
modules from source at every start, which the reference, having none, never pays.
`--no-compile` measures that case.

    .venv/bin/python bench/idle_serve.py --seconds 60 --runs 3 [--database URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from storage.db import Database  # noqa: E402
from storage.models import Address, Person  # noqa: E402
from tests.fakes import slack_client  # noqa: E402
from tests.kill_harness import FakeTelegramThread  # noqa: E402

REFERENCE = """
import asyncio, os, sys
import aiohttp, telegram, telegram.ext, slack_bolt.async_app, sqlalchemy, apscheduler, psycopg
from aiohttp import web
async def health(request):
    return web.json_response({"ok": True})
async def main():
    app = web.Application()
    app.router.add_get("/healthz", health)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(sys.argv[1])).start()
    await asyncio.Event().wait()
asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed_people(url: str, n: int) -> None:
    db = Database(url)
    db.upgrade()
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        session.execute(
            insert(Person),
            [
                {
                    "key": f"idle{i}",
                    "name": f"Ansatt {i}",
                    "language": "nb",
                    "role": "employee",
                    "status": "active",
                    "skipped_background": [],
                    "created_at": now,
                }
                for i in range(n)
            ],
        )
    with db.transaction() as session:
        ids = [p.id for p in session.query(Person).all()]
        session.execute(
            insert(Address),
            [
                {
                    "person_id": pid,
                    "platform": "telegram" if i % 2 else "slack",
                    "chat_id": str(20_000 + i) if i % 2 else f"U{i:06d}",
                    "created_at": now,
                }
                for i, pid in enumerate(ids)
            ],
        )
    db.dispose()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def until_healthy(port: int, timeout: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return time.monotonic()
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("never healthy")


def measure(command: list[str], env: dict[str, str], port: int, seconds: float) -> dict:
    started = time.monotonic()
    proc = subprocess.Popen(
        command, env=env, cwd=env.get("HOME", "/tmp"), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        ready = until_healthy(port)
        time.sleep(3)  # let start-up work (first scheduler runs) settle
        cpu0 = cpu_seconds(proc.pid)
        time.sleep(seconds)
        cpu1 = cpu_seconds(proc.pid)
        return {
            "startup": ready - started,
            "rss": rss_mb(proc.pid),
            "cpu_per_min": (cpu1 - cpu0) * 60 / seconds,
        }
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--no-compile", action="store_true", help="leave bytecode as it is")
    args = parser.parse_args()
    if not args.no_compile:
        folders = [str(ROOT / name) for name in ("bot", "storage", "surveys")]
        subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], check=True)
    from tests.fakes.slack_api import FakeSlack

    telegram = FakeTelegramThread()
    slack = FakeSlack()
    telegram._run(slack.start())  # on the same background loop
    with tempfile.TemporaryDirectory(prefix="beholde-idle-") as tmp:
        url = args.database or f"sqlite:///{tmp}/idle.db"
        seed_people(url, 300)
        print("| run | process | start → /healthz s | RSS MB | CPU s per idle minute |")
        print("|---|---|---|---|---|")
        for run in range(1, args.runs + 1):
            port = free_port()
            env = {
                **os.environ,
                "HOME": tmp,
                "XDG_DATA_HOME": tmp,
                "BEHOLDE_DATABASE_URL": url,
                "BEHOLDE_HTTP_PORT": str(port),
                "BEHOLDE_TELEGRAM_TOKEN": telegram.fake.token,
                "BEHOLDE_TELEGRAM_API_URL": telegram.fake.base_url,
                "BEHOLDE_SLACK_BOT_TOKEN": slack.token,
                "BEHOLDE_SLACK_SIGNING_SECRET": slack_client.SECRET,
                "BEHOLDE_SLACK_API_URL": slack.base_url,
                "BEHOLDE_PLANNING_SECRET": "idle-bench-planning-secret-0123456789abcdef",
                "BEHOLDE_LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(ROOT),
            }
            serve = measure(
                [sys.executable, "-c", "from bot.cli import app; app()", "serve"],
                env, port, args.seconds,
            )  # fmt: skip
            ref_port = free_port()
            reference = measure(
                [sys.executable, "-c", REFERENCE, str(ref_port)], env, ref_port, args.seconds
            )
            for name, m in (("beholde serve", serve), ("reference (same libraries)", reference)):
                print(
                    f"| {run} | {name} | {m['startup']:.2f} | {m['rss']:.1f} "
                    f"| {m['cpu_per_min']:.3f} |",
                    flush=True,
                )
    telegram._run(slack.stop())
    telegram.stop()


if __name__ == "__main__":
    main()
