"""`beholde serve`: every configured transport, the outbox and the schedule in one process.

Features plug in through installers (`install(service)`), each deciding from the settings
whether it is configured: the Telegram and Slack transports add routes and transports, the
scheduler adds background work, the summaries add a round-closed hook. The HTTP server
always offers `/healthz` for a load balancer.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib
import importlib.util
import logging
import os
import signal
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.conversation import Conversation
from bot.outbox import deliver_due
from bot.ports import Transport
from bot.settings import Settings

log = logging.getLogger(__name__)

INSTALLERS = (
    "bot.transports.telegram",
    "bot.transports.slack",
    "bot.transports.teams",
    "bot.scheduler",
    "bot.summaries",
)
DELIVERY_INTERVAL = 1.0

Task = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class Service:
    """What installers extend: routes, transports, background tasks, start/stop hooks."""

    settings: Settings
    engine: Conversation
    web: web.Application = field(default_factory=web.Application)
    transports: dict[str, Transport] = field(default_factory=dict)
    tasks: list[Task] = field(default_factory=list)
    on_start: list[Task] = field(default_factory=list)
    on_stop: list[Task] = field(default_factory=list)
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    deliver_outbox: bool = True  # a scheduler feature may take delivery over
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def now(self) -> dt.datetime:
        return self.engine.clock()


def install_features(service: Service) -> list[str]:
    """Run every installer module that exists; returns the names installed."""
    installed = []
    for name in INSTALLERS:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        installer = getattr(module, "install", None)
        if installer is not None and installer(service) is not False:
            installed.append(name.rsplit(".", 1)[-1])
    return installed


async def health(request: web.Request) -> web.Response:
    service: Service = request.app["service"]
    try:
        await asyncio.to_thread(_ping, service)
    except Exception as error:  # the load balancer only needs to know it is unhealthy
        log.warning("health check failed: %s", type(error).__name__)
        return web.json_response({"ok": False}, status=503)
    return web.json_response({"ok": True, "transports": sorted(service.transports)})


def _ping(service: Service) -> None:
    from sqlalchemy import text

    with service.engine.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


async def delivery_loop(service: Service) -> None:
    """Send due outbox rows for the transports this process runs, until stopped."""
    while not service.stopping.is_set():
        try:
            stats = await deliver_due(
                service.engine.db, service.transports, service.now(), service.worker_id
            )
            busy = stats.handled > 0
        except Exception:
            log.exception("outbox delivery failed; trying again shortly")
            busy = False
        if not busy:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(service.stopping.wait(), DELIVERY_INTERVAL)


async def run_service(service: Service, host: str, port: int) -> None:
    """Start everything, run until SIGINT/SIGTERM, stop cleanly."""
    service.web["service"] = service
    service.web.router.add_get("/healthz", health)
    installed = install_features(service)
    if service.deliver_outbox and service.transports:
        service.tasks.append(lambda: delivery_loop(service))
    for hook in service.on_start:
        await hook()
    runner = web.AppRunner(service.web, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info(
        "beholde serving on %s:%s with %s",
        host,
        port,
        ", ".join(sorted(service.transports)) or "no chat platform",
    )
    if not installed:
        log.warning("no feature installed")
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, service.stopping.set)
    running = [asyncio.create_task(task()) for task in service.tasks]
    try:
        await service.stopping.wait()
    finally:
        log.info("beholde stopping")
        for hook in reversed(service.on_stop):
            with contextlib.suppress(Exception):
                await hook()
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await runner.cleanup()
