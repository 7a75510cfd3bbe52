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
import signal
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.conversation import Conversation
from bot.outbox import Delivery
from bot.ports import Transport
from bot.settings import Settings
from storage import inbound
from storage.db import INSTANCE

log = logging.getLogger(__name__)

INSTALLERS = (
    "bot.transports.telegram",
    "bot.transports.slack",
    "bot.transports.teams",
    "bot.scheduler",
    "bot.summaries",
    "bot.dashboard.web",
)
PRUNE_EVERY = 3600.0  # seconds between prunings of old inbound-delivery claims
KEEP_INBOUND = dt.timedelta(days=2)  # longer than any platform retries a delivery
PLATFORMS = ("telegram", "slack", "teams", "console")  # inbound claims pruned for each
# Threads for blocking database work (`asyncio.to_thread`). asyncio's default is cpu + 4
# (up to 32), each thread with its own malloc arena; 6 is that default on the 2-core machines
# every figure in bench/RESULTS.md was measured on, and more than the 5 pooled connections.
EXECUTOR_THREADS = 6

Task = Callable[[], Coroutine[Any, Any, None]]


INBOUND_PATHS = (("/telegram", "telegram"), ("/slack", "slack"), ("/api/messages", "teams"))


@web.middleware
async def counted(request: web.Request, handler: Any) -> web.StreamResponse:
    """Count each platform's inbound requests by outcome for /metrics (never their content)."""
    platform = next((name for prefix, name in INBOUND_PATHS if request.path.startswith(prefix)), "")
    if not platform:
        return await handler(request)
    from bot import metrics

    try:
        response = await handler(request)
    except web.HTTPException as error:
        metrics.inbound(platform, "refused" if error.status < 500 else "error")
        raise
    except Exception:
        metrics.inbound(platform, "error")
        raise
    status = response.status
    metrics.inbound(platform, "ok" if status < 400 else "refused" if status < 500 else "error")
    return response


@dataclass
class Service:
    """What installers extend: routes, transports, background tasks, start/stop hooks."""

    settings: Settings
    engine: Conversation
    web: web.Application = field(default_factory=lambda: web.Application(middlewares=[counted]))
    transports: dict[str, Transport] = field(default_factory=dict)
    tasks: list[Task] = field(default_factory=list)
    on_start: list[Task] = field(default_factory=list)
    on_stop: list[Task] = field(default_factory=list)
    worker_id: str = INSTANCE  # outbox leases carry it; see storage.db.instance_name
    deliver_outbox: bool = True
    delivery: Delivery | None = None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def now(self) -> dt.datetime:
        return self.engine.clock()


# Installers whose module imports a platform SDK at the top: asked only when configured,
# so that a Slack-only service does not load python-telegram-bot (~0.35 s, ~10 MB). Teams
# loads its SDK only in `install`, but its cards and directory are not needed without it.
CONFIGURED: dict[str, Callable[[Settings], bool]] = {
    "bot.transports.telegram": lambda settings: settings.telegram_token is not None,
    "bot.transports.slack": lambda settings: settings.slack_bot_token is not None,
    "bot.transports.teams": lambda settings: bool(settings.teams_app_id),
}


def install_features(service: Service) -> list[str]:
    """Run every installer module that exists; returns the names installed."""
    installed = []
    for name in INSTALLERS:
        configured = CONFIGURED.get(name)
        if configured is not None and not configured(service.settings):
            continue
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        installer = getattr(module, "install", None)
        if installer is not None and installer(service) is not False:
            installed.append(name.rsplit(".", 1)[-1])
    return installed


KNOWN_PLATFORMS = ("telegram", "slack", "teams")
SERVICE = web.AppKey("service", Service)


async def health(request: web.Request) -> web.Response:
    """Whether the database answers and each configured platform takes our messages.

    503 when the database is down, when a configured platform keeps failing, or when no
    platform is configured at all (such an instance reaches nobody).
    """
    service = request.app[SERVICE]
    try:
        await asyncio.to_thread(_ping, service)
        database = True
    except Exception as error:  # the load balancer only needs to know it is unhealthy
        log.warning("health check failed: %s", type(error).__name__)
        database = False
    platforms: dict[str, dict[str, bool]] = {}
    for name in sorted(set(KNOWN_PLATFORMS) | set(service.transports)):
        configured = name in service.transports
        entry = {"configured": configured}
        if configured:
            entry["healthy"] = service.delivery is None or service.delivery.healthy(name)
        platforms[name] = entry
    running = [p for p, e in platforms.items() if e["configured"]]
    ok = database and bool(running) and all(platforms[p]["healthy"] for p in running)
    body = {
        "ok": ok,
        "database": database,
        "platforms": platforms,
        "transports": sorted(service.transports),
    }
    return web.json_response(body, status=200 if ok else 503)


def _ping(service: Service) -> None:
    service.engine.db.ping()


async def delivery_loop(service: Service) -> None:
    """Send due outbox rows for the transports this process runs, until stopped."""
    service.delivery = Delivery(
        service.engine.db, service.transports, service.worker_id, clock=service.now
    )
    await service.delivery.run(service.stopping)


async def prune_loop(service: Service) -> None:
    """Forget inbound-delivery claims older than any platform retry, for every platform."""
    platforms = sorted(set(PLATFORMS) | set(service.transports))
    while not service.stopping.is_set():
        before = service.now() - KEEP_INBOUND
        try:
            for platform in platforms:
                await asyncio.to_thread(inbound.prune, service.engine.db, platform, before)
        except Exception:
            log.exception("pruning inbound claims failed; trying again later")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(service.stopping.wait(), PRUNE_EVERY)


async def run_service(service: Service, host: str, port: int) -> None:
    """Start everything, run until SIGINT/SIGTERM, stop cleanly."""
    from bot import logging_json

    logging_json.apply(service.settings)  # BEHOLDE_LOG_FORMAT; secrets masked either way
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(EXECUTOR_THREADS, thread_name_prefix="beholde-db")
    )
    service.web[SERVICE] = service
    service.web.router.add_get("/healthz", health)
    from bot import metrics

    metrics.install_route(service.web, service.engine.db, service.now)
    installed = install_features(service)
    if service.deliver_outbox and service.transports:
        service.tasks.append(lambda: delivery_loop(service))
    service.tasks.append(lambda: prune_loop(service))
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
