"""Helpers for the Telegram tests: a running fake Bot API and a real PTB Application on it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from bot.conversation import Conversation
from bot.settings import Settings
from bot.transports.telegram import TelegramBot
from bot.transports.telegram_sender import RateLimiter, TelegramSender
from tests.fakes.telegram_api import FakeTelegram, buttons


def settings_for(fake: FakeTelegram, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_token": fake.token,
        "telegram_api_url": fake.base_url,
        "telegram_steering_chat": "-100777",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def fast_sender(per_chat: float = 100.0, attempts: int = 6) -> TelegramSender:
    """Test pace: the real limiter and retries, with per-chat spacing and backoff shortened."""
    return TelegramSender(
        RateLimiter(per_second=30, per_chat=per_chat, chat_burst=10),
        attempts=attempts,
        base_backoff=0.01,
        max_backoff=0.05,
    )


async def start_bot(
    fake: FakeTelegram,
    engine: Conversation,
    sender: TelegramSender | None = None,
    **overrides: Any,
) -> TelegramBot:
    bot = TelegramBot(
        settings_for(fake, **overrides), engine, poll_timeout=1, sender=sender or fast_sender()
    )
    await bot.start()
    return bot


async def until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait (briefly polling) until `condition()` is true; fail the test otherwise."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the bot")
        await asyncio.sleep(0.01)


async def roundtrip(bot: TelegramBot, push: Callable[[], object]) -> None:
    """Push one update through getUpdates and wait until the bot has fully handled it."""
    before = bot.handled
    push()
    await until(lambda: bot.handled > before)


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
