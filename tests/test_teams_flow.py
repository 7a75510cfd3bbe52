"""Teams end to end: the real SDK and MSAL against the fake Bot Connector over HTTP."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

import storage.teams_models  # noqa: F401  (the wipe between tests empties it too)
from bot.conversation import Conversation
from storage.models import Address, InboundEvent, Person, Response
from storage.teams_models import TeamsConversation
from tests.fakes.teams_connector import activity, personal_conversation
from tests.fakes.teams_harness import running, teams_person


def new_aad() -> str:
    return str(uuid.uuid4())


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
