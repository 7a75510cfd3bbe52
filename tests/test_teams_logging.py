"""What the log says when Teams refuses calls: retried 429s quietly, real failures loudly."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import select

from bot.conversation import Conversation
from bot.transports.teams_sender import SDK_LOGGER, RetryNotices
from storage.models import OutboxMessage
from tests.conftest import FakeClock
from tests.fakes.teams_connector import Fault, personal_conversation
from tests.fakes.teams_harness import running, teams_person


def statuses(engine: Conversation) -> list[str]:
    with engine.db.transaction() as session:
        return list(session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)))


async def test_a_retried_429_is_one_warning_with_counts_not_an_sdk_error_per_call(
    engine: Conversation,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(engine, monkeypatch) as h:
        aad = str(uuid.uuid4())
        teams_person(engine, h.fake, aad)
        engine.open_round()
        h.fake.fail_next(Fault(429, retry_after=0), Fault(429, retry_after=0), Fault(502))
        for _ in range(6):
            await h.deliver()
            if all(s == "sent" for s in statuses(engine)):
                break
            clock.advance(minutes=20)
        assert set(statuses(engine)) == {"sent"}
        assert h.fake.throttled == 2
        await h.bot.sender.close()  # says what it counted since its last WARNING
    conversation = personal_conversation(aad)
    sdk = [r for r in caplog.records if r.name == SDK_LOGGER and r.levelno >= logging.ERROR]
    assert sdk == []  # the SDK's "Error accessing ...: 429" lines are gone
    ours = [r for r in caplog.records if r.name == "bot.transports.teams_sender"]
    warnings = [r for r in ours if r.levelno == logging.WARNING]
    # The first refusal is said at once, the other two (within the minute) at close.
    assert [r.getMessage().split(" (")[1] for r in warnings] == [
        "1 × 429); beholde retries them",
        "1 × 429, 1 × 502); beholde retries them",
    ]
    assert len([r for r in ours if r.levelno == logging.DEBUG]) == 3
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert all(conversation not in r.getMessage() and aad not in r.getMessage() for r in ours)


async def test_a_message_that_fails_for_good_is_still_an_error_without_its_text(
    engine: Conversation, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running(engine, monkeypatch) as h:
        aad = str(uuid.uuid4())
        teams_person(engine, h.fake, aad)
        h.fake.blocked.add(personal_conversation(aad))
        engine.open_round()
        with engine.db.transaction() as session:
            texts = [row.payload["text"] for row in session.scalars(select(OutboxMessage))]
        await h.deliver()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    ours = [r for r in errors if r.name == "bot.outbox"]
    assert ours and all("failed for good" in r.getMessage() for r in ours)
    assert all("403" in r.getMessage() for r in ours)
    # A refusal beholde does not retry still shows in the SDK's own log.
    assert any(r.name == SDK_LOGGER and "403" in r.getMessage() for r in errors)
    for record in errors:
        assert not any(text in record.getMessage() for text in texts)
        assert "Bearer" not in record.getMessage() and "fake-access" not in record.getMessage()


def test_retry_notices_say_it_at_most_once_a_minute() -> None:
    now = [0.0]
    notices = RetryNotices(every=60.0, clock=lambda: now[0])
    said: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno == logging.WARNING:
                said.append(record.getMessage())

    logger = logging.getLogger("bot.transports.teams_sender")
    handler = Collect()
    logger.addHandler(handler)
    try:
        for _ in range(100):  # a fan-out's worth of 429s within 50 s
            notices.refused(429)
            now[0] += 0.5
        now[0] = 70.0
        notices.refused(503)
        notices.flush()  # nothing left to say
    finally:
        logger.removeHandler(handler)
    assert len(said) == 2
    assert "1 × 429" in said[0]
    assert "100 calls in 70 s (99 × 429, 1 × 503)" in said[1]
