"""Serving an aiohttp app on a free port of 127.0.0.1: the start-up every fake and harness
shares (the fake platforms, beholde's own web app in the endpoint tests)."""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Any, Self

from aiohttp import web


def free_port() -> int:
    """A port of 127.0.0.1 free a moment ago, for a process the test starts itself."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def serve(app: web.Application, **runner_options: Any) -> tuple[web.AppRunner, int]:
    """Start `app` on a free local port; returns its runner (to clean up) and the port."""
    runner = web.AppRunner(app, access_log=None, **runner_options)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sockets = site._server.sockets  # type: ignore[union-attr]
    return runner, int(sockets[0].getsockname()[1])


class Started:
    """`async with Fake() as fake:` starts a fake server and stops it afterwards."""

    async def start(self) -> object:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.stop()
