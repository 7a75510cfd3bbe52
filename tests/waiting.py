"""Waiting in tests: poll a condition until it holds, never sleep a fixed time and hope.

`wait_for` is for conditions another thread or process makes true (it blocks); `eventually`
is for the event loop (it awaits, so the bot under test keeps running meanwhile). Both
return as soon as the condition holds, so a fast machine is not slowed down, and a slow
one gets up to `timeout` seconds.
"""

from __future__ import annotations

import asyncio
import inspect
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable


def wait_for(condition: Callable[[], object], timeout: float = 10.0, every: float = 0.02) -> bool:
    """True as soon as `condition()` is, False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(every)


async def eventually(
    condition: Callable[[], object | Awaitable[object]],
    timeout: float = 10.0,
    every: float = 0.01,
    what: str = "the condition",
) -> None:
    """Await until `condition()` (or the awaitable it returns) is true; fail the test after
    `timeout` seconds, saying what it waited for."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(every)


def stop(proc: subprocess.Popen[str]) -> str:
    """Stop a beholde process as systemd would (SIGTERM, then SIGKILL after 20 s); its output."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out or ""
