"""The durable outbox: de-duplicated, leased, retried with backoff, never silently dropped."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.conversation import Conversation
from bot.outbox import MAX_ATTEMPTS, deliver_due
from bot.ports import Address, OutgoingMessage, SendError
from storage import outbox, people
from storage.models import OutboxMessage, Person
from tests.conftest import add_person


class FlakyTransport:
    """A transport that fails as told, then succeeds; records what it delivered."""

    platform = "test"

    def __init__(self, failures: list[SendError] | None = None) -> None:
        self.failures = list(failures or [])
        self.sent: list[tuple[str, str]] = []

    async def send(self, address: Address, message: OutgoingMessage) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((address.chat_id, message.text))
        return f"m{len(self.sent)}"

    async def post_to_channel(self, message: OutgoingMessage) -> str:
        return await self.send(Address(self.platform, "steering"), message)


def queue(
    engine: Conversation, key: str, chat: str = "c1", person_id: int | None = None, **kw
) -> bool:
    now = engine.clock()
    with engine.db.transaction() as session:
        return outbox.enqueue(
            session,
            dedupe_key=key,
            platform="test",
            chat_id=chat,
            kind="test",
            payload=OutgoingMessage(f"hello {key}").to_payload(),
            not_before=now,
            now=now,
            person_id=person_id,
            **kw,
        )


def rows(engine: Conversation) -> list[OutboxMessage]:
    with engine.db.transaction() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_the_same_message_is_queued_once(engine: Conversation) -> None:
    assert queue(engine, "reminder:1") is True
    assert queue(engine, "reminder:1") is False
    assert len(rows(engine)) == 1


def test_a_claimed_row_is_not_claimed_again_until_its_lease_runs_out(
    engine: Conversation, clock
) -> None:
    queue(engine, "a")
    lease = dt.timedelta(seconds=60)
    with engine.db.transaction() as session:
        assert len(outbox.claim_due(session, clock(), "w1", lease)) == 1
    with engine.db.transaction() as session:
        assert outbox.claim_due(session, clock(), "w2", lease) == []
    with engine.db.transaction() as session:
        again = outbox.claim_due(session, clock() + dt.timedelta(seconds=61), "w2", lease)
        assert [(r.claimed_by, r.attempts) for r in again] == [("w2", 2)]


async def test_delivery_marks_sent_only_after_the_platform_said_ok(
    engine: Conversation, clock
) -> None:
    for i in range(3):
        queue(engine, f"m{i}", chat=f"c{i}")
    transport = FlakyTransport()
    stats = await deliver_due(engine.db, {"test": transport}, clock(), "w")
    assert stats.sent == 3 and len(transport.sent) == 3
    assert [r.status for r in rows(engine)] == ["sent"] * 3
    assert [r.platform_message_id for r in rows(engine)] == ["m1", "m2", "m3"]
    assert (await deliver_due(engine.db, {"test": transport}, clock(), "w")).handled == 0


async def test_rate_limits_are_honoured_and_nothing_is_lost(engine: Conversation, clock) -> None:
    queue(engine, "x")
    transport = FlakyTransport([SendError("429 Too Many Requests", retry_after=30)])
    stats = await deliver_due(engine.db, {"test": transport}, clock(), "w")
    assert stats.retried == 1 and transport.sent == []
    (row,) = rows(engine)
    assert row.status == "pending" and row.last_error == "429 Too Many Requests"
    assert row.not_before == clock() + dt.timedelta(seconds=30)
    clock.advance(seconds=29)
    assert (await deliver_due(engine.db, {"test": transport}, clock(), "w")).handled == 0
    clock.advance(seconds=1)
    assert (await deliver_due(engine.db, {"test": transport}, clock(), "w")).sent == 1
    assert transport.sent == [("c1", "hello x")]


async def test_a_message_that_keeps_failing_is_recorded_with_its_reason(
    engine: Conversation, clock
) -> None:
    queue(engine, "y")
    transport = FlakyTransport([SendError("502 Bad Gateway")] * MAX_ATTEMPTS)
    for _ in range(MAX_ATTEMPTS):
        await deliver_due(engine.db, {"test": transport}, clock(), "w")
        clock.advance(hours=1)
    (row,) = rows(engine)
    assert (
        row.status == "failed"
        and row.attempts == MAX_ATTEMPTS
        and row.last_error == "502 Bad Gateway"
    )
    assert transport.sent == []


async def test_a_blocked_person_is_marked_unreachable_and_not_invited_again(
    engine: Conversation, clock
) -> None:
    pid, address = add_person(engine, "Blocked")
    queue(engine, "z", chat=address.chat_id, person_id=pid)
    transport = FlakyTransport(
        [SendError("Forbidden: bot was blocked by the user", permanent=True)]
    )
    assert (await deliver_due(engine.db, {"test": transport}, clock(), "w")).failed == 1
    with engine.db.transaction() as session:
        assert (
            session.get(Person, pid).unreachable_reason == "Forbidden: bot was blocked by the user"
        )
        assert people.reachable_people(session) == []


async def test_expired_messages_are_dropped_not_sent_late(engine: Conversation, clock) -> None:
    queue(engine, "late", expires_at=clock() - dt.timedelta(minutes=1))
    transport = FlakyTransport()
    await deliver_due(engine.db, {"test": transport}, clock(), "w")
    assert transport.sent == [] and rows(engine)[0].status == "dropped"


def test_naive_datetimes_are_refused(engine: Conversation) -> None:
    with pytest.raises(Exception, match="naive datetime"), engine.db.transaction() as session:
        outbox.enqueue(
            session,
            dedupe_key="n",
            platform="t",
            chat_id="c",
            kind="k",
            payload={},
            not_before=dt.datetime(2027, 1, 1),
            now=engine.clock(),
        )


async def test_a_retried_reminder_waits_for_the_persons_hours_not_the_night(
    engine: Conversation, clock
) -> None:
    from tests.conftest import OSLO

    clock.now = dt.datetime(2027, 3, 1, 19, 30, tzinfo=OSLO).astimezone(dt.UTC)
    payload = OutgoingMessage("Påminnelse").to_payload() | {
        "window": "08:00-20:00",
        "tz": "Europe/Oslo",
    }
    with engine.db.transaction() as session:
        outbox.enqueue(
            session,
            dedupe_key="r",
            platform="test",
            chat_id="c",
            kind="reminder",
            payload=payload,
            not_before=clock(),
            now=clock(),
        )
    transport = FlakyTransport([SendError("429 Too Many Requests", retry_after=3600)])
    await deliver_due(engine.db, {"test": transport}, clock(), "w")
    (row,) = rows(engine)
    assert row.status == "pending"
    assert row.not_before.astimezone(OSLO) == dt.datetime(2027, 3, 2, 8, 0, tzinfo=OSLO)
