"""Hostile settings: `beholde round status` (any command reads them first) with one bad value.

Each must end with exit code 2 and one message in BEHOLDE_LANGUAGE that names the setting —
never a traceback, never the value itself (it may be a secret) — and change nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app, common
from storage.db import Database
from tests.hostile.support import HUGE, MARKER, Judge, ids

SURFACE = "settings"
runner = CliRunner()

# (name, setting, value); the value is planted where it could leak.
CASES: list[tuple[str, str, str]] = [
    ("k below 3", "K_ANONYMITY", "2"),
    ("k above 100", "K_ANONYMITY", "101"),
    ("k not a number", "K_ANONYMITY", MARKER),
    ("k huge", "K_ANONYMITY", HUGE),
    ("comment threshold 0", "COMMENT_THRESHOLD", "0"),
    ("factors 11", "FACTORS_PER_PULSE", "11"),
    ("round days 0", "ROUND_DAYS", "0"),
    ("round days a float", "ROUND_DAYS", "2.5"),
    ("invite days 400", "INVITE_VALID_DAYS", "400"),
    ("language Sami", "LANGUAGE", "se"),
    ("time zone on Mars", "TIMEZONE", "Mars/Olympus_Mons"),
    ("time zone a path", "TIMEZONE", "../../etc/passwd"),
    ("database MySQL", "DATABASE_URL", f"mysql://{MARKER}@db/x"),
    ("database in a missing folder", "DATABASE_URL", "sqlite:////nonexistent-beholde/x.db"),
    ("log level TRACE", "LOG_LEVEL", "TRACE"),
    ("log format XML", "LOG_FORMAT", "xml"),
    ("HTTP port 0", "HTTP_PORT", "0"),
    ("HTTP port 70000", "HTTP_PORT", "70000"),
    ("HTTP port a word", "HTTP_PORT", "http"),
    ("work hours at night", "WORK_HOURS", "23:00-05:00"),
    ("work hours nonsense", "WORK_HOURS", MARKER),
    ("reminder at 25:00", "REMINDER_TIME", "25:00"),
    ("pulse time a word", "PULSE_TIME", "morgen"),
    ("digest time empty", "DIGEST_TIME", ""),
    ("task days negative", "TASK_REMINDER_DAYS", "-1"),
    ("task days letters", "TASK_REMINDER_DAYS", "a,b"),
    ("gathering days 91", "GATHERING_REMINDER_DAYS", "91"),
    ("pulse weekday 7", "PULSE_WEEKDAY", "7"),
    ("pulse every 13 weeks", "PULSE_EVERY_WEEKS", "13"),
    ("digest weekday -1", "DIGEST_WEEKDAY", "-1"),
    ("scheduler maybe", "SCHEDULER", "kanskje"),
    ("telegram rate 0", "TELEGRAM_MAX_PER_SECOND", "0"),
    ("webhook over http", "TELEGRAM_WEBHOOK_URL", "http://beholde.example/telegram"),
]
SECRET_CASES: list[tuple[str, dict[str, str], str]] = [
    (
        "webhook secret too short",
        {"TELEGRAM_WEBHOOK_URL": "https://b.example/t", "TELEGRAM_WEBHOOK_SECRET": "kort-4711"},
        "kort-4711",
    ),
    (
        "webhook secret with spaces",
        {
            "TELEGRAM_WEBHOOK_URL": "https://b.example/t",
            "TELEGRAM_WEBHOOK_SECRET": f"x y {MARKER} zzzzzzzzzz",
        },
        MARKER,
    ),
    ("webhook without a secret", {"TELEGRAM_WEBHOOK_URL": "https://b.example/t"}, MARKER),
]
HEAD = {"nb": "beholde kan ikke starte", "nn": "beholde kan ikkje starte", "en": "cannot start"}


@pytest.fixture
def cli_env(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("BEHOLDE_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("BEHOLDE_PLANNING_SECRET", "hostile-suite-secret")
    monkeypatch.setattr(common.console, "width", 300)
    return db


def _judge_start(
    judge: Judge,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    values: dict[str, str],
    secret: str,
    lang: str,
) -> None:
    if "LANGUAGE" not in values:
        monkeypatch.setenv("BEHOLDE_LANGUAGE", lang)
    for setting, value in values.items():
        monkeypatch.setenv(f"BEHOLDE_{setting}", value)
    with judge.watch(db, SURFACE, secrets=[secret]) as seen:
        result = runner.invoke(app, ["round", "status"])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output and secret not in result.output, result.output
        named = [f"BEHOLDE_{s}" for s in values]
        assert any(name in result.output for name in named), result.output
        if "LANGUAGE" not in values:
            assert HEAD[lang] in result.output, result.output
        seen.reply(result.output)


@pytest.mark.parametrize(("name", "setting", "value"), CASES, ids=ids(CASES))
def test_a_bad_setting_stops_the_command_with_one_sentence(
    cli_env: Database,
    judge: Judge,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    setting: str,
    value: str,
) -> None:
    lang = ("nb", "nn", "en")[len(name) % 3]  # every language gets its share of the cases
    _judge_start(judge, cli_env, monkeypatch, {setting: value}, value or MARKER, lang)


@pytest.mark.parametrize(("name", "values", "secret"), SECRET_CASES, ids=ids(SECRET_CASES))
def test_a_bad_secret_is_named_but_never_shown(
    cli_env: Database,
    judge: Judge,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    values: dict[str, str],
    secret: str,
) -> None:
    _judge_start(judge, cli_env, monkeypatch, values, secret, "nn")
