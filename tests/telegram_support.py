"""Helpers for the Telegram tests: a running fake Bot API and a real PTB Application on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application, TypeHandler

from bot.conversation import Conversation
from bot.pacing import Pacer
from bot.serve import Service
from bot.settings import Settings
from bot.transports.telegram import TelegramBot, install
from bot.transports.telegram_sender import TelegramSender
from tests.fakes.local import serve
from tests.fakes.telegram_api import FakeTelegram, buttons
from tests.waiting import eventually


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """A fake Bot API for one test (import it as a fixture: `fake as fake`)."""
    async with FakeTelegram() as server:
        yield server


def settings_for(fake: FakeTelegram, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_token": fake.token,
        "telegram_api_url": fake.base_url,
        "telegram_steering_chat": "-100777",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def fast_sender(per_chat: int = 100, attempts: int = 6, per_second: int = 30) -> TelegramSender:
    """Test pace: the real pacer and retries, with per-chat spacing and backoff shortened."""
    return TelegramSender(
        Pacer(per_chat=[(per_chat, 1.0)], global_=[(per_second, 1.0)]),
        attempts=attempts,
        base_backoff=0.01,
        max_backoff=0.05,
    )


HANDLED = "beholde_tests_handled"


def count_handled(application: Application) -> None:
    """Count updates once the bot's own handlers are done with them (a handler in a later
    group runs after them; PTB awaits each group in turn)."""

    async def seen(update: Update, context: object) -> None:
        application.bot_data[HANDLED] = handled(application) + 1

    application.add_handler(TypeHandler(Update, seen), group=99)


def handled(application: Application) -> int:
    return int(application.bot_data.get(HANDLED, 0))


async def start_bot(
    fake: FakeTelegram,
    engine: Conversation,
    sender: TelegramSender | None = None,
    **overrides: Any,
) -> TelegramBot:
    bot = TelegramBot(
        settings_for(fake, **overrides), engine, poll_timeout=1, sender=sender or fast_sender()
    )
    count_handled(bot.application)
    await bot.start()
    return bot


async def until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait (briefly polling) until `condition()` is true; fail the test otherwise."""
    await eventually(condition, timeout, what="the bot")


async def roundtrip(bot: TelegramBot, push: Callable[[], object]) -> None:
    """Push one update through getUpdates and wait until the bot has fully handled it."""
    before = handled(bot.application)
    push()
    await until(lambda: handled(bot.application) > before)


@asynccontextmanager
async def running_webhook(
    engine: Conversation, secret: str
) -> AsyncIterator[tuple[str, FakeTelegram, Service]]:
    """`beholde serve`'s web app with the Telegram webhook, against a fake Bot API:
    (the hook's URL, the fake, the service)."""
    async with FakeTelegram() as fake:
        settings = settings_for(
            fake,
            telegram_webhook_url="https://beholde.example.kommune.no/telegram/hook",
            telegram_webhook_secret=secret,
        )
        service = Service(settings, engine)
        assert install(service) is True
        for hook in service.on_start:
            await hook()
        runner, port = await serve(service.web)
        try:
            yield f"http://127.0.0.1:{port}/telegram/hook", fake, service
        finally:
            for hook in reversed(service.on_stop):
                await hook()
            await runner.cleanup()


def labels(message: dict[str, Any] | None) -> list[str]:
    return [b["text"] for b in buttons(message)] if message else []


async def answer_everything(
    bot: TelegramBot, fake: FakeTelegram, chat: str, text: str = "Bedre turnus", limit: int = 40
) -> int:
    """Press through every question shown in `chat` (numbers: the highest; else the first;
    free text: typed); returns the presses."""
    presses = 0
    while (message := fake.with_button(chat)) is not None and presses < limit:
        shown = labels(message)
        numbers = [label for label in shown if label.isdigit()]
        if "Hopp over" in shown and not numbers and len(shown) == 1:
            await roundtrip(bot, lambda: fake.say(chat, text))
        else:
            choice = numbers[-1] if numbers else shown[0]
            await roundtrip(bot, lambda choice=choice: fake.press(chat, choice))
        presses += 1
    return presses
