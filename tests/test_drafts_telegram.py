"""The guided form through Telegram end to end: a real PTB application on the fake Bot API."""

from __future__ import annotations

from sqlalchemy import select

from bot.conversation import Conversation
from storage import people
from storage.network_models import Gathering, Task
from tests.conftest import FakeClock, add_person
from tests.fakes.telegram_api import FakeTelegram
from tests.telegram_support import fake as fake  # the fixture
from tests.telegram_support import labels, roundtrip, start_bot

CHAT = "5001"


def texts(fake: FakeTelegram) -> list[str]:
    return [str(m.get("text")) for m in fake.chat(CHAT)]


async def test_a_gathering_and_a_task_step_by_step_through_telegram(
    engine: Conversation, fake: FakeTelegram, clock: FakeClock
) -> None:
    add_person(engine, "Ingrid Hansen", role="team_member", team="Bodø")
    add_person(engine, "Kari Berg", role="team_member", team="Fauske")
    with engine.db.transaction() as session:
        person = people.create_person(session, "Christel Kjerran", clock(), role="leader")
        person.onboarded_at = clock()
        people.bind_address(session, person, "telegram", CHAT, clock())
    bot = await start_bot(fake, engine)
    try:
        for line in ["/samling ny", "Samling 2", "31.02", "neste tirsdag 10:00-14:00", "Bodø"]:
            await roundtrip(bot, lambda line=line: fake.say(CHAT, line))
        assert any("31.02" in text for text in texts(fake))  # the slip was answered
        assert sorted(labels(fake.with_button(CHAT))) == ["Avbryt", "Hopp over"]
        await roundtrip(bot, lambda: fake.press(CHAT, "Hopp over"))
        await roundtrip(bot, lambda: fake.press(CHAT, "Hopp over"))
        card = fake.with_button(CHAT, "Lagre")
        assert card is not None and "«Samling 2»" in str(card["text"])
        assert sorted(labels(card)) == ["Avbryt", "Lagre"]
        await roundtrip(bot, lambda: fake.press(CHAT, "Lagre"))
        edited = fake.chat(CHAT)[-2]  # the card, edited to show the choice, without buttons
        assert str(edited["text"]).endswith("→ Lagre") and not labels(edited)
        assert texts(fake)[-1].startswith("Samling 1 «Samling 2» er lagt inn tirsdag 19.")
        # a forged press on the edited card changes nothing (one gathering at the end)
        update = fake.callback_update(CHAT, "x" * 16 + ":save", edited["message_id"])  # forged, too
        await roundtrip(bot, lambda: fake.push(update))

        for line in ["/oppgave ny", "Kartlegg turnusønsker"]:
            await roundtrip(bot, lambda line=line: fake.say(CHAT, line))
        assert sorted(labels(fake.with_button(CHAT))) == ["Alle lag", "Avbryt", "Bodø", "Fauske"]
        await roundtrip(bot, lambda: fake.press(CHAT, "Fauske"))
        assert "dagen før samlingen «Samling 2»" in texts(fake)[-1]
        await roundtrip(bot, lambda: fake.press(CHAT, "Standard"))
        await roundtrip(bot, lambda: fake.say(CHAT, "Spør alle på laget."))
        await roundtrip(bot, lambda: fake.say(CHAT, "ja"))
        assert texts(fake)[-1].startswith("Oppgave 1 «Kartlegg turnusønsker» for Fauske")
    finally:
        await bot.stop()
    with engine.db.transaction() as session:
        assert len(list(session.scalars(select(Gathering)))) == 1
        (task,) = session.scalars(select(Task))
        assert (task.team, str(task.due_on)) == ("Fauske", "2027-01-18")
