"""Pacing for every platform sender: per-chat and global limits, Retry-After, jitter.

Platforms state their limits as "n calls per period" (Telegram: 30 messages a second overall,
about one a second per chat; Slack: ~1 message a second per channel, 50 or 100 calls a minute
per method; Teams: 7 per second, 8 per 2 s, 60 per 30 s per conversation, ~50 a second per
app). A `Pacer` holds such limits per chat and globally and lets a call go only when every
one of them keeps:

    pacer = Pacer(per_chat=[(7, 1.0), (8, 2.0), (60, 30.0)], global_=[(50, 1.0)])
    async with pacer.slot(chat_id) as slot:
        response = await send(...)           # 429? then: slot.refund(); pacer.back_off(...)
    pacer.back_off(chat_id, retry_after)     # the platform asked us to wait: no call before

Each limit is a sliding window — at most `count` calls in any `period` seconds — rather
than a refilling token bucket: platforms count in windows, and a bucket that starts full lets
twice the limit through in its first period. A window still allows a burst of `count`, then
paces at `count / period`. A call's place is dated by when the call *came back* (the platform
counted it somewhere in between), so calls that bunch up on the way can never look like more
than the limit to the platform. Checking and taking happen without an `await` in between, so
concurrent senders in one event loop never overshoot; waiters queue instead of all polling.
`back_off` adds up to 10 % jitter, so chats that were told to wait together do not all come
back in the same instant.

Several instances on one database share a platform's budget (its limits are per app, not per
process): `pacer.share(limits, name, scope)` makes every call also take a place in a window
every instance sees (`SharedLimits`, in the database: bot/budgets.py). `scope="global"`
shares the global limits (Telegram's 30/s, Teams' tenant); `scope="chats"` shares each
key's own limits (Slack's methods, where the "chat" is the method name). The local windows
stay: within one process they are exact and cost nothing; the shared one only adds a wait.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Literal, Protocol

Limit = tuple[int, float]  # (count, period in seconds): at most `count` per `period`
Clock = Callable[[], float]

MAX_CHATS = 20_000  # per-chat state kept; the least recently used is forgotten (it is full)


class SharedLimits(Protocol):
    """A window every instance sees: take one place under `limits` of budget `key`."""

    async def take(self, key: str, limits: Sequence[Limit]) -> float:
        """0.0 when the place was taken, else the seconds to wait before asking again."""
        ...


class Stamp:
    """When one call was counted; moved to the call's return once it came back."""

    __slots__ = ("at", "back")

    def __init__(self, at: float) -> None:
        self.at = at
        self.back = False  # still in flight: it counts, however long it takes


class Window:
    """At most `count` calls in any `period` seconds (a hard cap, as platforms count)."""

    __slots__ = ("count", "paused_until", "period", "stamps")

    def __init__(self, count: int, period: float) -> None:
        if count < 1 or period <= 0:
            raise ValueError("a limit needs count >= 1 and period > 0")
        self.count = count
        self.period = period
        self.stamps: list[Stamp] = []
        self.paused_until = 0.0

    def delay(self, now: float) -> float:
        """Seconds until one more call keeps this limit (0: now)."""
        self.stamps = [s for s in self.stamps if not s.back or now - s.at < self.period]
        wait = 0.0
        if len(self.stamps) >= self.count:
            done = [s.at for s in self.stamps if s.back]
            # All places are in flight: look again soon (only the first waiter polls).
            wait = min(done) + self.period - now if done else self.period / self.count
        return max(wait, self.paused_until - now)

    def take(self, now: float) -> Stamp:
        stamp = Stamp(now)
        self.stamps.append(stamp)
        return stamp

    def refund(self, stamp: Stamp) -> None:
        if stamp in self.stamps:
            self.stamps.remove(stamp)


class Slot:
    """One call's place under every limit that applies to it."""

    __slots__ = ("refunded", "taken")

    def __init__(self, taken: list[tuple[Window, Stamp]]) -> None:
        self.taken = taken
        self.refunded = False

    def refund(self) -> None:
        """The platform refused the call without counting it (a 429): the places come back."""
        if not self.refunded:
            self.refunded = True
            for window, stamp in self.taken:
                window.refund(stamp)

    def done(self, now: float) -> None:
        """The call came back at `now`: count it from then (the platform saw it before)."""
        if not self.refunded:
            for _window, stamp in self.taken:
                stamp.at = max(stamp.at, now)
                stamp.back = True


class Pacer:
    """Per-chat and global limits for one platform's outgoing calls.

    `per_chat` is a list of limits, or a function giving a chat's limits (Telegram paces
    groups slower than private chats). `slot(None)` counts against the global limits only.
    """

    def __init__(
        self,
        per_chat: Sequence[Limit] | Callable[[str], Sequence[Limit]] = (),
        global_: Sequence[Limit] = (),
        clock: Clock = time.monotonic,
        jitter: float = 0.1,
        max_chats: int = MAX_CHATS,
    ) -> None:
        fixed = tuple(per_chat) if not callable(per_chat) else ()
        self.chat_limits: Callable[[str], Sequence[Limit]] = (
            per_chat if callable(per_chat) else (lambda _chat: fixed)
        )
        self.clock = clock
        self.jitter = jitter
        self.max_chats = max_chats
        self.global_windows = [Window(c, p) for c, p in global_]
        self.chats: collections.OrderedDict[str, list[Window]] = collections.OrderedDict()
        self.paused: dict[str, float] = {}
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._global_lock = asyncio.Lock()
        self.shared: SharedLimits | None = None
        self.shared_name = ""
        self.shared_scope: Literal["global", "chats"] = "global"

    def share(
        self, limits: SharedLimits, name: str, scope: Literal["global", "chats"] = "global"
    ) -> None:
        """Count this pacer's calls in a budget shared by every instance (see module doc)."""
        self.shared, self.shared_name, self.shared_scope = limits, name, scope

    def _shared(self, chat_id: str | None) -> tuple[str, Sequence[Limit]] | None:
        if self.shared is None:
            return None
        if self.shared_scope == "global":
            limits = [(w.count, w.period) for w in self.global_windows]
            return (self.shared_name, limits) if limits else None
        if chat_id is None:
            return None
        limits = list(self.chat_limits(chat_id))
        return (f"{self.shared_name}:{chat_id}", limits) if limits else None

    def _windows(self, chat_id: str | None) -> list[Window]:
        if chat_id is None:
            return self.global_windows
        windows = self.chats.get(chat_id)
        if windows is None:
            windows = [Window(c, p) for c, p in self.chat_limits(chat_id)]
            self.chats[chat_id] = windows
            while len(self.chats) > self.max_chats:
                self.chats.popitem(last=False)
        else:
            self.chats.move_to_end(chat_id)
        return self.global_windows + windows

    def delay(self, chat_id: str | None, now: float | None = None) -> float:
        """Seconds until a call to `chat_id` would be allowed (0: now)."""
        now = self.clock() if now is None else now
        wait = max((w.delay(now) for w in self._windows(chat_id)), default=0.0)
        if chat_id is not None and chat_id in self.paused:
            until = self.paused[chat_id]
            if until <= now:
                del self.paused[chat_id]
            else:
                wait = max(wait, until - now)
        return wait

    async def acquire(self, chat_id: str | None) -> Slot:
        """Wait until one more call keeps every limit, and take its places.

        Waiters queue (first come, first served) on a lock per chat and one for the global
        limits, so only the first in each queue polls the clock: a thousand calls waiting for
        one budget cost one timer, not a thousand waking at once.
        """
        if chat_id is None:
            async with self._global_lock:
                return await self._take_when_free(None)
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = self._locks[chat_id] = asyncio.Lock()
        async with lock:
            while (wait := self._chat_delay(chat_id, self.clock())) > 0:
                await asyncio.sleep(wait)
            async with self._global_lock:
                return await self._take_when_free(chat_id)

    async def _take_when_free(self, chat_id: str | None) -> Slot:
        shared = self._shared(chat_id)
        while True:
            while (wait := self.delay(chat_id)) > 0:
                await asyncio.sleep(wait)
            if shared is None or self.shared is None:
                break
            # Under this pacer's locks, so no local caller takes a place meanwhile.
            wait = await self.shared.take(*shared)
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        now = self.clock()
        return Slot([(w, w.take(now)) for w in self._windows(chat_id)])

    def _chat_delay(self, chat_id: str, now: float) -> float:
        """The wait for the chat's own limits and pause only (not the global ones)."""
        windows = self._windows(chat_id)[len(self.global_windows) :]
        wait = max((w.delay(now) for w in windows), default=0.0)
        return max(wait, self.paused.get(chat_id, 0.0) - now)

    def release(self, slot: Slot) -> None:
        """The call came back: count its places from now (unless they were refunded)."""
        slot.done(self.clock())

    @asynccontextmanager
    async def slot(self, chat_id: str | None) -> AsyncIterator[Slot]:
        """`async with pacer.slot(chat):` the call inside runs when every limit allows it."""
        taken = await self.acquire(chat_id)
        try:
            yield taken
        finally:
            self.release(taken)

    def back_off(self, chat_id: str | None, retry_after: float) -> float:
        """The platform said "retry after": nothing to this chat (or at all, for None) before
        then. Returns the wait, with jitter, that the caller should sleep before trying again."""
        wait = max(0.0, retry_after) * (1 + random.uniform(0, self.jitter))
        until = self.clock() + wait
        if chat_id is None:
            for window in self.global_windows:
                window.paused_until = max(window.paused_until, until)
        else:
            self.paused[chat_id] = max(self.paused.get(chat_id, 0.0), until)
        return wait


def backoff(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Exponential backoff with ±50 % jitter for attempt 1, 2, 3 … (5xx, timeouts)."""
    return min(cap, base * 2 ** max(0, attempt - 1)) * random.uniform(0.5, 1.5)
