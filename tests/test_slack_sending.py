"""Sending to Slack: paced per channel and per method, Retry-After honoured, failures explained."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.conversation import Conversation
from bot.outbox import deliver_due
from bot.ports import Address, Choice, OutgoingMessage, SendError
from bot.transports.slack import SlackTransport
from bot.transports.slack_sender import SlackSender, make_client
from storage import outbox
from storage.models import OutboxMessage
from tests.fakes.slack_api import FakeSlack
from tests.slack_harness import person_status, slack_person

QUESTION = OutgoingMessage("Hvor mye?", (Choice("1", "t:1"), Choice("6", "t:6")))


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    api = FakeSlack()
    await api.start()
    fake_users = {"a@x.no": "UA", "b@x.no": "UB"}
    for email, user in fake_users.items():
        api.add_user(email, user)
    yield api
    await api.stop()


def transport_for(
    fake: FakeSlack, engine: Conversation, token: str | None = None, **sender: float
) -> SlackTransport:
    client = make_client(token or fake.token, fake.base_url, max_inline_wait=2, server_backoff=0.05)
    return SlackTransport(SlackSender(client, **sender), engine, "CSTEERING")  # type: ignore[arg-type]


async def test_post_message_is_paced_per_channel_not_globally(
    fake: FakeSlack, engine: Conversation
) -> None:
    transport = transport_for(fake, engine, channel_rate=10.0, channel_burst=2)
    started = time.monotonic()
    for _ in range(5):
        await transport.send(Address("slack", "UA"), QUESTION)
    await transport.send(Address("slack", "UB"), QUESTION)  # another channel: not held back
    elapsed = time.monotonic() - started
    times = [c.at for c in fake.calls if c.method == "chat.postMessage"]
    assert len(times) == 6
    assert times[4] - times[0] >= 3 / 10 - 0.02  # 2 in a burst, then 10/s in channel DUA
    assert times[5] - times[4] < 0.08
    assert elapsed < 3.0  # generous: the machine may be busy
    assert fake.count("conversations.open") == 2  # one per person, then cached


async def test_tier_budget_paces_lookups(fake: FakeSlack, engine: Conversation) -> None:
    # Tier 3 is 50 a minute; scaled to 3 per 0.3 s so the test takes a fraction of a second.
    transport = transport_for(
        fake, engine, tier_per_minute={1: 1, 2: 20, 3: 3, 4: 1200}, tier_period=0.3
    )
    sender = transport.sender
    started = time.monotonic()
    for _ in range(7):
        assert await sender.lookup_email("a@x.no") == "UA"
    times = [c.at for c in fake.calls if c.method == "users.lookupByEmail"]
    assert times[2] - times[0] < 0.1  # a burst of the budget
    assert times[3] - times[0] >= 0.3 - 0.02  # then no more than 3 in any 0.3 s
    assert time.monotonic() - started >= 0.6 - 0.02
    assert await sender.lookup_email("nobody@x.no") is None


async def test_a_long_retry_after_holds_the_method_for_every_caller(
    fake: FakeSlack, engine: Conversation
) -> None:
    transport = transport_for(fake, engine)
    fake.fail("users.lookupByEmail", "ratelimited", retry_after=0.4)
    transport.sender.client.retry_handlers = []  # as if the wait were too long to wait inline
    with pytest.raises(SendError) as error:
        await transport.sender.lookup_email("a@x.no")
    assert error.value.retry_after == pytest.approx(0.4)
    started = time.monotonic()
    assert await transport.sender.lookup_email("a@x.no") == "UA"
    assert time.monotonic() - started >= 0.4  # Slack's wait was kept before asking again


async def test_ratelimited_with_short_retry_after_is_waited_out(
    fake: FakeSlack, engine: Conversation
) -> None:
    transport = transport_for(fake, engine)
    fake.fail("chat.postMessage", "ratelimited", retry_after=1)
    started = time.monotonic()
    message_id = await transport.send(Address("slack", "UA"), QUESTION)
    assert message_id.startswith("DUA:")
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured
    assert fake.count("chat.postMessage") == 2


async def test_ratelimited_with_long_retry_after_goes_back_to_the_outbox(
    fake: FakeSlack, engine: Conversation
) -> None:
    person_id = slack_person(engine, fake, "UA")
    transport = transport_for(fake, engine)
    now = engine.clock()
    with engine.db.transaction() as session:
        outbox.enqueue(
            session,
            dedupe_key="k1",
            platform="slack",
            chat_id="UA",
            kind="pulse",
            payload=QUESTION.to_payload(),
            not_before=now,
            now=now,
            person_id=person_id,
        )
    fake.fail("chat.postMessage", "ratelimited", retry_after=30)
    stats = await deliver_due(engine.db, {"slack": transport}, now, "test")
    assert stats.retried == 1 and stats.sent == 0
    with engine.db.transaction() as session:
        row = session.scalar(select(OutboxMessage))
        assert row is not None
        assert row.status == "pending" and row.last_error == "ratelimited"
        assert (row.not_before - now).total_seconds() == pytest.approx(30, abs=1)
    assert person_status(engine, person_id).unreachable_reason is None
    # A year on, from a new instance: the outbox row, not the pacer's 30 s pause held in this
    # transport's memory (which would make the test sleep 30 s), carries the message.
    again = transport_for(fake, engine)
    later = await deliver_due(engine.db, {"slack": again}, now.replace(year=now.year + 1), "t")
    assert later.sent == 1


async def test_server_errors_are_retried_with_backoff(
    fake: FakeSlack, engine: Conversation
) -> None:
    transport = transport_for(fake, engine)
    fake.fail("chat.postMessage", "server_error", times=2)
    assert (await transport.send(Address("slack", "UA"), QUESTION)).startswith("DUA:")
    assert fake.count("chat.postMessage") == 3
    fake.fail("chat.postMessage", "server_error", times=3)
    with pytest.raises(SendError) as error:
        await transport.send(Address("slack", "UA"), QUESTION)
    assert not error.value.permanent


async def test_invalid_auth_is_not_blamed_on_the_person(
    fake: FakeSlack, engine: Conversation
) -> None:
    person_id = slack_person(engine, fake, "UA")
    transport = transport_for(fake, engine, token="xoxb-wrong")
    with pytest.raises(SendError) as error:
        await transport.send(Address("slack", "UA"), QUESTION)
    assert error.value.reason == "invalid_auth" and not error.value.permanent
    now = engine.clock()
    with engine.db.transaction() as session:
        outbox.enqueue(
            session,
            dedupe_key="k1",
            platform="slack",
            chat_id="UA",
            kind="pulse",
            payload=QUESTION.to_payload(),
            not_before=now,
            now=now,
            person_id=person_id,
        )
    stats = await deliver_due(engine.db, {"slack": transport}, now, "test")
    assert stats.retried == 1
    assert person_status(engine, person_id).unreachable_reason is None


async def test_unknown_user_is_permanent_and_recorded(
    fake: FakeSlack, engine: Conversation
) -> None:
    person_id = slack_person(engine, fake, "UGONE")
    fake.users.clear()  # the account was deactivated
    transport = transport_for(fake, engine)
    now = engine.clock()
    with engine.db.transaction() as session:
        outbox.enqueue(
            session,
            dedupe_key="k1",
            platform="slack",
            chat_id="UGONE",
            kind="pulse",
            payload=QUESTION.to_payload(),
            not_before=now,
            now=now,
            person_id=person_id,
        )
    stats = await deliver_due(engine.db, {"slack": transport}, now, "test")
    assert stats.failed == 1
    with engine.db.transaction() as session:
        row = session.scalar(select(OutboxMessage))
        assert row is not None and row.status == "failed" and row.last_error == "user_not_found"
    assert person_status(engine, person_id).unreachable_reason == "user_not_found"


async def test_invalid_blocks_and_channel_not_found_raise_send_error(
    fake: FakeSlack, engine: Conversation
) -> None:
    transport = transport_for(fake, engine)
    fake.fail("chat.postMessage", "invalid_blocks")
    with pytest.raises(SendError) as error:
        await transport.send(Address("slack", "UA"), QUESTION)
    assert error.value.reason == "invalid_blocks" and not error.value.permanent
    transport.steering_channel = "#nope"
    with pytest.raises(SendError) as error:
        await transport.post_to_channel(OutgoingMessage("Ukens oppsummering"))
    assert error.value.reason == "channel_not_found" and error.value.permanent


async def test_steering_channel_gets_text_and_charts(fake: FakeSlack, engine: Conversation) -> None:
    transport = transport_for(fake, engine)
    assert (await transport.post_to_channel(OutgoingMessage("Runde 3 er avsluttet"))).startswith(
        "CSTEERING:"
    )
    chart = OutgoingMessage("Opplevd mot viktighet", image=b"\x89PNG fake", image_name="r3.png")
    file_ref = await transport.post_to_channel(chart)
    assert file_ref.startswith("CSTEERING:F")
    assert list(fake.files.values()) == [b"\x89PNG fake"]
    complete = fake.of("files.completeUploadExternal")[-1]
    assert complete["channel_id"] == "CSTEERING"
