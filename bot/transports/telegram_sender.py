"""Rate-limited, retrying Bot API calls: how every Telegram message leaves beholde.

Telegram asks bots to stay under about 30 messages a second overall and one a second per
chat (short bursts are tolerated; groups about 20 a minute). The limiter keeps to that
before a call is made; a 429 answer is honoured by waiting its `retry_after` (for that chat,
so one slow chat never stalls a round); 5xx answers and time-outs are retried with
exponential backoff and jitter. What still fails becomes a `SendError` with the reason, and
"blocked by the user" is permanent, so the outbox marks the person unreachable and this
sender refuses further calls to that chat without bothering Telegram.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import random
import time
import warnings
from collections.abc import Awaitable, Callable
from typing import TypeVar

# Opt in to PTB's coming behaviour (durations as timedelta) instead of a warning per 429.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
)

from bot.ports import SendError

log = logging.getLogger(__name__)

T = TypeVar("T")

PERMANENT_BAD_REQUESTS = ("chat not found", "user not found", "peer_id_invalid", "chat_id_invalid")


class Slot:
    """One message's place in the window, dated by when Telegram had surely received it."""

    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        self.at = at


class SlidingWindow:
    """At most `limit` messages in any `period` seconds (a hard cap, unlike a token bucket).

    A slot is dated first by when the request left and then, once answered, by when the
    answer came back: Telegram received it in between, so requests that bunch up on the way
    can never make Telegram count more than `limit` in its own window.
    """

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.slots: list[Slot] = []

    def delay(self, now: float) -> float:
        self.slots = [s for s in self.slots if now - s.at < self.period]
        if len(self.slots) < self.limit:
            return 0.0
        return min(s.at for s in self.slots) + self.period - now

    def record(self, now: float) -> Slot:
        slot = Slot(now)
        self.slots.append(slot)
        return slot


class TokenBucket:
    """`rate` events a second on average, with bursts of up to `capacity`."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now
        self.paused_until = 0.0

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def delay(self, now: float) -> float:
        self._refill(now)
        wait = 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate
        return max(wait, self.paused_until - now)

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1


class RateLimiter:
    """A global sliding window plus one token bucket per chat.

    Checking and taking happen without an `await` in between, so concurrent senders in one
    event loop never overshoot.
    """

    MAX_CHATS = 20_000  # buckets kept; the oldest are forgotten (they are full by then)

    def __init__(
        self,
        per_second: float = 30,
        per_chat: float = 1.0,
        chat_burst: float = 3,
        group_per_minute: float = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = SlidingWindow(max(1, int(per_second)), 1.0)
        self.per_chat = per_chat
        self.chat_burst = chat_burst
        self.group_rate = group_per_minute / 60
        self.clock = clock
        self.buckets: collections.OrderedDict[str, TokenBucket] = collections.OrderedDict()

    def _bucket(self, chat_id: str, now: float) -> TokenBucket:
        bucket = self.buckets.get(chat_id)
        if bucket is None:
            group = chat_id.startswith("-")  # groups and channels have negative ids
            rate = self.group_rate if group else self.per_chat
            bucket = self.buckets[chat_id] = TokenBucket(rate, self.chat_burst, now)
            while len(self.buckets) > self.MAX_CHATS:
                self.buckets.popitem(last=False)
        else:
            self.buckets.move_to_end(chat_id)
        return bucket

    async def acquire(self, chat_id: str) -> Slot:
        """Wait until one more message to `chat_id` keeps every limit; pass the slot to `done`."""
        while True:
            now = self.clock()
            bucket = self._bucket(chat_id, now)
            wait = max(bucket.delay(now), self.window.delay(now))
            if wait <= 0:
                bucket.take(now)
                return self.window.record(now)
            await asyncio.sleep(wait)

    def cancel(self, slot: Slot) -> None:
        """Telegram refused the call with 429: nothing was sent, so the slot is free again."""
        with contextlib.suppress(ValueError):
            self.window.slots.remove(slot)

    def done(self, slot: Slot) -> None:
        """The call came back: date its slot now, when Telegram has certainly counted it."""
        slot.at = max(slot.at, self.clock())

    def pause(self, chat_id: str, seconds: float) -> None:
        """Telegram said "retry after": no message to this chat before then."""
        now = self.clock()
        bucket = self._bucket(chat_id, now)
        bucket.paused_until = max(bucket.paused_until, now + seconds)


def retry_after_seconds(error: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds (PTB 22 is moving this to a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)


def transient(error: BaseException) -> bool:
    """Worth another try: flood control, 5xx and network trouble — never a 400 or 403."""
    if isinstance(error, RetryAfter):
        return True
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


class TelegramSender:
    """Runs Bot API calls under the limits, with retries, turning failures into SendError."""

    def __init__(
        self,
        limiter: RateLimiter | None = None,
        attempts: int = 5,
        base_backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
    ) -> None:
        self.limiter = limiter or RateLimiter()
        self.attempts = attempts
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.blocked: set[str] = set()
        self.retries = 0

    def unblock(self, chat_id: str) -> None:
        """The person wrote to us again, so they no longer block the bot."""
        self.blocked.discard(chat_id)

    def _wait(self, chat_id: str) -> Callable[[RetryCallState], float]:
        def wait(state: RetryCallState) -> float:
            self.retries += 1
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, RetryAfter):
                seconds = retry_after_seconds(error)
                if seconds > self.max_retry_after:
                    raise error  # let the outbox schedule it rather than hold a task for long
                self.limiter.pause(chat_id, seconds)
                return seconds * random.uniform(1.0, 1.1)
            step = min(self.max_backoff, self.base_backoff * 2 ** (state.attempt_number - 1))
            return step * random.uniform(0.5, 1.5)

        return wait

    async def call(
        self,
        chat_id: str,
        what: str,
        action: Callable[[], Awaitable[T]],
        counted: bool = True,
    ) -> T:
        """Run `action` (one Bot API call about `chat_id`) until it succeeds or fails for good.

        `counted` calls (messages and edits) go through the rate limiter; an answer to a
        button press does not count as a message.
        """
        if chat_id in self.blocked:
            raise SendError("telegram: the person has blocked the bot", permanent=True)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._wait(chat_id),
            retry=retry_if_exception(transient),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    slot = await self.limiter.acquire(chat_id) if counted else None
                    try:
                        return await action()
                    except RetryAfter:
                        if slot is not None:
                            self.limiter.cancel(slot)
                            slot = None
                        raise
                    finally:
                        if slot is not None:
                            self.limiter.done(slot)
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
        raise AssertionError("unreachable")  # pragma: no cover - tenacity returns or raises
