"""Send pacing: per-chat and global rate windows, Retry-After and jitter (stub; H3's replaces it).

Each limit is (count, seconds): at most `count` sends start in any `seconds`-long window.
A slot waits until every window of the chat and the global ones has room, then records the
send. `back_off` makes a chat (or, with None, everything) wait what the platform asked for.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

Limit = tuple[int, float]


class _Windows:
    """Sliding windows over recent send times, one deque per limit."""

    def __init__(self, limits: Sequence[Limit]) -> None:
        self.limits = [(int(n), float(s)) for n, s in limits]
        self.times: list[deque[float]] = [deque() for _ in self.limits]
        self.blocked_until = 0.0

    def wait_for(self, now: float) -> float:
        """Seconds until a send may start (0 if now)."""
        wait = max(0.0, self.blocked_until - now)
        for (count, span), times in zip(self.limits, self.times, strict=True):
            while times and times[0] <= now - span:
                times.popleft()
            if len(times) >= count:
                wait = max(wait, times[len(times) - count] + span - now)
        return wait

    def record(self, now: float) -> None:
        for times in self.times:
            times.append(now)


class Pacer:
    """Per-chat and global limits shared by all sends of one platform."""

    def __init__(
        self,
        per_chat: Sequence[Limit] = (),
        global_: Sequence[Limit] = (),
        *,
        jitter: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_chat = list(per_chat)
        self.global_windows = _Windows(global_)
        self.chats: dict[str, _Windows] = {}
        self.jitter = jitter
        self.clock = clock
        self._lock = asyncio.Lock()

    def _chat(self, chat_id: str) -> _Windows:
        windows = self.chats.get(chat_id)
        if windows is None:
            windows = self.chats[chat_id] = _Windows(self.per_chat)
        return windows

    @asynccontextmanager
    async def slot(self, chat_id: str) -> AsyncIterator[None]:
        """Wait for room in the chat's and the global windows, then send inside the block.

        The chat's own window is waited for first, alone; then one sender at a time (a fair
        lock) waits for the shared windows, so a burst does not wake every waiter for each
        free slot.
        """
        chat = self._chat(chat_id)
        while (wait := chat.wait_for(self.clock())) > 0:
            await asyncio.sleep(wait)
        async with self._lock:
            while True:
                now = self.clock()
                wait = max(chat.wait_for(now), self.global_windows.wait_for(now))
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            chat.record(now)
            self.global_windows.record(now)
        yield

    def back_off(self, chat_id: str | None, retry_after: float) -> None:
        """The platform said wait: hold the chat (None: every chat) for retry_after + jitter."""
        until = self.clock() + max(0.0, retry_after) * (1 + random.uniform(0, self.jitter))
        target = self.global_windows if chat_id is None else self._chat(chat_id)
        target.blocked_until = max(target.blocked_until, until)
