"""Sending to Telegram: limits, retries, 429 storms, blocked people, the outbox.

The transport's real PTB Bot talks HTTP to the fake Bot API; nothing in PTB is mocked.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import assemble
from bot.conversation import Conversation
from bot.outbox import deliver_due
from bot.pacing import Pacer
from bot.ports import Address, Choice, OutgoingMessage, SendError
from bot.transports.telegram import TelegramBot, keyboard, split_text
from storage import people
from storage.db import Database
from storage.models import OutboxMessage, Person
from tests.conftest import FakeClock
from tests.fakes.telegram_api import FakeTelegram
from tests.telegram_support import fast_sender, roundtrip, start_bot


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(fake: FakeTelegram, engine) -> AsyncIterator[TelegramBot]:
    running = await start_bot(fake, engine)
    yield running
    await running.stop()


@pytest.fixture
def no_db_engine(survey) -> Conversation:
    """For tests that only send: the engine is never asked, so no database is needed."""
    return assemble(Database("sqlite://"), survey)


def on_telegram(engine, name: str, chat: str) -> int:
    now = engine.clock()
    with engine.db.transaction() as session:
        person = people.create_person(
            session, name, now, municipality="bodo", profession="sykepleier"
        )
        person.onboarded_at = now
        people.bind_address(session, person, "telegram", chat, now)
        return person.id


async def deliver_all(engine, bot: TelegramBot, clock: FakeClock, rounds: int = 20) -> None:
    """Run the outbox until nothing is pending (moving the fake clock past retry times)."""
    for _ in range(rounds):
        await deliver_due(engine.db, {"telegram": bot.transport}, clock(), "test")
        with engine.db.transaction() as session:
            pending = session.scalars(
                select(OutboxMessage).where(OutboxMessage.status == "pending")
            ).all()
        if not pending:
            return
        clock.advance(minutes=30)
    raise AssertionError("the outbox did not drain")


# --------------------------------------------------------------------------- pure pieces


def test_numeric_scales_fit_a_phone_and_skip_gets_its_own_row():
    one_to_six = [Choice(str(i), f"tok:{i}") for i in range(1, 7)]
    rows = keyboard(one_to_six).inline_keyboard
    assert [len(r) for r in rows] == [6]
    zero_to_ten = [Choice(str(i), f"tok:{i}") for i in range(11)]
    assert [len(r) for r in keyboard(zero_to_ten).inline_keyboard] == [6, 5]
    with_skip = [Choice("Ja", "t:yes"), Choice("Nei", "t:no"), Choice("Hopp over", "t:skip")]
    assert [[b.text for b in r] for r in keyboard(with_skip).inline_keyboard] == [
        ["Ja", "Nei"],
        ["Hopp over"],
    ]
    long = [Choice("Sykepleier med videreutdanning", f"t:{i}") for i in range(4)]
    assert [len(r) for r in keyboard(long).inline_keyboard] == [1, 1, 1, 1]
    assert keyboard([]) is None
    with pytest.raises(SendError):
        keyboard([Choice("x", "a" * 65)])


def test_long_text_is_split_within_telegrams_limit():
    text = "\n".join(f"Linje {i} " + "æ" * 50 for i in range(200))
    pieces = split_text(text)
    assert len(pieces) > 1
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in pieces)
    assert "".join(pieces) == text
    emoji = "🙂" * 3000  # two UTF-16 units each
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in split_text(emoji))


async def test_pacer_keeps_to_30_a_second_and_one_a_second_per_chat(monkeypatch):
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    monkeypatch.setattr("bot.pacing.asyncio.sleep", fake_sleep)
    pacer = Pacer(
        per_chat=lambda chat: [(20, 60.0)] if chat.startswith("-") else [(3, 3.0)],
        global_=[(30, 1.0)],
        clock=lambda: now[0],
    )
    taken: list[float] = []
    for i in range(90):
        async with pacer.slot(str(i)):
            taken.append(now[0])
    for start in taken:  # any 1 s window holds at most 30
        assert sum(1 for t in taken if start <= t < start + 1.0) <= 30
    assert taken[-1] >= 2.0
    now[0] += 10
    chat: list[float] = []
    for _ in range(6):
        async with pacer.slot("42"):
            chat.append(now[0])
    assert chat[2] - chat[0] < 0.01  # a short burst of three is fine
    assert chat[5] - chat[2] >= 2.9  # then one a second
    waited = pacer.back_off("42", 5)
    assert 5 <= waited <= 5.5  # Retry-After, with a little jitter
    start = now[0]
    async with pacer.slot("42"):
        assert now[0] - start >= 5
    now[0] += 100
    group: list[float] = []
    for _ in range(21):
        async with pacer.slot("-100777"):
            group.append(now[0])
    assert group[19] - group[0] < 0.01 and group[20] - group[0] >= 60 - 1e-6  # 20 a minute


async def test_a_refused_call_gives_its_place_back_and_a_slow_answer_counts_late(monkeypatch):
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    monkeypatch.setattr("bot.pacing.asyncio.sleep", fake_sleep)
    pacer = Pacer(global_=[(2, 1.0)], clock=lambda: now[0])
    async with pacer.slot("a") as slot:
        slot.refund()  # Telegram answered 429: it did not count this call
    async with pacer.slot("a"):
        now[0] += 0.5  # the answer took half a second
    async with pacer.slot("b"):
        pass
    assert now[0] == 0.5  # two places, the refunded one came back
    async with pacer.slot("c"):
        pass
    # The slow call is counted from when it came back (0.5), so the third waits until 1.5.
    assert now[0] == pytest.approx(1.5)


# --------------------------------------------------------------------------- over HTTP


async def test_429_storm_is_retried_and_nothing_is_lost_or_doubled(fake, no_db_engine):
    engine = no_db_engine
    fake.p429 = 0.3
    fake.p5xx = 0.1
    bot = await start_bot(fake, engine, sender=fast_sender(attempts=12))
    try:
        texts = [f"melding {i}" for i in range(40)]
        ids = await asyncio.gather(
            *(
                bot.transport.send(Address("telegram", str(100 + i % 20)), OutgoingMessage(t))
                for i, t in enumerate(texts)
            )
        )
    finally:
        await bot.stop()
    delivered = Counter(c.params["text"] for c in fake.ok_calls("sendMessage"))
    assert delivered == Counter(texts)  # every message exactly once
    assert len(set(ids)) == 40
    statuses = Counter(c.status for c in fake.calls if c.method == "sendMessage")
    assert statuses[429] > 0 and statuses[502] > 0


async def test_the_limiter_prevents_429s_that_a_faster_sender_provokes(fake, no_db_engine):
    engine = no_db_engine
    bot = await start_bot(fake, engine)
    try:
        started = time.monotonic()
        await asyncio.gather(
            *(
                bot.transport.send(Address("telegram", str(i)), OutgoingMessage("x"))
                for i in range(45)
            )
        )
        elapsed = time.monotonic() - started
    finally:
        await bot.stop()
    assert elapsed >= 1.0
    assert not [c for c in fake.calls if c.status == 429]

    eager = FakeTelegram(per_second=10)  # a low cap, so that even a slow machine exceeds it
    await eager.start()
    sender = fast_sender(per_second=200, attempts=8)
    hasty = await start_bot(eager, engine, sender=sender)
    try:
        await asyncio.gather(
            *(
                hasty.transport.send(Address("telegram", str(i)), OutgoingMessage(f"{i}"))
                for i in range(45)
            )
        )
    finally:
        await hasty.stop()
        await eager.stop()
    assert [c for c in eager.calls if c.status == 429]  # the fake enforces the limit ...
    assert len(eager.ok_calls("sendMessage")) == 45  # ... and retry_after was honoured


async def test_blocked_person_is_marked_unreachable_and_not_sent_to_again(fake, engine, bot, clock):
    blocked = on_telegram(engine, "Kari", "7001")
    other = on_telegram(engine, "Ola", "7002")
    fake.blocked.add("7001")
    engine.open_round()
    await deliver_all(engine, bot, clock)
    with engine.db.transaction() as session:
        kari = session.get(Person, blocked)
        assert kari is not None and "blocked" in (kari.unreachable_reason or "")
        assert session.get(Person, other).unreachable_reason is None
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == "7001")).all()
        assert rows and all(r.status == "failed" for r in rows)
        assert all("blocked" in (r.last_error or "") for r in rows)
    assert len([c for c in fake.calls if c.chat_id == "7001"]) == 1  # asked once, then stopped
    assert len(fake.ok_calls("sendMessage", "7002")) >= 2

    engine.close_round()
    engine.open_round()
    await deliver_all(engine, bot, clock)
    assert len([c for c in fake.calls if c.chat_id == "7001"]) == 1

    # Kari unblocks the bot and writes to it: she is reachable again.
    fake.blocked.discard("7001")
    await roundtrip(bot, lambda: fake.say("7001", "/hjelp"))
    assert fake.ok_calls("sendMessage", "7001")
    with engine.db.transaction() as session:
        assert session.get(Person, blocked).unreachable_reason is None


async def test_a_send_that_keeps_failing_is_rescheduled_then_recorded(fake, engine, clock):
    on_telegram(engine, "Kari", "7101")
    bot = await start_bot(fake, engine, sender=fast_sender(attempts=2))
    try:
        fake.fail_next.extend([("sendMessage", 429), ("sendMessage", 429)])
        engine.open_round()
        await deliver_due(engine.db, {"telegram": bot.transport}, clock(), "test")
        with engine.db.transaction() as session:
            first = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
            assert first.status == "pending" and "retry after" in (first.last_error or "")
            assert first.not_before > clock()
        await deliver_all(engine, bot, clock)
        with engine.db.transaction() as session:
            statuses = session.scalars(select(OutboxMessage.status)).all()
            assert set(statuses) == {"sent"}

        fake.fail_next.extend([("sendMessage", 502)] * 100)
        with engine.db.transaction() as session:
            person = people.by_address(session, "telegram", "7101")
            engine.queue(session, person, [OutgoingMessage("hei")], "manual", clock())
        await deliver_all(engine, bot, clock, rounds=12)
    finally:
        await bot.stop()
    with engine.db.transaction() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like("manual:%"))
        ).one()
        assert row.status == "failed" and "Bad Gateway" in (row.last_error or "")
        assert session.scalars(select(Person)).one().unreachable_reason is None


async def test_a_failed_message_is_not_overtaken_by_the_next_one_to_the_same_chat(
    fake, engine, clock
):
    on_telegram(engine, "Kari", "7201")
    on_telegram(engine, "Ola", "7202")
    bot = await start_bot(fake, engine, sender=fast_sender(attempts=1))
    try:
        engine.open_round()  # an intro and the first question for each
        fake.fail_next.append(("sendMessage", 502))
        stats = await deliver_due(engine.db, {"telegram": bot.transport}, clock(), "test")
        assert stats.retried == 1
        failed_chat = next(c.chat_id for c in fake.calls if c.status == 502)
        assert not fake.ok_calls("sendMessage", failed_chat)  # the question waited
        await deliver_all(engine, bot, clock)
    finally:
        await bot.stop()
    for chat in ("7201", "7202"):
        texts = [m["text"] for m in fake.chat(chat)]
        assert len(texts) == 2 and texts[0].startswith("Ny puls")


async def test_a_call_still_in_flight_keeps_its_place_however_long_it_takes(monkeypatch):
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    monkeypatch.setattr("bot.pacing.asyncio.sleep", fake_sleep)
    pacer = Pacer(global_=[(1, 1.0)], clock=lambda: now[0])
    slow = await pacer.acquire("a")
    now[0] += 5  # the call has been under way for five seconds, longer than the window
    assert pacer.delay("b") > 0  # it still counts: the platform may count it any moment
    pacer.release(slow)  # it came back at 5.0
    assert pacer.delay("b") == pytest.approx(1.0)
    now[0] += 1.0
    assert pacer.delay("b") == 0
