"""The Telegram transport, on python-telegram-bot 22.

Thin by design: updates become the engine's inbound events (`/start <code>` and other
commands, button presses, typed text), and the engine's replies become Bot API calls (the
pressed message is edited to show the answer, the press is always acknowledged, the next
messages follow with inline keyboards). Conversation state lives in beholde's tables, not in
PTB, so a restart or a second instance continues where a person stopped.

Long polling by default; with `BEHOLDE_TELEGRAM_WEBHOOK_URL` set, Telegram posts updates to
`beholde serve`'s HTTP server instead, and a request without the right
`X-Telegram-Bot-Api-Secret-Token` gets 403 and changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import json
import logging
import warnings
import weakref
from collections.abc import Awaitable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import inbound, metrics
from bot import platform_forms as forms
from bot.i18n import t
from bot.ports import (
    Address,
    Choice,
    ChoicePressed,
    Command,
    InboundEvent,
    OutgoingMessage,
    Reply,
    SendError,
    TextReceived,
)
from bot.transports.telegram_sender import TelegramSender, telegram_pacer

if TYPE_CHECKING:
    from bot.conversation import Conversation
    from bot.pacing import Pacer
    from bot.serve import Service
    from bot.settings import Settings

log = logging.getLogger(__name__)

# Long polling: Telegram holds `getUpdates` open up to 50 s and answers at once when an update
# arrives, so a longer hold costs no latency, only fewer idle requests (6 → 1.2 a minute).
POLL_TIMEOUT = 50.0

PLATFORM = "telegram"
ALLOWED_UPDATES = ["message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = 4096  # UTF-16 code units, as Telegram counts
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes

# Telegram command names must be ASCII ([a-z0-9_]); `sprak` is the engine's alias for `språk`.
# The menu's descriptions are `telegram_menu_<Norwegian name>` in the text catalogue.
MENU = (
    "puls", "pause", "stopp", "samlinger", "oppgaver", "kommer", "arbeidstid", "hjelp", "meg",
    "slett", "sprak",
)  # fmt: skip
ENGLISH_NAMES = {
    "puls": "pulse",
    "samlinger": "gatherings",
    "oppgaver": "tasks",
    "kommer": "attend",
    "arbeidstid": "hours",
    "stopp": "stop",
    "hjelp": "help",
    "meg": "me",
    "slett": "delete",
    "sprak": "language",
}


def menu(lang: str) -> list[BotCommand]:
    """The command menu in one language (English names for English)."""
    return [
        BotCommand(
            ENGLISH_NAMES.get(name, name) if lang == "en" else name,
            t(lang, f"telegram_menu_{name}"),
        )
        for name in MENU
    ]


# --------------------------------------------------------------------------- translation


def event_from_update(update: Update) -> InboundEvent | None:
    """The engine's event for one update from a private chat; None for anything else."""
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        return None
    address = Address(PLATFORM, str(chat.id))
    user = update.effective_user
    name = user.full_name if user else None
    query = update.callback_query
    if query is not None:
        return ChoicePressed(address, query.data or "", display_name=name)
    message = update.message
    if message is None:
        return None
    text = (message.text or message.caption or "").strip()
    if text.startswith("/"):
        head, *args = text.split()
        command = head[1:].split("@", 1)[0].lower()
        if command:
            return Command(address, command, tuple(args), display_name=name)
    return TextReceived(address, text, display_name=name)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces within Telegram's limit, cut at line breaks where possible."""
    if utf16_len(text) <= limit:
        return [text or " "]
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while utf16_len(line) > limit:  # one enormous line: cut it hard
            cut = limit
            while utf16_len(line[:cut]) > limit:
                cut -= 1
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:]
        if utf16_len(current + line) > limit:
            pieces.append(current)
            current = ""
        current += line
    if current:
        pieces.append(current)
    return [p for p in pieces if p.strip()] or [" "]


def keyboard(choices: Sequence[Choice]) -> InlineKeyboardMarkup | None:
    """An inline keyboard that fits a phone: a 1–6 scale in one row, 0–10 in two."""
    if not choices:
        return None
    for choice in choices:
        if len(choice.data.encode()) > MAX_CALLBACK_DATA:
            raise SendError(f"telegram: button data longer than {MAX_CALLBACK_DATA} bytes")
    main = [c for c in choices if not c.data.endswith(":skip")]
    extra = [c for c in choices if c.data.endswith(":skip")]
    rows: list[list[Choice]] = []
    if main and all(c.label.isdigit() for c in main):
        per_row = len(main) if len(main) <= 6 else -(-len(main) // 2)
    elif all(len(c.label) <= 10 for c in main) and len(main) <= 3:
        per_row = max(1, len(main))
    elif all(len(c.label) <= 16 for c in main):
        per_row = 2
    else:
        per_row = 1
    rows = [main[i : i + per_row] for i in range(0, len(main), per_row)]
    rows += [[c] for c in extra]
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(c.label, callback_data=c.data) for c in row] for row in rows]
    )


# --------------------------------------------------------------------------- start-up checks

TOKEN_FORM = forms.TELEGRAM_TOKEN
STEERING_CHAT_FORM = forms.TELEGRAM_STEERING_CHAT


def shown(value: str, limit: int = 40) -> str:
    """A setting's value as it may be printed: one line, not too long."""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def settings_problem(settings: Settings) -> str | None:
    """What is wrong with the Telegram settings before Telegram is asked (None: nothing)."""
    lang = settings.language
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    if not TOKEN_FORM.fullmatch(token):
        return t(lang, "startup_telegram_token_malformed")
    chat = settings.telegram_steering_chat
    if chat and not STEERING_CHAT_FORM.fullmatch(chat.strip()):
        return t(lang, "startup_telegram_steering_chat", value=shown(chat))
    return None


def failure_sentence(error: TelegramError, settings: Settings) -> str:
    """One sentence for a failed first call to Telegram, naming the setting, never the token."""
    lang = settings.language
    if isinstance(error, InvalidToken):
        return t(lang, "startup_telegram_token_rejected")
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    reason = shown(str(error.message or type(error).__name__), 80)
    if token:
        reason = reason.replace(token, "…").replace(token.split(":")[-1], "…")
    return t(lang, "startup_telegram_unreachable", url=settings.telegram_api_url, reason=reason)


async def check_token(settings: Settings) -> str | None:
    """None when Telegram accepts these settings (getMe answers); else one sentence naming
    the setting, never the token. For `beholde serve` and `beholde doctor`."""
    problem = settings_problem(settings)
    if problem is not None:
        return problem
    assert settings.telegram_token is not None
    bot = Bot(settings.telegram_token.get_secret_value(), base_url=settings.telegram_api_url)
    try:
        async with bot:  # initialize() asks getMe
            pass
    except TelegramError as error:
        return failure_sentence(error, settings)
    return None


# --------------------------------------------------------------------------- the transport port


class TelegramTransport:
    """The outbox's way to Telegram: `send` to a person, `post_to_channel` to the steering group."""

    platform = PLATFORM
    concurrency = 32  # chats sent to at once by the outbox; the limiter keeps the pace

    def __init__(self, application: Application, sender: TelegramSender, steering_chat: str | None):
        self.application = application
        self.sender = sender
        self.steering_chat = steering_chat

    def shared_pacers(self) -> dict[str, tuple[Pacer, Literal["global", "chats"]]]:
        """Telegram's ~30 messages a second are per bot: shared across instances."""
        return {"": (self.sender.pacer, "global")}

    async def send(self, address: Address, message: OutgoingMessage) -> str:
        return await self.send_to(address.chat_id, message)

    async def post_to_channel(self, message: OutgoingMessage) -> str:
        if not self.steering_chat:
            raise SendError("telegram: BEHOLDE_TELEGRAM_STEERING_CHAT is not set")
        return await self.send_to(self.steering_chat, message)

    async def send_to(self, chat_id: str, message: OutgoingMessage) -> str:
        """Send one message (split if too long; buttons go on the last piece)."""
        bot = self.application.bot
        markup = keyboard(message.choices)
        if message.image is not None:
            fits = utf16_len(message.text) <= MAX_CAPTION
            photo = await self.sender.call(
                chat_id,
                "sendPhoto",
                lambda: bot.send_photo(
                    chat_id,
                    photo=message.image or b"",
                    filename=message.image_name,
                    caption=message.text if fits else None,
                    reply_markup=markup if fits else None,
                ),
            )
            if fits:
                return str(photo.message_id)
            message = OutgoingMessage(message.text, message.choices)
        pieces = split_text(message.text)
        sent: Message | None = None
        for i, piece in enumerate(pieces):
            buttons = markup if i == len(pieces) - 1 else None
            sent = await self.sender.call(
                chat_id,
                "sendMessage",
                partial(bot.send_message, chat_id, piece, reply_markup=buttons),
            )
        assert sent is not None
        return str(sent.message_id)


# --------------------------------------------------------------------------- update processing


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates from different chats run concurrently; one chat's updates run in order."""

    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: weakref.WeakValueDictionary[object, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        key = chat.id if chat else None
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        async with lock:
            await coroutine

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


class TelegramBot:
    """The PTB Application wired to the conversation engine, with its start and stop."""

    def __init__(
        self,
        settings: Settings,
        engine: Conversation,
        *,
        poll_timeout: float = POLL_TIMEOUT,
        sender: TelegramSender | None = None,
    ) -> None:
        if settings.telegram_token is None:
            raise ValueError("BEHOLDE_TELEGRAM_TOKEN is not set")
        # PTB 22 warns on every 429 that `retry_after` will become a timedelta; we read it
        # either way (telegram_sender.retry_after_seconds), so that one warning is noise.
        warnings.filterwarnings("ignore", message=r".*attribute `retry_after` will be of type")
        self.engine = engine
        self.settings = settings
        self.poll_timeout = poll_timeout
        self.webhook_url = settings.telegram_webhook_url
        secret = settings.telegram_webhook_secret
        self.webhook_secret = secret.get_secret_value() if secret else ""
        self.sender = sender or TelegramSender(telegram_pacer(settings.telegram_max_per_second))
        builder = (
            ApplicationBuilder()
            .token(settings.telegram_token.get_secret_value())
            .base_url(settings.telegram_api_url)
            .concurrent_updates(PerChatUpdateProcessor())
            .rate_limiter(self.sender.rate_limiter())
        )
        if self.webhook_url:
            builder = builder.updater(None)
        self.application = builder.build()
        self.application.add_handler(CallbackQueryHandler(self.on_callback))
        self.application.add_handler(
            MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE, self.on_message)
        )
        self.application.add_error_handler(self.on_error)
        self.transport = TelegramTransport(
            self.application, self.sender, settings.telegram_steering_chat
        )

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        app = self.application
        try:
            await app.initialize()  # getMe: a wrong token stops the service here
        except TelegramError as error:
            raise SystemExit(failure_sentence(error, self.settings)) from None
        await asyncio.to_thread(inbound.warm_up, self.engine)
        await self.publish_commands()
        if self.webhook_url:
            await app.bot.set_webhook(
                self.webhook_url,
                secret_token=self.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        await app.start()
        if app.updater is not None:
            await app.updater.start_polling(
                timeout=dt.timedelta(seconds=self.poll_timeout), allowed_updates=ALLOWED_UPDATES
            )
        log.info(
            "telegram bot @%s started (%s)",
            app.bot.username,
            "webhook" if self.webhook_url else "long polling",
        )

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    async def publish_commands(self) -> None:
        """The command menu in the instance's language, and in nynorsk and English for
        clients set to those languages."""
        bot = self.application.bot
        try:  # at once, not one after the other: start-up waits for these
            await asyncio.gather(
                bot.set_my_commands(menu(self.settings.language), scope=BotCommandScopeDefault()),
                *(bot.set_my_commands(menu(lang), language_code=lang) for lang in ("nn", "en")),
            )
        except TelegramError as error:  # the menu is a convenience; commands work without it
            log.warning("telegram: could not publish the command menu: %s", error.message)

    # ----------------------------------------------------------------- webhook

    @property
    def webhook_path(self) -> str:
        return urlsplit(self.webhook_url or "").path or "/telegram/webhook"

    async def webhook(self, request: web.Request) -> web.Response:
        """Telegram's POST: checked against the secret, queued, answered at once."""
        given = request.headers.get(SECRET_HEADER, "")
        if not self.webhook_secret or not hmac.compare_digest(
            given.encode(), self.webhook_secret.encode()
        ):
            log.warning("telegram webhook call with a wrong or missing secret refused")
            return web.Response(status=403, text="forbidden")
        update = await self._update_from(request)
        if update is None:
            log.warning("telegram webhook: refused a body that is not a Telegram update")
            return web.Response(status=400, text="not a Telegram update")
        await self.application.update_queue.put(update)
        return web.Response(text="ok")

    async def _update_from(self, request: web.Request) -> Update | None:
        """The update in a webhook body, or None for anything that is not one."""
        try:
            data = json.loads(await request.read())
        except ValueError:  # not JSON, not UTF-8
            return None
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int) or not 0 <= update_id < 2**63:
            return None
        try:
            return Update.de_json(data, self.application.bot)
        except (TypeError, ValueError, AttributeError, KeyError, OverflowError):
            return None

    # ----------------------------------------------------------------- handlers

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        event = event_from_update(update)
        if event is None:
            return
        self.sender.unblock(event.address.chat_id)
        reply = await self.receive(update.update_id, event)
        if reply is not None:
            await self._deliver(event.address, reply, None, update.update_id)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        event = event_from_update(update)
        reply: Reply | None = None
        if event is not None:
            self.sender.unblock(event.address.chat_id)
        try:
            if event is not None:
                reply = await self.receive(update.update_id, event)
        finally:
            # Always acknowledge, or the person's button keeps spinning.
            notice = reply.notice if reply else None
            with contextlib.suppress(SendError):
                await self.sender.call(
                    str(query.from_user.id),
                    "answerCallbackQuery",
                    lambda: query.answer(notice[:200] if notice else None),
                )
        if event is not None and reply is not None:
            pressed = query.message if isinstance(query.message, Message) else None
            await self._deliver(event.address, reply, pressed, update.update_id)

    async def receive(self, update_id: int, event: InboundEvent) -> Reply | None:
        """The engine's reply; None when Telegram delivered this update before."""
        return await asyncio.to_thread(
            inbound.receive, self.engine, PLATFORM, str(update_id), event
        )

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        log.error(
            "telegram update failed: %s",
            type(error).__name__,
            exc_info=error if not isinstance(error, TelegramError) else None,
        )

    async def _deliver(
        self, address: Address, reply: Reply, pressed: Message | None, update_id: int
    ) -> None:
        """Carry out a reply: edit the pressed message, then send the messages in order."""
        chat_id = address.chat_id
        bot = self.application.bot
        if reply.edit is not None and pressed is not None:
            edit = reply.edit
            try:
                await self.sender.call(
                    chat_id,
                    "editMessageText",
                    lambda: bot.edit_message_text(
                        split_text(edit.text)[0],
                        chat_id=pressed.chat_id,
                        message_id=pressed.message_id,
                        reply_markup=keyboard(edit.choices),
                    ),
                )
            except SendError as error:  # the answer is stored; only the display lags
                log.info("telegram: could not edit the pressed message: %s", error.reason)
        await inbound.send_or_queue(
            self.engine,
            partial(self.transport.send_to, chat_id),
            address,
            reply.messages,
            str(update_id),
        )


def install(service: Service) -> bool:
    """Add Telegram to `beholde serve` when a token is configured."""
    if service.settings.telegram_token is None:
        return False
    problem = settings_problem(service.settings)
    if problem is not None:
        raise SystemExit(problem)
    bot = TelegramBot(service.settings, service.engine)
    if not bot.webhook_url:
        metrics.count_polled_updates(bot.application, PLATFORM)
    service.transports[PLATFORM] = bot.transport
    if bot.webhook_url:
        service.web.router.add_post(bot.webhook_path, bot.webhook)
    service.on_start.append(bot.start)
    service.on_stop.append(bot.stop)
    return True
