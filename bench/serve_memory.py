"""What an idle `beholde serve` is made of (issue 13): the breakdown behind bench/idle_serve.py.

Starts the same service as idle_serve.py (Telegram long polling and Slack HTTP against the
fakes, the scheduler, SQLite with 300 people), lets it settle, and has it report on SIGUSR1:
RSS and /proc/<pid>/smaps_rollup (anonymous against file-backed), its threads, the modules
it loaded by top-level package with their bytecode size (code objects are most of the heap),
the modules the reference process (idle_serve.REFERENCE's libraries) does not load, and the
text-catalogue files it parsed.

    .venv/bin/python bench/serve_memory.py [--settle 4] [--top 25]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import idle_serve  # noqa: E402

REPORT = """
import json, os, signal, sys, threading, importlib.util

def report(*_):
    import bot.i18n
    sizes = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if path.endswith(".py"):
            try:
                sizes[name] = os.path.getsize(importlib.util.cache_from_source(path))
            except OSError:
                sizes[name] = 0
        else:
            sizes[name] = 0
    with open(os.environ["BEHOLDE_MEMORY_REPORT"], "w") as out:
        json.dump({
            "modules": sizes,
            "threads": [t.name for t in threading.enumerate()],
            "areas": bot.i18n.area_texts.cache_info().currsize,
            "files": sum(len(bot.i18n._files(lang)) for lang in bot.i18n.LANGUAGES),
        }, out)

signal.signal(signal.SIGUSR1, report)
sys.argv = ["beholde", "serve"]
from bot.cli import app
app()
"""
REFERENCE_MODULES = (
    "import json, sys, asyncio, aiohttp, telegram, telegram.ext, slack_bolt.async_app, "
    "sqlalchemy, apscheduler, psycopg\nfrom aiohttp import web\n"
    "print(json.dumps(sorted(sys.modules)))"
)


def rollup(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        out[name] = int(value.split()[0])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--settle", type=float, default=4, help="seconds after /healthz")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    folders = [str(ROOT / name) for name in ("bot", "storage", "surveys")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], check=True)
    from tests.fakes import slack_client
    from tests.fakes.slack_api import FakeSlack
    from tests.kill_harness import FakeTelegramThread

    telegram = FakeTelegramThread()
    slack = FakeSlack()
    telegram._run(slack.start())
    reference = set(
        json.loads(
            subprocess.run(
                [sys.executable, "-c", REFERENCE_MODULES], capture_output=True, text=True,
                check=True,
            ).stdout
        )
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="beholde-memory-") as tmp:
        url = f"sqlite:///{tmp}/idle.db"
        idle_serve.seed_people(url, 300)
        port = idle_serve.free_port()
        report = Path(tmp) / "report.json"
        env = {
            **os.environ, "HOME": tmp, "XDG_DATA_HOME": tmp, "BEHOLDE_DATABASE_URL": url,
            "BEHOLDE_HTTP_PORT": str(port), "BEHOLDE_TELEGRAM_TOKEN": telegram.fake.token,
            "BEHOLDE_TELEGRAM_API_URL": telegram.fake.base_url,
            "BEHOLDE_SLACK_BOT_TOKEN": slack.token,
            "BEHOLDE_SLACK_SIGNING_SECRET": slack_client.SECRET,
            "BEHOLDE_SLACK_API_URL": slack.base_url,
            "BEHOLDE_PLANNING_SECRET": "idle-bench-planning-secret-0123456789abcdef",
            "BEHOLDE_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
            "BEHOLDE_MEMORY_REPORT": str(report),
        }  # fmt: skip
        proc = subprocess.Popen(
            [sys.executable, "-c", REPORT], env=env, cwd=tmp, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            idle_serve.until_healthy(port)
            time.sleep(args.settle)
            rss, smaps = idle_serve.rss_mb(proc.pid), rollup(proc.pid)
            proc.send_signal(signal.SIGUSR1)
            for _ in range(300):
                if report.exists() and report.stat().st_size:
                    break
                time.sleep(0.1)
            time.sleep(0.2)
            seen = json.loads(report.read_text())
        finally:
            proc.terminate()
            proc.wait(30)
    telegram._run(slack.stop())
    telegram.stop()
    modules: dict[str, int] = seen["modules"]
    print(f"RSS {rss:.1f} MB; anonymous {smaps['Anonymous'] / 1024:.1f} MB, file-backed "
          f"{(smaps['Rss'] - smaps['Anonymous']) / 1024:.1f} MB")  # fmt: skip
    print(f"threads ({len(seen['threads'])}): {', '.join(seen['threads'])}")
    print(f"catalogue files parsed: {seen['areas']} of {seen['files']}")
    total = sum(modules.values())
    print(f"modules: {len(modules)}, bytecode {total / 1e6:.2f} MB")
    extra = {name: size for name, size in modules.items() if name not in reference}
    for title, table in (("all loaded", modules), ("not in the reference", extra)):
        by_top: collections.Counter[str] = collections.Counter()
        count: collections.Counter[str] = collections.Counter()
        for name, size in table.items():
            by_top[name.split(".")[0]] += size
            count[name.split(".")[0]] += 1
        print(f"\n{title}: {len(table)} modules, {sum(table.values()) / 1e6:.2f} MB bytecode")
        print("| package | modules | bytecode kB |\n|---|---|---|")
        for top, size in by_top.most_common(args.top):
            print(f"| {top} | {count[top]} | {size / 1e3:.0f} |")


if __name__ == "__main__":
    main()
