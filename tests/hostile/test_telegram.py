"""Hostile Telegram requests: webhook bodies through real HTTP, and odd updates through the
fake Bot API's getUpdates (long polling), each handled by the real python-telegram-bot.

Webhook garbage gets 400 (403 for a wrong secret) and changes nothing at all; well-formed
updates with hostile content get an answer from the bot and change nothing but the claim.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from bot.conversation import Conversation
from bot.serve import Service
from bot.transports import telegram
from tests.conftest import add_person
from tests.fakes.telegram_api import FakeTelegram
from tests.hostile.conftest import Stage
from tests.hostile.support import CLAIMS, HUGE, MARKER, Judge, Seen, ids
from tests.telegram_support import handled, roundtrip, running_webhook, start_bot, until
from tests.test_hostile_endpoints import SECRET, TELEGRAM_CASES, tg_message

SURFACE = "telegram requests"
TEXT_METHODS = ("sendMessage", "editMessageText", "answerCallbackQuery", "sendPhoto")
KARI, STRANGER = "5005", "6006"
# One webhook service and one polling bot per module and database (see conftest.Stage).
pytestmark = pytest.mark.asyncio(loop_scope="module")
Hook = tuple[str, FakeTelegram, Service]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def running_hook(engine: Conversation) -> AsyncIterator[Hook]:
    async with running_webhook(engine, SECRET) as running:
        yield running


@pytest.fixture
def webhook(running_hook: Hook, stage: Stage) -> Hook:
    stage.ready("webhook")
    return running_hook


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        await r.read()
        return r.status


@pytest.mark.parametrize(("name", "body"), TELEGRAM_CASES, ids=ids(TELEGRAM_CASES))
async def test_webhook_garbage(
    webhook: tuple[str, FakeTelegram, Service],
    engine: Conversation,
    judge: Judge,
    name: str,
    body: bytes,
) -> None:
    url, _fake, _service = webhook
    with judge.watch(engine.db, SURFACE, secrets=[SECRET]) as seen:
        seen.status(await post(url, body, {telegram.SECRET_HEADER: SECRET}))
        assert seen.statuses == [400]


GOOD = json.dumps({"update_id": 77, "message": tg_message(text="/puls")}).encode()
SECRETS = [
    ("no secret header", {}),
    ("wrong secret", {telegram.SECRET_HEADER: "x" * len(SECRET)}),
    ("secret with a suffix", {telegram.SECRET_HEADER: SECRET + "x"}),
    ("secret's prefix", {telegram.SECRET_HEADER: SECRET[:-1]}),
    ("empty secret", {telegram.SECRET_HEADER: ""}),
]


@pytest.mark.parametrize(("name", "headers"), SECRETS, ids=ids(SECRETS))
async def test_webhook_without_the_secret_gets_403(
    webhook: tuple[str, FakeTelegram, Service],
    engine: Conversation,
    judge: Judge,
    name: str,
    headers: dict[str, str],
) -> None:
    url, fake, _service = webhook
    calls = len(fake.calls)
    with judge.watch(engine.db, SURFACE, secrets=[SECRET]) as seen:
        seen.status(await post(url, GOOD, headers))
        assert seen.statuses == [403] and len(fake.calls) == calls


# --------------------------------------------------------------------------- long polling


Polling = tuple[telegram.TelegramBot, FakeTelegram]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def running_bot(engine: Conversation, stage: Stage) -> AsyncIterator[Polling]:
    stage.ready("webhook")  # built on the webhook's rows, whichever ran last
    add_person(engine, KARI, platform="telegram")
    engine.open_round()
    async with FakeTelegram() as fake:
        bot = await start_bot(fake, engine)
        try:
            yield bot, fake
        finally:
            await bot.stop()


@pytest.fixture
def polling(running_bot: Polling, stage: Stage) -> Polling:
    stage.ready("polling")
    return running_bot


def said(fake: FakeTelegram, since: int, seen: Seen) -> None:
    for call in fake.calls[since:]:
        if call.method in TEXT_METHODS:
            seen.reply(str(call.params.get("text") or call.params.get("caption") or ""))


PRESSES = [
    ("made-up token", "x:3"),
    ("huge ids", f"{HUGE}:{HUGE}"),
    ("empty data", ""),
    ("marker", MARKER),
    ("64 bytes of ø", "ø" * 32),
    ("no token", ":3"),
    ("NUL", "\x00:\x00"),
]


@pytest.mark.parametrize(("name", "data"), PRESSES, ids=ids(PRESSES))
async def test_polled_presses_with_forged_data(
    polling: tuple[telegram.TelegramBot, FakeTelegram], engine: Conversation, judge: Judge,
    name: str, data: str,
) -> None:  # fmt: skip
    bot, fake = polling
    since = len(fake.calls)
    with judge.watch(engine.db, SURFACE, may_change=[CLAIMS]) as seen:
        await roundtrip(bot, lambda: fake.push(fake.callback_update(KARI, data)))
        await until(lambda: any(c.method == "answerCallbackQuery" for c in fake.calls[since:]))
        said(fake, since, seen)


TEXTS = [
    ("lone surrogate", KARI, "\ud83d"),
    ("5,000 characters", KARI, "x" * 5000),
    ("formula", KARI, "=cmd|' /C calc'!A0"),
    ("employee runs /runde start", KARI, "/runde start"),
    ("employee runs /samling ny", KARI, '/samling ny "X" 12.03.2027 09:00 Bodø'),
    ("employee runs /påminn", KARI, "/påminn oppgave 1"),
    ("huge /start code", KARI, f"/start {HUGE}"),
    ("slash alone", KARI, "/"),
    ("command for another bot", KARI, "/runde@other_bot start"),
    ("unknown command", KARI, f"/{MARKER}"),
    ("stranger says hello", STRANGER, "hei"),
    ("stranger's wrong code", STRANGER, f"/start {MARKER}"),
    ("stranger's huge code", STRANGER, f"/start {HUGE}"),
    ("stranger runs /runde", STRANGER, "/runde start"),
]


@pytest.mark.parametrize(("name", "chat", "text"), TEXTS, ids=ids(TEXTS))
async def test_polled_messages_with_hostile_text(
    polling: tuple[telegram.TelegramBot, FakeTelegram], engine: Conversation, judge: Judge,
    name: str, chat: str, text: str,
) -> None:  # fmt: skip
    bot, fake = polling
    since = len(fake.calls)
    may = [CLAIMS, "prompts"] if chat == KARI and "/start" in text else [CLAIMS]  # next step
    with judge.watch(engine.db, SURFACE, may_change=may) as seen:
        await roundtrip(bot, lambda: fake.say(chat, text))
        await until(lambda: any(c.method in TEXT_METHODS for c in fake.calls[since:]))
        said(fake, since, seen)


def _group(fake: FakeTelegram) -> dict[str, Any]:
    update = fake.message_update("-100123", "/runde start")
    update["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": MARKER}
    return update


def _edited(fake: FakeTelegram) -> dict[str, Any]:
    update = fake.message_update(KARI, MARKER)
    update["edited_message"] = update.pop("message")
    return update


def _sticker(fake: FakeTelegram) -> dict[str, Any]:
    update = fake.message_update(KARI, "")
    del update["message"]["text"]
    update["message"]["sticker"] = {
        "file_id": "f",
        "file_unique_id": "u",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    }
    return update


def _from_a_bot(fake: FakeTelegram) -> dict[str, Any]:
    update = fake.message_update(STRANGER, "/runde start")
    update["message"]["from"]["is_bot"] = True
    update["message"]["chat"]["type"] = "group"
    return update


IGNORED = [
    ("group chat", _group),
    ("edited message", _edited),
    ("bot in a group", _from_a_bot),
]


@pytest.mark.parametrize(("name", "make"), IGNORED, ids=ids(IGNORED))
async def test_updates_outside_a_private_text_chat_are_ignored(
    polling: tuple[telegram.TelegramBot, FakeTelegram], engine: Conversation, judge: Judge,
    name: str, make: Any,
) -> None:  # fmt: skip
    """Nothing to answer (the bot does not talk in groups, edits are not new answers): these
    need no reply, and change nothing at all."""
    bot, fake = polling
    with judge.watch(engine.db, SURFACE, clear_reply=False):
        before = handled(bot.application)
        fake.push(make(fake))
        await until(lambda: handled(bot.application) > before)


async def test_a_sticker_where_a_button_is_expected_gets_a_hint(
    polling: tuple[telegram.TelegramBot, FakeTelegram], engine: Conversation, judge: Judge
) -> None:
    bot, fake = polling
    since = len(fake.calls)
    with judge.watch(engine.db, SURFACE, may_change=[CLAIMS]) as seen:
        await roundtrip(bot, lambda: fake.push(_sticker(fake)))
        await until(lambda: any(c.method in TEXT_METHODS for c in fake.calls[since:]))
        said(fake, since, seen)
