"""Start-up failures end `beholde serve` in one sentence naming the setting, never the token.

The checks (`check_token`, `settings_problem` in each transport) are what `beholde doctor`
reuses; they ask the fake Telegram and Slack servers over HTTP as the real ones would be.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.conversation import Conversation
from bot.serve import Service
from bot.settings import Settings
from bot.transports import slack, telegram
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram

REJECTED_TELEGRAM = "987654321:AAE-rejected-secret-token-01234567"
REJECTED_SLACK = "xoxb-rejected-secret-token-0123"


def closed_port_url(path: str) -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"  # nobody listens there any more


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def sl() -> AsyncIterator[FakeSlack]:
    server = FakeSlack()
    await server.start()
    yield server
    await server.stop()


def tg_settings(fake: FakeTelegram, **values: object) -> Settings:
    base: dict[str, object] = {"telegram_token": fake.token, "telegram_api_url": fake.base_url}
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[arg-type]


def sl_settings(fake: FakeSlack, **values: object) -> Settings:
    base: dict[str, object] = {
        "slack_bot_token": fake.token,
        "slack_signing_secret": "s" * 32,
        "slack_api_url": fake.base_url,
    }
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[arg-type]


def one_sentence(text: str, setting: str, *secrets: str) -> None:
    assert setting in text
    assert "\n" not in text and text.endswith(".")
    assert "Traceback" not in text
    for secret in secrets:
        assert secret not in text
        assert secret.split(":")[-1] not in text


async def test_telegram_accepts_a_working_token(tg: FakeTelegram) -> None:
    assert await telegram.check_token(tg_settings(tg)) is None
    assert tg.arrived["getMe"] == 1


@pytest.mark.parametrize(
    ("values", "setting"),
    [
        ({"telegram_token": REJECTED_TELEGRAM}, "BEHOLDE_TELEGRAM_TOKEN"),
        ({"telegram_token": "abc"}, "BEHOLDE_TELEGRAM_TOKEN"),
        ({"telegram_token": "123456789:short"}, "BEHOLDE_TELEGRAM_TOKEN"),
        ({"telegram_api_url": closed_port_url("/bot")}, "BEHOLDE_TELEGRAM_API_URL"),
        ({"telegram_steering_chat": "abc"}, "BEHOLDE_TELEGRAM_STEERING_CHAT"),
        ({"telegram_steering_chat": "#general"}, "BEHOLDE_TELEGRAM_STEERING_CHAT"),
    ],
    ids=["rejected", "malformed", "too short", "unreachable", "steering abc", "steering #general"],
)
async def test_telegram_problems_are_one_sentence_naming_the_setting(
    tg: FakeTelegram, values: dict[str, object], setting: str
) -> None:
    settings = tg_settings(tg, **values)
    problem = await telegram.check_token(settings)
    assert problem is not None
    one_sentence(problem, setting, REJECTED_TELEGRAM, tg.token)


@pytest.mark.parametrize("target", ["-1001234567890", "@styringsgruppa", "777"])
def test_telegram_steering_targets_that_are_chats_are_accepted(
    tg: FakeTelegram, target: str
) -> None:
    assert telegram.settings_problem(tg_settings(tg, telegram_steering_chat=target)) is None


async def test_slack_accepts_working_tokens(sl: FakeSlack) -> None:
    assert await slack.check_token(sl_settings(sl)) is None
    assert await slack.check_token(sl_settings(sl, slack_app_token=sl.app_token)) is None
    assert sl.count("auth.test") == 2 and sl.count("apps.connections.open") == 1


@pytest.mark.parametrize(
    ("values", "setting"),
    [
        ({"slack_bot_token": REJECTED_SLACK}, "BEHOLDE_SLACK_BOT_TOKEN"),
        ({"slack_bot_token": "abc"}, "BEHOLDE_SLACK_BOT_TOKEN"),
        ({"slack_app_token": "xapp-1-rejected-app-token"}, "BEHOLDE_SLACK_APP_TOKEN"),
        ({"slack_app_token": "xoxb-not-an-app-token"}, "BEHOLDE_SLACK_APP_TOKEN"),
        ({"slack_api_url": closed_port_url("/api/")}, "BEHOLDE_SLACK_API_URL"),
        ({"slack_steering_channel": "#general"}, "BEHOLDE_SLACK_STEERING_CHANNEL"),
        ({"slack_steering_channel": "abc"}, "BEHOLDE_SLACK_STEERING_CHANNEL"),
        ({"slack_signing_secret": None}, "BEHOLDE_SLACK_SIGNING_SECRET"),
    ],
    ids=[
        "rejected",
        "malformed",
        "app token rejected",
        "app token malformed",
        "unreachable",
        "steering #general",
        "steering abc",
        "no signing secret",
    ],
)
async def test_slack_problems_are_one_sentence_naming_the_setting(
    sl: FakeSlack, values: dict[str, object], setting: str
) -> None:
    problem = await slack.check_token(sl_settings(sl, **values))
    assert problem is not None
    one_sentence(problem, setting, REJECTED_SLACK, sl.token, "xapp-1-rejected-app-token")


def test_bad_steering_targets_are_refused_at_install(
    engine: Conversation, tg: FakeTelegram, sl: FakeSlack
) -> None:
    with pytest.raises(SystemExit, match="BEHOLDE_TELEGRAM_STEERING_CHAT"):
        telegram.install(Service(tg_settings(tg, telegram_steering_chat="abc"), engine))
    with pytest.raises(SystemExit, match="BEHOLDE_SLACK_STEERING_CHANNEL"):
        slack.install(Service(sl_settings(sl, slack_steering_channel="#general"), engine))


async def test_the_sentence_is_in_the_configured_language(tg: FakeTelegram) -> None:
    texts = {
        lang: await telegram.check_token(tg_settings(tg, telegram_token="abc", language=lang))
        for lang in ("nb", "nn", "en")
    }
    assert "kan ikke starte" in str(texts["nb"])
    assert "kan ikkje starte" in str(texts["nn"])
    assert "cannot start" in str(texts["en"])


async def serve_output(tmp_path: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run `beholde serve` to its end (in a thread: the fake servers share this loop)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    full = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BEHOLDE_")},
        "BEHOLDE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "BEHOLDE_HTTP_PORT": str(port),
        "BEHOLDE_SCHEDULER": "false",
        **env,
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot.cli", "serve"],
        env=full,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,  # a busy machine starts Python slowly
    )
    return done.returncode, done.stdout + done.stderr


async def test_beholde_serve_with_a_rejected_telegram_token_ends_in_one_sentence(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    code, output = await serve_output(
        tmp_path,
        {"BEHOLDE_TELEGRAM_TOKEN": REJECTED_TELEGRAM, "BEHOLDE_TELEGRAM_API_URL": tg.base_url},
    )
    assert code != 0
    assert "Traceback" not in output
    assert REJECTED_TELEGRAM not in output and REJECTED_TELEGRAM.split(":")[1] not in output
    problems = [line for line in output.splitlines() if "BEHOLDE_TELEGRAM_TOKEN" in line]
    assert len(problems) == 1 and "@BotFather" in problems[0]


async def test_beholde_serve_with_a_rejected_slack_token_ends_in_one_sentence(
    sl: FakeSlack, tmp_path: Path
) -> None:
    code, output = await serve_output(
        tmp_path,
        {
            "BEHOLDE_SLACK_BOT_TOKEN": REJECTED_SLACK,
            "BEHOLDE_SLACK_SIGNING_SECRET": "s" * 32,
            "BEHOLDE_SLACK_API_URL": sl.base_url,
        },
    )
    assert code != 0
    assert "Traceback" not in output and REJECTED_SLACK not in output
    problems = [line for line in output.splitlines() if "BEHOLDE_SLACK_BOT_TOKEN" in line]
    assert len(problems) == 1 and "invalid_auth" in problems[0]


async def test_slack_start_asks_auth_test_before_the_first_request_not_on_its_way(
    engine: Conversation, sl: FakeSlack
) -> None:
    """slack-bolt would call auth.test inside the first requests, before their ack."""
    import aiohttp
    from aiohttp import web

    from tests.fakes import slack_client
    from tests.slack_harness import slack_person

    slack_person(engine, sl, "UKARI")
    settings = sl_settings(
        sl, slack_steering_channel="CSTEERING", slack_signing_secret=slack_client.SECRET
    )
    service = Service(settings, engine)
    assert slack.install(service) is True
    for hook in service.on_start:
        await hook()
    asked_at_start = sl.count("auth.test")
    assert asked_at_start == 2  # the start-up check and bolt's own, given to bolt
    runner = web.AppRunner(service.web, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as http:
            statuses = await asyncio.gather(
                *(
                    slack_client.post(
                        http,
                        f"http://127.0.0.1:{port}/slack/events",
                        slack_client.command_body("UKARI", "hjelp"),
                    )
                    for _ in range(3)
                )
            )
        assert statuses == [200, 200, 200]
        await service.web[slack.SLACK_BOT_KEY].drain()
    finally:
        for hook in reversed(service.on_stop):
            await hook()
        await runner.cleanup()
    assert sl.count("auth.test") == asked_at_start
    assert sl.count("chat.postMessage") == 3  # the help reached the person each time
