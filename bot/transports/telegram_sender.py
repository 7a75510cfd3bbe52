"""Paced, retrying Bot API calls: how every Telegram message leaves beholde.

Telegram asks bots to stay under about 30 messages a second overall and one a second per
chat (short bursts are tolerated; groups about 20 a minute). Pacing happens inside
python-telegram-bot, through its own `BaseRateLimiter` hook (`TelegramPacing`), so every Bot
API call with a chat — replies, edits, the outbox's sends — is paced by one `bot.pacing.Pacer`
without wrapping each call. A 429 is honoured there: the chat waits its `retry_after` (so one
slow chat never stalls a round) and the call is made again; a long wait is handed back to the
outbox instead. `TelegramSender.call` retries 5xx answers and time-outs with exponential
backoff and jitter, and turns what still fails into a `SendError` with the reason; "blocked by
the user" is permanent, so the outbox marks the person unreachable and this sender refuses
further calls to that chat without bothering Telegram.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from bot.pacing import Limit, Pacer, backoff
from bot.ports import SendError

log = logging.getLogger(__name__)

T = TypeVar("T")

PERMANENT_BAD_REQUESTS = ("chat not found", "user not found", "peer_id_invalid", "chat_id_invalid")
PRIVATE_CHAT: Sequence[Limit] = [(3, 3.0)]  # a burst of three, then about one a second
GROUP_CHAT: Sequence[Limit] = [(20, 60.0)]
UNPACED = frozenset({"answerCallbackQuery"})  # answering a press is not a message
MAX_INLINE_RETRY_AFTER = 30.0  # longer waits go back to the outbox


def telegram_pacer(
    per_second: int = 30,
    private: Sequence[Limit] = PRIVATE_CHAT,
    group: Sequence[Limit] = GROUP_CHAT,
) -> Pacer:
    """Telegram's limits: `per_second` overall, private chats and groups (negative ids)."""
    return Pacer(
        per_chat=lambda chat: group if chat.startswith("-") else private,
        global_=[(per_second, 1.0)],
    )


def retry_after_seconds(error: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds (PTB 22 is moving this to a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)


class TelegramPacing(BaseRateLimiter[None]):
    """python-telegram-bot's rate-limiter hook, pacing every call about a chat with a Pacer.

    A 429 gives the call's place back (Telegram did not count it), pauses the chat for the
    `retry_after` asked (with jitter) and tries again, up to `retries` times; a wait longer
    than `max_inline_wait` is raised at once, for the outbox to schedule.
    """

    def __init__(
        self, pacer: Pacer, retries: int = 3, max_inline_wait: float = MAX_INLINE_RETRY_AFTER
    ) -> None:
        self.pacer = pacer
        self.retries = retries
        self.max_inline_wait = max_inline_wait
        self.rate_limited = 0  # 429 answers seen (for tests and metrics)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat = data.get("chat_id")
        if chat is None or endpoint in UNPACED:
            return await callback(*args, **kwargs)
        chat_id = str(chat)
        attempt = 0
        while True:
            async with self.pacer.slot(chat_id) as slot:
                try:
                    return await callback(*args, **kwargs)
                except RetryAfter as error:
                    slot.refund()
                    self.rate_limited += 1
                    seconds = retry_after_seconds(error)
                    attempt += 1
                    if attempt > self.retries or seconds > self.max_inline_wait:
                        raise
            self.pacer.back_off(chat_id, seconds)  # the next slot waits for it


def transient(error: BaseException) -> bool:
    """Worth another try: 5xx and network trouble — never a 400, 403 or a long 429."""
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


class TelegramSender:
    """Runs Bot API calls with retries, turning failures into SendError.

    `pacer` is the one the Application's `TelegramPacing` uses (see `TelegramBot`).
    """

    def __init__(
        self,
        pacer: Pacer | None = None,
        attempts: int = 5,
        base_backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = MAX_INLINE_RETRY_AFTER,
    ) -> None:
        self.pacer = pacer or telegram_pacer()
        self.attempts = attempts
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.blocked: set[str] = set()
        self.retries = 0

    def rate_limiter(self) -> TelegramPacing:
        """The hook to give python-telegram-bot's ApplicationBuilder."""
        return TelegramPacing(
            self.pacer, retries=self.attempts - 1, max_inline_wait=self.max_retry_after
        )

    def unblock(self, chat_id: str) -> None:
        """The person wrote to us again, so they no longer block the bot."""
        self.blocked.discard(chat_id)

    def _wait(self, state: RetryCallState) -> float:
        self.retries += 1
        return backoff(state.attempt_number, self.base_backoff, self.max_backoff)

    async def call(self, chat_id: str, what: str, action: Callable[[], Awaitable[T]]) -> T:
        """Run `action` (one Bot API call about `chat_id`) until it succeeds or fails for good."""
        if chat_id in self.blocked:
            raise SendError("telegram: the person has blocked the bot", permanent=True)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            retry=retry_if_exception(transient),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await action()
        except RetryAfter as error:
            seconds = retry_after_seconds(error)
            raise SendError(
                f"telegram {what}: flood control, retry after {seconds:g} s", retry_after=seconds
            ) from None
        except Forbidden as error:
            self.blocked.add(chat_id)
            raise SendError(f"telegram {what}: {error.message}", permanent=True) from None
        except BadRequest as error:
            permanent = any(p in error.message.lower() for p in PERMANENT_BAD_REQUESTS)
            raise SendError(f"telegram {what}: {error.message}", permanent=permanent) from None
        except TelegramError as error:
            raise SendError(f"telegram {what}: {error.message}") from None
        except (TimeoutError, OSError) as error:
            raise SendError(f"telegram {what}: network: {type(error).__name__}") from None
        raise AssertionError("unreachable")  # pragma: no cover - tenacity returns or raises
