"""Rostered people are found on Slack by e-mail, greeted once, and asked once per round."""

from __future__ import annotations

from sqlalchemy import select

from bot.conversation import Conversation
from bot.outbox import deliver_due
from bot.slack_roster import sync_slack_roster
from bot.transports.slack import SlackTransport
from bot.transports.slack_sender import SlackSender, make_client
from storage import people
from storage.models import OutboxMessage
from tests.fakes.slack_api import FakeSlack
from tests.slack_harness import fake as fake  # the fixture


def sender_for(fake: FakeSlack, token: str | None = None) -> SlackSender:
    return SlackSender(make_client(token or fake.token, fake.base_url))


def roster(engine: Conversation) -> dict[str, int]:
    now = engine.clock()
    ids = {}
    with engine.db.transaction() as session:
        for name, email in [
            ("Ingrid Hansen", "ingrid@bodo.kommune.no"),
            ("Ola Nilsen", "OLA@fauske.kommune.no"),
            ("Kari Berg", "kari@saltdal.kommune.no"),
            ("Per Uten Epost", None),
        ]:
            person = people.create_person(session, name, now, email=email)
            ids[name] = person.id
    return ids


def outbox_rows(engine: Conversation) -> list[OutboxMessage]:
    with engine.db.transaction() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return rows


async def test_sync_matches_by_email_and_greets_through_the_outbox(
    fake: FakeSlack, engine: Conversation
) -> None:
    ids = roster(engine)
    fake.add_user("ingrid@bodo.kommune.no", "UINGRID")
    fake.add_user("ola@fauske.kommune.no", "UOLA")
    result = await sync_slack_roster(engine, sender_for(fake))
    assert (result.matched, result.greeted) == (2, 2)
    assert result.not_found == ["Kari Berg"]
    assert fake.count("users.lookupByEmail") == 3  # never for someone without an e-mail
    rows = outbox_rows(engine)
    assert {(r.platform, r.chat_id) for r in rows} == {("slack", "UINGRID"), ("slack", "UOLA")}
    assert all(r.kind == "greeting" for r in rows)
    # The outbox delivers the greeting: welcome and the anonymity promise first.
    transport = SlackTransport(sender_for(fake), engine)
    stats = await deliver_due(engine.db, {"slack": transport}, engine.clock(), "test")
    assert stats.sent == len(rows) and stats.failed == 0
    first = fake.of("chat.postMessage")[0]["text"]
    assert "Ingrid" in first
    # Running it again matches nobody new and greets nobody twice.
    again = await sync_slack_roster(engine, sender_for(fake))
    assert (again.matched, again.greeted) == (0, 0)
    assert len(outbox_rows(engine)) == len(rows)
    with engine.db.transaction() as session:
        addresses = people.addresses_of(session, ids["Ola Nilsen"])
        assert [(a.platform, a.chat_id) for a in addresses] == [("slack", "UOLA")]


async def test_sync_with_a_bad_token_stops_and_says_why(
    fake: FakeSlack, engine: Conversation
) -> None:
    roster(engine)
    result = await sync_slack_roster(engine, sender_for(fake, "xoxb-wrong"))
    assert result.matched == 0
    assert result.errors == ["Ingrid Hansen: invalid_auth"]
    assert fake.count("users.lookupByEmail") == 1
    assert outbox_rows(engine) == []


async def test_person_on_slack_and_telegram_is_asked_once_per_round(
    fake: FakeSlack, engine: Conversation
) -> None:
    now = engine.clock()
    with engine.db.transaction() as session:
        person = people.create_person(
            session, "Ingrid Hansen", now, email="ingrid@bodo.kommune.no", municipality="bodo"
        )
        person.onboarded_at = now
        people.bind_address(session, person, "telegram", "12345", now)
    fake.add_user("ingrid@bodo.kommune.no", "UINGRID")
    result = await sync_slack_roster(engine, sender_for(fake))
    assert (result.matched, result.greeted) == (1, 0)  # known already: no second greeting
    engine.open_round()
    rows = outbox_rows(engine)
    assert rows, "the round's first question is queued"
    assert len({(r.platform, r.chat_id) for r in rows}) == 1  # one chat only, not both
    with engine.db.transaction() as session:
        preferred = people.preferred_address(session, person.id)
        assert preferred is not None
        assert {r.platform for r in rows} == {preferred.platform}
