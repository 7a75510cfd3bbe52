"""Teams end to end: the real SDK and MSAL against the fake Bot Connector over HTTP."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

import storage.teams_models  # noqa: F401  (the wipe between tests empties it too)
from bot.conversation import Conversation
from bot.transports.teams_cards import buttons_of
from storage.models import Address, InboundEvent, Invitation, PendingAnswer, Person, Response
from storage.teams_models import TeamsConversation
from tests.fakes.teams_connector import APP_ID, FakeTeams, activity, personal_conversation
from tests.fakes.teams_harness import Harness, running, teams_person


def new_aad() -> str:
    return str(uuid.uuid4())


def pending_count(engine: Conversation) -> int:
    return count(engine, PendingAnswer)


def count(engine: Conversation, model: type) -> int:
    with engine.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_install_greets_and_binds_the_rostered_person_by_email(
    engine: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(engine, monkeypatch) as h:
        aad = new_aad()
        person_id = teams_person(engine, h.fake, aad, bound=False, onboarded=False)
        assert await h.install(aad) == 202
        texts = h.texts(aad)
        assert texts and texts[0].startswith("Hei, Person")
        assert "uten navnet ditt" in texts[0]
        with engine.db.transaction() as session:
            address = session.scalar(select(Address).where(Address.person_id == person_id))
            reference = session.get(TeamsConversation, aad)
            assert address is not None and address.platform == "teams"
            assert address.chat_id == aad
            assert reference is not None
            assert reference.conversation_id == personal_conversation(aad)
            assert reference.service_url == h.fake.base_url
        assert h.fake.tokens_issued >= 1  # MSAL client credentials through the proxy
        assert h.proxy.tunnels >= 1 and not h.proxy.refused


async def test_a_stranger_gets_a_polite_answer_and_nothing_is_stored(
    engine: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(engine, monkeypatch) as h:
        aad = new_aad()
        h.fake.add_user(aad, "ukjent@annen.test")
        assert await h.install(aad) == 202
        assert await h.say(aad, "hei") == 202
        texts = h.texts(aad)
        assert len(texts) == 2
        assert all("deltakerlisten" in t and "ikke lagret noe" in t for t in texts)
        assert count(engine, Person) == 0
        assert count(engine, Address) == 0
        assert count(engine, TeamsConversation) == 0
        assert count(engine, InboundEvent) == 0


async def test_commands_work_in_plain_words_and_with_a_slash(
    engine: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(engine, monkeypatch) as h:
        aad = new_aad()
        teams_person(engine, h.fake, aad)
        await h.say(aad, "hjelp")
        await h.say(aad, "/help")
        await h.say(aad, "språk nn")
        await h.say(aad, "<at>beholde</at> /språk en")
        texts = h.texts(aad)
        assert len(texts) == 4
        assert "/puls" in texts[0] and "/puls" in texts[1]
        with engine.db.transaction() as session:
            person = session.scalar(select(Person))
            assert person is not None and person.language == "en"
        # A free-text line that begins with a command word stays text, not a command.
        await h.say(aad, "pause er for kort på kveldsvakt")
        assert "pause" not in h.texts(aad)[-1].lower()
        with engine.db.transaction() as session:
            person = session.scalar(select(Person))
            assert person is not None and person.status == "active"


async def test_another_tenant_is_ignored(
    engine: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(engine, monkeypatch) as h:
        aad = new_aad()
        teams_person(engine, h.fake, aad)
        body = activity(h.fake, aad, text="/puls", tenant="99999999-0000-0000-0000-000000000000")
        assert await h.post(body) == 202
        assert h.sent(aad) == []
        assert count(engine, Response) == 0


def scale_values(buttons: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(title, data) for title, data in buttons if data.rsplit(":", 1)[1].isdigit()]


async def answer_all(h: Harness, aad: str, limit: int = 30) -> list[int]:
    """Press the second-highest value on every open card; submit text where asked."""
    chosen: list[int] = []
    while len(chosen) < limit:
        try:
            card_id, buttons = h.open_card(aad)
        except AssertionError:
            return chosen
        numeric = scale_values(buttons)
        if not numeric:  # the free-text question: use the card's text input
            body = activity(h.fake, aad, value={"t": 1, "answer": "Bedre turnus"}, reply_to=card_id)
            assert await h.post(body) == 202
            chosen.append(-1)
            continue
        _, data = numeric[-2]
        assert await h.press(aad, data, card_id) == 202
        chosen.append(int(data.rsplit(":", 1)[1]))
    return chosen


async def test_a_full_pulse_by_card_buttons_is_stored_right(
    engine: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(engine, monkeypatch) as h:
        aad = new_aad()
        teams_person(engine, h.fake, aad)
        engine.open_round()
        stats = await h.deliver()
        assert stats.sent >= 2 and stats.failed == 0
        first_id, first_buttons = h.open_card(aad)
        assert len(first_buttons) >= 6
        chosen = await answer_all(h, aad)
        assert len(chosen) >= 6
        # Every press turned its card into the chosen answer, with nothing left to press.
        updated = {aid for _, aid, _ in h.fake.updates}
        assert first_id in updated and len(h.fake.updates) == len(chosen)
        assert all(not buttons_of(a) for a in h.sent(aad))
        assert "Takk! Svarene dine er lagret uten navn." in h.texts(aad)[-1]
        engine.close_round()
        with engine.db.transaction() as session:
            rows = list(session.scalars(select(Response)))
        assert sorted(r.value for r in rows if r.value is not None) == sorted(
            v for v in chosen if v >= 0
        )
        assert [r.text for r in rows if r.text] == (["Bedre turnus"] if -1 in chosen else [])


async def test_a_restart_mid_pulse_continues_where_the_person_stopped(
    engine: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeTeams()
    await fake.start()
    try:
        aad = new_aad()
        teams_person(engine, fake, aad)
        engine.open_round()
        async with running(engine, monkeypatch, fake) as first:
            await first.deliver()
            for _ in range(2):
                card_id, buttons = first.open_card(aad)
                await first.press(aad, scale_values(buttons)[0][1], card_id)
            assert pending_count(engine) == 2
            open_id, open_buttons = first.open_card(aad)
        async with running(engine, monkeypatch, fake) as second:  # nothing kept in memory
            assert await second.press(aad, scale_values(open_buttons)[0][1], open_id) == 202
            assert pending_count(engine) == 3
            assert len(await answer_all(second, aad)) >= 1
        assert pending_count(engine) == 0
        with engine.db.transaction() as session:
            assert session.scalar(select(Invitation.status)) == "finished"
    finally:
        await fake.stop()


async def test_a_forged_or_repeated_press_changes_nothing(
    engine: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(engine, monkeypatch) as h:
        alice, bob = new_aad(), new_aad()
        teams_person(engine, h.fake, alice)
        teams_person(engine, h.fake, bob)
        engine.open_round()
        await h.deliver()
        card_id, buttons = h.open_card(alice)
        data = scale_values(buttons)[0][1]
        # Bob submits Alice's button data from his own chat: refused, nothing stored.
        assert await h.press(bob, data, card_id) == 202
        assert pending_count(engine) == 0
        # Teams delivers Alice's press twice: stored once.
        body = activity(h.fake, alice, value={"b": data}, reply_to=card_id)
        assert await h.post(body) == 202
        assert await h.post(body) == 202
        assert pending_count(engine) == 1


async def test_added_to_a_team_the_bot_tells_the_channel_id_for_the_steering_setting(
    engine: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(engine, monkeypatch) as h:
        channel = "19:styringsgruppe@thread.tacv2"
        body = activity(
            h.fake,
            new_aad(),
            "conversationUpdate",
            conversation_type="channel",
            conversation_id=channel,
            members_added=["28:" + APP_ID],
        )
        assert await h.post(body) == 202
        (said,) = h.fake.sent(channel)
        assert channel in said["text"] and "BEHOLDE_TEAMS_STEERING_CONVERSATION" in said["text"]
        assert said["textFormat"] == "plain"
        assert count(engine, Person) == 0 and count(engine, TeamsConversation) == 0
