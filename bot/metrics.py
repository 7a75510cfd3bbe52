"""`/metrics` in Prometheus text format: how the outbox, the platforms and the schedule do.

Counters and histograms are updated where things happen: the outbox counts sends by
platform and outcome, 429s and how late reminders went out; the HTTP middleware (bot/serve.py)
and, for Telegram's long polling, `count_polled_updates` count inbound requests; the one
inbound path is timed by `timed_answer`. Outbox depth, the age of
the oldest due message and the open rounds are read from the database when scraped, so
every instance reports the same truth. No label ever carries a person, a chat or an answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.ports import ChoicePressed, TextReceived
from storage import answers, outbox
from storage.db import Database

REGISTRY = CollectorRegistry(auto_describe=True)

SENDS = Counter(
    "beholde_sends",
    "Outbox sends by platform and outcome",
    ["platform", "outcome"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "beholde_rate_limited", "Sends refused with 429 (retry later)", ["platform"], registry=REGISTRY
)
INBOUND = Counter(
    "beholde_inbound_requests",
    "Inbound platform requests by outcome",
    ["platform", "outcome"],
    registry=REGISTRY,
)
ANSWER_SECONDS = Histogram(
    "beholde_answer_seconds",
    "Time to handle one answer (a button press or a reply)",
    ["platform"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
REMINDER_LATENESS = Histogram(
    "beholde_reminder_lateness_seconds",
    "Reminder sent after its planned moment",
    registry=REGISTRY,
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)


def inbound(platform: str, outcome: str) -> None:
    """Count one inbound request (outcome: ok, refused, error)."""
    INBOUND.labels(platform, outcome).inc()


R = TypeVar("R")


def timed_answer(receive: Callable[..., R]) -> Callable[..., R]:
    """Time the one inbound path (`bot.inbound.receive`) for presses and typed replies, by
    platform: claim, engine and commit, as the person waits for them. Commands are not
    answers and are not timed."""

    @functools.wraps(receive)
    def timed(engine: Any, platform: str, delivery_key: str, event: Any) -> R:
        started = time.perf_counter()
        try:
            return receive(engine, platform, delivery_key, event)
        finally:
            if isinstance(event, ChoicePressed | TextReceived):
                ANSWER_SECONDS.labels(platform).observe(time.perf_counter() - started)

    return timed


def count_polled_updates(application: Any, platform: str = "telegram") -> None:
    """Count Telegram updates that arrive by long polling in the inbound requests, as the
    HTTP middleware counts webhook calls (a handler in a group of its own runs first and
    lets the update go on to the bot's handlers)."""
    from telegram import Update
    from telegram.ext import TypeHandler

    async def seen(_update: Update, _context: Any) -> None:
        inbound(platform, "ok")

    application.add_handler(TypeHandler(Update, seen), group=-1)


class DatabaseCollector(Collector):
    """Outbox depth, age of the oldest due row and open rounds, read at scrape time."""

    def __init__(self, db: Database, clock: Callable[[], dt.datetime]) -> None:
        self.db = db
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self.clock()
        with self.db.reading() as session:
            depth = outbox.pending_by_platform(session)
            oldest = outbox.oldest_due_by_platform(session, now)
            rounds = answers.open_round_count(session)
        gauge = GaugeMetricFamily(
            "beholde_outbox_pending", "Outbox messages not yet sent", labels=["platform"]
        )
        for platform, n in sorted(depth.items()):
            gauge.add_metric([platform], n)
        yield gauge
        age = GaugeMetricFamily(
            "beholde_outbox_oldest_due_seconds",
            "Age of the oldest due message",
            labels=["platform"],
        )
        for platform, moment in sorted(oldest.items()):
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
            age.add_metric([platform], max(0.0, (now - moment).total_seconds()))
        yield age
        yield GaugeMetricFamily("beholde_rounds_open", "Pulse rounds open", value=rounds or 0)


def install_route(app: web.Application, db: Database, clock: Callable[[], dt.datetime]) -> None:
    """Add `/metrics` to the service's HTTP server (keep it off the public proxy)."""
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(db, clock))

    async def metrics(_request: web.Request) -> web.Response:
        def render() -> bytes:
            return generate_latest(REGISTRY) + generate_latest(registry)

        body = await asyncio.to_thread(render)
        return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4"})

    app.router.add_get("/metrics", metrics)


def observe_send(row: Any, outcome: str, now: dt.datetime, retry_after: float | None) -> None:
    """What the outbox reports about one send."""
    SENDS.labels(row.platform, outcome).inc()
    if retry_after is not None:
        RATE_LIMITED.labels(row.platform).inc()
    if outcome == "sent" and row.kind == "reminder" and row.not_before is not None:
        REMINDER_LATENESS.observe(max(0.0, (now - row.not_before).total_seconds()))
