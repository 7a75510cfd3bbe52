"""The durable outbox: de-duplicated, leased, retried with backoff, never silently dropped."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import time

import pytest
from sqlalchemy import select

from bot.conversation import Conversation
from bot.outbox import MAX_ATTEMPTS, Delivery, deliver_due
from bot.ports import Address, OutgoingMessage, SendError
from storage import outbox, people
from storage.db import Database
from storage.models import OutboxMessage, Person
from tests.conftest import add_person, wipe
from tests.waiting import eventually


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


# --------------------------------------------------------------------------- the pipeline


class SlowTransport(FlakyTransport):
    """Takes `delay` seconds per send; records when each send finished."""

    concurrency = 4

    def __init__(self, delay: float = 0.0, failures: list[SendError] | None = None) -> None:
        super().__init__(failures)
        self.delay = delay
        self.at: list[float] = []

    async def send(self, address: Address, message: OutgoingMessage) -> str:
        await asyncio.sleep(self.delay)
        result = await super().send(address, message)
        self.at.append(time.monotonic())
        return result


def queue_now(db, key: str, chat: str = "c1") -> None:
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        outbox.enqueue(
            session,
            dedupe_key=key,
            platform="test",
            chat_id=chat,
            kind="test",
            payload=OutgoingMessage(f"hello {key}").to_payload(),
            not_before=now,
            now=now,
        )


async def running(delivery: Delivery) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stopping = asyncio.Event()
    task = asyncio.create_task(delivery.run(stopping))
    await asyncio.sleep(0.3)  # started, nothing due: asleep
    return stopping, task


async def test_a_message_queued_now_goes_out_within_100_ms_though_the_loop_sleeps(db) -> None:
    transport = SlowTransport()
    delivery = Delivery(db, {"test": transport})
    stopping, task = await running(delivery)
    waits: list[float] = []
    try:
        for i in range(5):
            await asyncio.sleep(0.3)  # asleep again
            await asyncio.to_thread(queue_now, db, f"now{i}", f"c{i}")
            committed = time.monotonic()
            while len(transport.sent) <= i and time.monotonic() - committed < 2:
                await asyncio.sleep(0.002)
            waits.append(max(0.0, transport.at[i] - committed))
    finally:
        stopping.set()
        await task
    # From commit to the platform: within 100 ms (the median, so that a loaded test machine's
    # one slow scheduling does not decide), and never anywhere near the idle poll.
    assert sorted(waits)[2] < 0.1 and max(waits) < 0.5, waits


@pytest.mark.postgres
async def test_another_instance_queueing_wakes_delivery_through_notify(pg_url: str) -> None:
    migrated = Database(pg_url)
    migrated.upgrade()
    wipe(migrated)
    transport = SlowTransport()
    delivery = Delivery(migrated, {"test": transport})
    stopping, task = await running(delivery)
    # As if another process queued it: this process's after-commit wake-up is not told.
    listeners = list(outbox._listeners)
    outbox._listeners.clear()
    waits: list[float] = []
    try:
        for i in range(3):
            await asyncio.sleep(0.3)
            await asyncio.to_thread(queue_now, migrated, f"elsewhere{i}", f"c{i}")
            committed = time.monotonic()
            while len(transport.sent) <= i and time.monotonic() - committed < 5:
                await asyncio.sleep(0.002)
            waits.append(max(0.0, transport.at[i] - committed))
        assert sorted(waits)[1] < 0.1 and max(waits) < 0.5, waits  # not the 30 s idle poll
    finally:
        outbox._listeners.extend(listeners)
        stopping.set()
        await task
        wipe(migrated)
        migrated.dispose()


async def test_a_chat_waiting_on_a_retry_does_not_hold_back_other_chats(
    engine: Conversation, clock
) -> None:
    for i in range(6):
        queue(engine, f"m{i}", chat=f"c{i}")
    queue(engine, "m0-later", chat="c0")
    transport = SlowTransport(failures=[SendError("429", retry_after=60)])
    transport.concurrency = 1  # one slot: the failure must not stall it
    stats = await deliver_due(engine.db, {"test": transport}, clock(), "w")
    assert stats.retried == 1 and stats.sent == 5
    assert sorted(chat for chat, _ in transport.sent) == ["c1", "c2", "c3", "c4", "c5"]
    by_key = {r.dedupe_key: r for r in rows(engine)}
    # c0's later message waits for c0's retry: its order is kept.
    assert by_key["m0"].status == by_key["m0-later"].status == "pending"
    assert by_key["m0-later"].not_before >= by_key["m0"].not_before
    clock.advance(seconds=61)
    await deliver_due(engine.db, {"test": transport}, clock(), "w")
    assert [text for chat, text in transport.sent if chat == "c0"] == ["hello m0", "hello m0-later"]


async def test_each_send_is_marked_at_once_not_at_the_end_of_a_batch(db) -> None:
    for i in range(5):
        queue_now(db, f"b{i}", chat="same")  # one chat: strictly one after another
    marked: list[int] = []
    transport = SlowTransport(delay=0.05)

    async def send(address: Address, message: OutgoingMessage) -> str:
        with db.transaction() as session:  # before this send: how many are marked already
            marked.append(outbox.counts(session).get("sent", 0))
        return await SlowTransport.send(transport, address, message)

    transport.send = send  # type: ignore[method-assign]
    await deliver_due(db, {"test": transport}, dt.datetime.now(dt.UTC), "w")
    assert marked == [0, 1, 2, 3, 4]


async def test_leases_are_renewed_while_a_slow_send_runs(db, monkeypatch) -> None:
    import bot.outbox as delivery_module

    monkeypatch.setattr(delivery_module, "LEASE", dt.timedelta(seconds=0.4))
    monkeypatch.setattr(delivery_module, "RENEW_EVERY", 0.1)
    queue_now(db, "slow")
    transport = SlowTransport(delay=1.2)
    delivery = Delivery(db, {"test": transport}, worker="beholde:h:1:aaaaaa")
    stopping, task = await running(delivery)
    try:
        for _ in range(5):  # well past the first lease: nobody else may take it
            await asyncio.sleep(0.15)
            with db.transaction() as session:
                taken = outbox.claim_due(
                    session, dt.datetime.now(dt.UTC), "other", dt.timedelta(seconds=60)
                )
            assert taken == []
    finally:
        await eventually(lambda: transport.sent, what="the slow send")  # was unbounded
        stopping.set()
        await task
    assert len(transport.sent) == 1


def claimed_by(db, worker: str, n: int = 2) -> None:
    for i in range(n):
        queue_now(db, f"{worker}:{i}", chat=f"{worker}:{i}")
    with db.transaction() as session:
        outbox.claim_due(session, dt.datetime.now(dt.UTC), worker, dt.timedelta(minutes=5))


async def test_leases_of_an_instance_that_is_gone_are_taken_back_at_start(db) -> None:
    if db.is_sqlite:
        dead = "beholde:" + socket.gethostname()[:32] + ":4194304999:abcdef"  # no such pid
        live = "beholde:" + socket.gethostname()[:32] + f":{os.getppid()}:abcdef"
        conn = None
    else:
        import psycopg
        from sqlalchemy.engine import make_url

        dead, live = "beholde:gone:1:abcdef", "beholde:alive:2:abcdef"
        url = make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)
        conn = psycopg.connect(url, application_name=live)
    try:
        claimed_by(db, dead)
        claimed_by(db, live)
        claimed_by(db, "cli")  # not a service instance: its lease runs out on its own
        transport = SlowTransport()
        stopping, task = await running(Delivery(db, {"test": transport}))
        stopping.set()
        await task
        assert sorted(chat for chat, _ in transport.sent) == [f"{dead}:0", f"{dead}:1"]
    finally:
        if conn is not None:
            conn.close()


class SlowClaim(Delivery):
    """A claim that takes a while (a busy database): chats may finish while it runs."""

    def _claim(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        rows = super()._claim(*args, **kwargs)
        time.sleep(0.1)  # the database's slowness, not a wait for the test
        return rows


async def test_a_pass_does_not_stop_when_a_chat_frees_up_during_a_claim(
    engine: Conversation, clock
) -> None:
    """c2's second message must go in the same pass, though c2 was busy when the last claim
    looked and finished before it returned (a race once seen as 4 of 6 greetings sent)."""
    queue(engine, "x1", chat="c1")
    queue(engine, "y1", chat="c2")
    queue(engine, "y2", chat="c2")
    transport = FlakyTransport()  # concurrency 1: claims of two rows, one send at a time
    stats = await SlowClaim(engine.db, {"test": transport}, "w", clock=clock).drain(clock())
    assert stats.sent == 3
    assert [text for chat, text in transport.sent if chat == "c2"] == ["hello y1", "hello y2"]


def test_a_renewal_on_its_way_does_not_lease_again_a_row_whose_failure_was_recorded(
    engine: Conversation, clock
) -> None:
    queue(engine, "a")
    lease = dt.timedelta(seconds=60)
    with engine.db.transaction() as session:
        (row,) = outbox.claim_due(session, clock(), "w1", lease)
        row_id = row.id
    with engine.db.transaction() as session:  # a 429: due again in a second
        retry_at = clock() + dt.timedelta(seconds=1)
        outbox.mark_failed(session, row_id, "429", final=False, retry_at=retry_at)
    with engine.db.transaction() as session:  # the renewal's snapshot still held it
        assert outbox.renew(session, [row_id], "w1", clock() + lease) == 0
    with engine.db.transaction() as session:
        again = outbox.claim_due(session, retry_at, "w1", lease)
        assert [r.id for r in again] == [row_id]


async def test_a_row_whose_lease_runs_out_is_sent_though_nothing_else_changes(db) -> None:
    queue_now(db, "orphan")
    with db.transaction() as session:  # a `beholde deliver` that stopped mid-send
        claimed = outbox.claim_due(
            session, dt.datetime.now(dt.UTC), "cli", dt.timedelta(seconds=0.8)
        )
        assert len(claimed) == 1
    transport = FlakyTransport()
    delivery = Delivery(db, {"test": transport}, worker="beholde:h:1:cccccc")
    stopping, task = await running(delivery)
    try:
        assert transport.sent == []  # leased: not yet
        # The lapse writes nothing, so only knowing when the lease ends wakes the loop.
        await eventually(lambda: transport.sent, timeout=3.0, what="the orphaned row")
    finally:
        stopping.set()
        await task
    assert transport.sent == [("c1", "hello orphan")]
