"""Teams sending through beholde's outbox: faults, removal, the steering post, pacing."""

from __future__ import annotations

import asyncio
import base64
import uuid

import pytest
from sqlalchemy import select

from bot import pacing, summaries
from bot.conversation import Conversation
from bot.pacing import Pacer
from bot.ports import Command
from bot.transports.teams_cards import card_text
from storage.models import OutboxMessage, Person
from tests.conftest import FakeClock, add_person
from tests.fakes.teams_connector import STEERING, Fault, activity, personal_conversation
from tests.fakes.teams_harness import running, teams_person
from tests.pulse_helpers import answer_all


def rows(engine: Conversation) -> list[OutboxMessage]:
    with engine.db.transaction() as session:
        found = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return found


def person(engine: Conversation, person_id: int) -> Person:
    with engine.db.transaction() as session:
        found = session.get(Person, person_id)
        assert found is not None
        session.expunge(found)
        return found


async def test_429_storms_5xx_and_dropped_connections_lose_nothing_and_send_nothing_twice(
    engine: Conversation, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(engine, monkeypatch) as h:
        users = [str(uuid.uuid4()) for _ in range(6)]
        for aad in users:
            teams_person(engine, h.fake, aad)
        engine.open_round()
        queued = rows(engine)
        assert len(queued) >= 12  # intro and first question for each
        h.fake.fail_next(
            *[Fault(429, retry_after=0) for _ in range(6)],
            Fault(502),
            Fault(504),
            Fault(412),
            Fault(503),
            Fault(None),  # the connection is dropped without an answer
            Fault(None),
        )
        for _ in range(20):
            await h.deliver()
            if all(r.status == "sent" for r in rows(engine)):
                break
            clock.advance(minutes=20)
        assert [r.status for r in rows(engine)] == ["sent"] * len(queued)
        assert h.fake.throttled == 6 and h.fake.dropped == 2
        for aad in users:
            texts = [card_text(a) for a in h.sent(aad)]
            expected = [r for r in queued if r.chat_id == aad]
            assert len(texts) == len(expected)  # each message exactly once ...
            assert texts == [r.payload["text"] for r in expected]  # ... and in order


async def test_removing_the_app_or_a_403_marks_the_person_unreachable_until_they_write(
    engine: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(engine, monkeypatch) as h:
        removed, blocked = str(uuid.uuid4()), str(uuid.uuid4())
        removed_id = teams_person(engine, h.fake, removed)
        blocked_id = teams_person(engine, h.fake, blocked)
        await h.post(activity(h.fake, removed, "installationUpdate", action="remove"))
        assert person(engine, removed_id).unreachable_reason == "teams: the app was removed"
        h.fake.blocked.add(personal_conversation(blocked))
        engine.open_round()
        stats = await h.deliver()
        assert stats.failed >= 1
        assert "403" in (person(engine, blocked_id).unreachable_reason or "")
        assert h.sent(removed) == []  # not asked while the app is removed
        # Writing again makes both reachable.
        h.fake.blocked.clear()
        assert await h.say(removed, "/puls") == 202
        assert await h.say(blocked, "puls") == 202
        assert person(engine, removed_id).unreachable_reason is None
        assert person(engine, blocked_id).unreachable_reason is None
        assert h.sent(removed) and h.sent(blocked)


async def test_the_steering_summary_is_posted_with_its_chart_inline(
    engine: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(engine, monkeypatch) as h:
        assert summaries.install(h.service) is True
        engine.open_round()
        for i in range(6):
            _, address = add_person(engine, f"Ansatt {i}")
            reply = engine.handle(Command(address, "puls"))
            answer_all(engine, address, reply.messages)
        engine.close_round()
        stats = await h.deliver()
        assert stats.failed == 0
        posted = h.fake.sent(STEERING)
        assert len(posted) == 2
        chart, text = posted
        attachment = chart["attachments"][0]
        assert attachment["contentType"] == "image/png"
        png = base64.b64decode(attachment["contentUrl"].removeprefix("data:image/png;base64,"))
        assert png.startswith(b"\x89PNG")
        assert chart["text"] and chart["textFormat"] == "plain"
        assert text["textFormat"] == "plain" and text["text"]


async def test_the_pacer_keeps_teams_limits_per_conversation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [0.0]
    pacer = Pacer(per_chat=[(7, 1.0), (8, 2.0)], global_=[(50, 1.0)], clock=lambda: now[0])
    starts: list[float] = []

    async def sleep_until_free() -> None:
        for _ in range(20):
            async with pacer.slot("a:1"):
                starts.append(now[0])

    real_sleep = asyncio.sleep

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds
        await real_sleep(0)

    monkeypatch.setattr(pacing.asyncio, "sleep", fake_sleep)
    await sleep_until_free()
    monkeypatch.undo()
    for i, start in enumerate(starts):
        in_one = [s for s in starts if start <= s < start + 1.0]
        in_two = [s for s in starts if start <= s < start + 2.0]
        assert len(in_one) <= 7 and len(in_two) <= 8, i
    assert starts[-1] >= 4.0  # 20 sends at 8 per 2 s need at least two more windows
