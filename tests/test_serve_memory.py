"""An idle `beholde serve` stays small (issue 13): count-based guards, not timings.

The real `beholde serve` (Telegram long polling against the fake Bot API, Slack over HTTP
against the fake Web API, the scheduler, SQLite) runs in a subprocess; once /healthz answers
and the first scheduler runs are over, it reports what it loaded: the modules, its threads
and the text-catalogue files it parsed. Bench figures (RSS) live in bench/idle_serve.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from pydantic import ValidationError

from bot.cli import plain_serve
from bot.serve import EXECUTOR_THREADS
from bot.settings import Settings
from storage.db import Database
from tests import test_ops
from tests.fakes import slack_client
from tests.fakes.local import free_port
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent

# `beholde serve` as the console script starts it, reporting on SIGUSR1 (one JSON line).
SERVE = """
import json, signal, sys, threading

def report(*_):
    import bot.i18n
    print(json.dumps({
        "modules": sorted(sys.modules),
        "threads": [t.name for t in threading.enumerate()],
        "areas": bot.i18n.area_texts.cache_info().currsize,
        "whole_catalogues": bot.i18n.catalogue.cache_info().currsize,
    }), flush=True)

signal.signal(signal.SIGUSR1, report)
sys.argv = ["beholde", "serve"]
from bot.cli import app
app()
"""
# Never in an idle service: the CLI's machinery, migrations, the summary's data stack, another
# dialect's SQLAlchemy module, an unconfigured platform's SDK. (Settings are pydantic-settings.)
NEVER = ("typer", "rich", "click", "alembic", "pandas", "numpy",
         "matplotlib", "openpyxl", "psycopg", "sqlalchemy.dialects.postgresql",
         "microsoft_agents", "msal", "bot.transports.teams")  # fmt: skip
# The main thread and the event loop's default executor, whatever the machine's cores.
MOST_THREADS = 1 + EXECUTOR_THREADS


platforms = test_ops.platforms  # the fake Telegram and Slack, started and stopped


async def healthy(port: int, proc: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            assert proc.returncode is None, "beholde serve stopped"
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("/healthz never answered 200")


async def test_an_idle_service_loads_only_what_serving_needs(
    platforms: tuple[FakeTelegram, FakeSlack], tmp_path: Path
) -> None:
    telegram, slack = platforms
    url = f"sqlite:///{tmp_path / 'idle.db'}"
    db = Database(url)
    db.upgrade()  # as deploy/ does before it starts the service (Alembic only then)
    db.dispose()
    port = free_port()
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path),
        "BEHOLDE_DATABASE_URL": url,
        "BEHOLDE_HTTP_PORT": str(port),
        "BEHOLDE_TELEGRAM_TOKEN": telegram.token,
        "BEHOLDE_TELEGRAM_API_URL": telegram.base_url,
        "BEHOLDE_SLACK_BOT_TOKEN": slack.token,
        "BEHOLDE_SLACK_SIGNING_SECRET": slack_client.SECRET,
        "BEHOLDE_SLACK_API_URL": slack.base_url,
        "BEHOLDE_PLANNING_SECRET": "idle-test-planning-secret-0123456789",
        "BEHOLDE_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVE, env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await healthy(port, proc)
        await asyncio.sleep(2)  # the scheduler's first runs and Telegram's first poll
        proc.send_signal(signal.SIGUSR1)
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
    finally:
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()
    seen = json.loads(line)
    modules = set(seen["modules"])
    assert {"telegram", "slack_bolt", "bot.scheduler", "sqlalchemy.orm"} <= modules  # it served
    assert telegram.arrived["getUpdates"] >= 1  # and polled
    loaded = {name for name in NEVER if name in modules}
    assert loaded == set()
    assert len(seen["threads"]) <= MOST_THREADS, seen["threads"]
    # A few catalogue files (the chat's core texts, the transports' ...), never all 45.
    assert 1 <= seen["areas"] <= 12 and seen["whole_catalogues"] == 0


def test_a_plain_serve_is_told_from_everything_typer_must_handle() -> None:
    assert plain_serve(["serve"]) == {}
    assert plain_serve(["serve", "--port", "8081", "--host=0.0.0.0"]) == {
        "port": 8081,
        "host": "0.0.0.0",
    }
    for argv in (
        [],
        ["round", "status"],
        ["serve", "--help"],
        ["serve", "--port", "http"],
        ["serve", "--port"],
        ["serve", "--port=1", "--port=2"],
        ["serve", "extra"],
    ):
        assert plain_serve(argv) is None, argv


def test_serve_with_a_wrong_setting_still_says_which_in_one_message(tmp_path: Path) -> None:
    """The typer-free start gives way to the CLI, which names the setting (exit code 2)."""
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path),
        "BEHOLDE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "BEHOLDE_K_ANONYMITY": "2",
        "BEHOLDE_LANGUAGE": "en",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", "from bot.cli import app; app()", "serve"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "BEHOLDE_K_ANONYMITY: must be at least 3" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "x.db").exists()  # nothing was started or created


def test_a_text_parses_only_its_own_catalogue_file() -> None:
    probe = (
        "import bot.i18n as i\n"
        "i.t('nn', 'skip'); a = i.area_texts.cache_info().currsize\n"
        "i.t('nn', 'ops.settings.head'); b = i.area_texts.cache_info().currsize\n"
        "print(a, b, i.catalogue.cache_info().currsize, len(i._files('nn')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    one, two, whole, files = map(int, out)
    assert (one, two, whole) == (1, 2, 0) and files > 10


def test_the_key_scan_finds_exactly_the_keys_yaml_reads() -> None:
    """`area_of` places keys by a line scan; it must agree with the parsed files."""
    from bot import i18n

    for lang in i18n.LANGUAGES:
        parsed = {key: area for area, texts in i18n.area_files(lang).items() for key in texts}
        assert i18n.area_of(lang) == parsed


def test_settings_come_from_the_environment_over_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.upper().startswith("BEHOLDE_"):
            monkeypatch.delenv(name)
    (tmp_path / ".env").write_text(
        "# a comment\nexport BEHOLDE_LANGUAGE=en\nBEHOLDE_K_ANONYMITY='7'\nOTHER=1\n"
        'BEHOLDE_SLACK_BOT_TOKEN="xoxb-from-file"\n',
        "utf-8",
    )
    monkeypatch.setenv("beholde_k_anonymity", "9")  # any case, and it wins over the file
    settings = Settings(database_url="sqlite://")
    assert (settings.language, settings.k_anonymity) == ("en", 9)
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-file"
    assert "xoxb-from-file" not in repr(settings)
    assert Settings(_env_file=None, database_url="sqlite://").language == "nb"
    monkeypatch.setenv("BEHOLDE_SCHEDULER", "kanskje")
    with pytest.raises(ValidationError) as refused:
        Settings(database_url="sqlite://", http_port="0")
    assert {str(e["loc"][0]) for e in refused.value.errors()} == {"http_port", "scheduler"}


def test_both_starts_of_serve_say_a_taken_port_in_one_sentence(tmp_path: Path) -> None:
    """The typer-free start and the typer one end in the same `bot.cli.serving.run_serving`."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        env = {
            **os.environ,
            "XDG_DATA_HOME": str(tmp_path),
            "BEHOLDE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
            "BEHOLDE_LANGUAGE": "nn",
            "PYTHONPATH": str(ROOT),
        }
        for start in ("app()", "app(prog_name='beholde')"):  # plain, then through typer
            code = f"from bot.cli import app; {start}"
            result = subprocess.run(
                [sys.executable, "-c", code, "serve", "--port", port],
                capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
            )  # fmt: skip
            assert result.returncode == 2, (start, result.stderr)
            assert "beholde kan ikkje starte HTTP-tenaren" in result.stdout, start
            assert "Traceback" not in result.stdout + result.stderr, start
