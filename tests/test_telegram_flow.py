"""A person registers by deep link and answers a pulse by pressing Telegram buttons.

Everything runs through the real python-telegram-bot Application, long polling a fake Bot
API on 127.0.0.1; storage is the real database (SQLite and PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy import func, select

from bot.invite import make_invites
from storage import frames, people
from storage.models import Holding, InviteCode, PendingAnswer, Person, Prompt
from tests.conftest import FakeClock
from tests.fakes.telegram_api import buttons
from tests.telegram_support import answer_everything, labels, roundtrip, start_bot
from tests.telegram_support import fake as fake  # the fixture

CHAT = "5001"


def rostered(engine, name: str = "Kari Nordmann", **fields) -> int:
    with engine.db.transaction() as session:
        return people.create_person(session, name, engine.clock(), **fields).id


def invite_codes(engine) -> dict[str, str]:
    """A fresh code per person without Telegram (earlier unused ones stop working)."""
    codes = {}
    for name, _place, link in make_invites(engine, "beholde_test_bot", 30):
        assert link.startswith("https://t.me/beholde_test_bot?start=")
        codes[name] = link.rsplit("=", 1)[1]
    return codes


def invite_code(engine, person_name: str) -> str:
    return invite_codes(engine)[person_name]


def count(engine, model) -> int:
    with engine.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def background(engine, chat: str) -> dict[str, object]:
    with engine.db.transaction() as session:
        person = people.by_address(session, "telegram", chat)
        assert person is not None
        fields = [q.id for q in engine.survey.background]
        return {f: getattr(person, f) for f in fields} | {"skipped": person.skipped_background}


async def test_deep_link_registration_and_a_full_pulse_by_buttons(engine, fake):
    person_id = rostered(engine, municipality="bodo", profession="sykepleier")
    code = invite_code(engine, "Kari Nordmann")
    engine.open_round()
    bot = await start_bot(fake, engine)
    try:
        await roundtrip(bot, lambda: fake.say(CHAT, f"/start {code}"))
        chat = fake.chat(CHAT)
        assert "Kari" in chat[0]["text"]
        assert "5" in chat[0]["text"]  # the anonymity promise names the group size
        first_question = fake.with_button(CHAT)
        assert first_question is not None and "Hopp over" in labels(first_question)

        presses = await answer_everything(bot, fake, CHAT)
        assert presses >= 6
        assert fake.chat(CHAT)[-1]["text"].startswith("Takk")
        # Every press was acknowledged, and every pressed message lost its buttons.
        assert len(fake.ok_calls("answerCallbackQuery")) == len(
            [c for c in fake.calls if c.method == "answerCallbackQuery"]
        )
        assert all(not buttons(m) for m in fake.chat(CHAT))
        edits = fake.ok_calls("editMessageText", CHAT)
        assert any("Ditt svar: 6" in c.params["text"] for c in edits)
    finally:
        await bot.stop()

    with engine.db.transaction() as session:
        person = session.get(Person, person_id)
        assert person is not None and person.onboarded_at is not None
        assert people.by_address(session, "telegram", CHAT).id == person_id
    assert count(engine, PendingAnswer) == 0
    assert count(engine, Holding) > 0  # sealed anonymously, waiting for k submissions
    engine.close_round()
    with engine.db.transaction() as session:
        answers = frames.responses(session)
        facets = frames.facets(session)
    assert len(answers) > 0 and "municipality" not in answers.columns
    # One person alone on the roster: no attribute of hers is stored (k-anonymous).
    assert len(facets) > 0 and set(facets["group_value"]) == {None}
    assert "person_id" not in answers.columns


async def test_wrong_used_and_expired_codes_get_clear_answers(engine, fake, clock: FakeClock):
    rostered(engine, "Ola")
    rostered(engine, "Per")
    codes = invite_codes(engine)
    ola, per = codes["Ola"], codes["Per"]
    bot = await start_bot(fake, engine)
    try:
        await roundtrip(bot, lambda: fake.say("1", "/start"))
        assert "invitasjonslenke" in fake.chat("1")[-1]["text"]
        await roundtrip(bot, lambda: fake.say("1", "/start not-a-real-code"))
        assert "finnes ikke" in fake.chat("1")[-1]["text"]
        await roundtrip(bot, lambda: fake.say("2", f"/start {ola}"))
        await roundtrip(bot, lambda: fake.say("3", f"/start {ola}"))
        assert "allerede brukt" in fake.chat("3")[-1]["text"]
        clock.advance(days=31)
        await roundtrip(bot, lambda: fake.say("4", f"/start {per}"))
        assert "utløpt" in fake.chat("4")[-1]["text"]
        await roundtrip(bot, lambda: fake.say("4", "hei"))
        assert "invitasjonslenke" in fake.chat("4")[-1]["text"]
    finally:
        await bot.stop()
    with engine.db.transaction() as session:
        assert people.by_address(session, "telegram", "3") is None
        assert people.by_address(session, "telegram", "4") is None
        assert people.by_address(session, "telegram", "2").name == "Ola"
        used = session.scalars(select(InviteCode.used_at)).all()
        assert sum(1 for u in used if u is not None) == 1


async def test_forged_replayed_and_double_presses_change_nothing(engine, fake):
    rostered(engine, "Kari", municipality="bodo", profession="sykepleier")
    rostered(engine, "Ola", municipality="bodo", profession="sykepleier")
    codes = invite_codes(engine)
    bot = await start_bot(fake, engine)
    try:
        await roundtrip(bot, lambda: fake.say(CHAT, f"/start {codes['Kari']}"))
        await roundtrip(bot, lambda: fake.say("666", f"/start {codes['Ola']}"))
        before = background(engine, CHAT)
        question = fake.with_button(CHAT)
        assert question is not None
        data = buttons(question)[0]["callback_data"]
        token = data.split(":")[0]

        # Forged: a made-up token, a valid token with an invalid value, junk.
        for forged in ("AAAAAAAAAAAAAAAA:1", f"{token}:99", "x", ""):
            await roundtrip(bot, lambda f=forged: fake.push(fake.callback_update(CHAT, f)))
        # Ola replays Kari's button data from his own chat; a stranger tries it too.
        await roundtrip(bot, lambda: fake.push(fake.callback_update("666", data)))
        await roundtrip(bot, lambda: fake.push(fake.callback_update("777", data)))
        assert background(engine, CHAT) == before
        assert background(engine, "666") == before
        with engine.db.transaction() as session:
            assert session.scalar(select(Prompt.used_at).where(Prompt.token == token)) is None
        assert fake.with_button(CHAT)["message_id"] == question["message_id"]

        # A real press, then the same press again (a double tap) and a replay later.
        first = buttons(question)[0]
        update = fake.callback_update(CHAT, first["callback_data"], question["message_id"])
        await roundtrip(bot, lambda: fake.push(update))
        sent_after_first = len(fake.ok_calls("sendMessage", CHAT))
        replay = dict(update, update_id=update["update_id"] + 500)
        await roundtrip(bot, lambda: fake.push(replay))
        await roundtrip(bot, lambda: fake.push(fake.callback_update(CHAT, first["callback_data"])))
        assert len(fake.ok_calls("sendMessage", CHAT)) == sent_after_first
        answers = fake.ok_calls("answerCallbackQuery")
        assert any("allerede svart" in str(c.params.get("text")) for c in answers)
        assert len(answers) == len([c for c in fake.calls if c.method == "answerCallbackQuery"])
        after = background(engine, CHAT)
        assert after != before
        assert sum(1 for k in after if after[k] != before[k]) == 1
    finally:
        await bot.stop()
