""" "Kommer du?" (issue 14): the reminder two days before asks Ja / Nei / Digitalt; forged and
replayed presses change nothing; a person can change their answer; per-person rows live only
until `samling holdt N`, then counts per team; the counts are the leader's, never the
steering group's."""

from __future__ import annotations

from sqlalchemy import select

from bot.conversation import Conversation
from bot.digest import digest_text, leader_digest_text
from bot.ports import Address, ChoicePressed, Command
from storage.models import OutboxMessage
from storage.network_models import Attendance, AttendanceCount, Gathering
from tests import test_network
from tests.test_network import OSLO, last_id, oslo, outbox_rows, say, tick

team = test_network.team  # the fixture: a leader, two in Bodø, one in Fauske


def two_days_before(engine: Conversation, clock, team) -> tuple[int, dict[str, OutboxMessage]]:
    say(engine, team["Christel"], "samling ny Samling 3 12.03.2027 09:00-15:00 Bodø")
    g = last_id(engine, Gathering)
    clock.now = oslo(2027, 2, 26, 9, 0)
    tick(engine, clock)
    first = {r.chat_id: r for r in outbox_rows(engine, "rem:") if r.dedupe_key.endswith(":0")}
    assert all(not r.payload["choices"] for r in first.values())  # 14 days before: no question
    clock.now = oslo(2027, 3, 10, 9, 0)
    tick(engine, clock)
    asked = {
        r.chat_id: r
        for r in outbox_rows(engine, "rem:")
        if r.dedupe_key.endswith(":0") and r.payload["choices"]
    }
    return g, asked


def press(engine: Conversation, chat: str, row: OutboxMessage, label: str):
    data = next(d for lab, d in row.payload["choices"] if lab == label)
    return engine.handle(ChoicePressed(Address("test", chat), data))


def answers(engine: Conversation) -> list[tuple[int, str]]:
    with engine.db.transaction() as session:
        return [(a.person_id, a.answer) for a in session.scalars(select(Attendance))]


def test_the_two_day_reminder_asks_and_a_press_is_stored_once(engine, clock, team) -> None:
    g, asked = two_days_before(engine, clock, team)
    assert set(asked) == {"Ingrid Hansen", "Elin Nedregaard", "Kari Berg"}
    row = asked["Ingrid Hansen"]
    assert "Kommer du på «Samling 3»?" in row.payload["text"]
    assert [label for label, _ in row.payload["choices"]] == ["Ja", "Nei", "Digitalt"]
    reply = press(engine, "Ingrid Hansen", row, "Digitalt")
    assert reply.edit is not None and "Svaret ditt for «Samling 3»: Digitalt" in reply.edit.text
    replay = press(engine, "Ingrid Hansen", row, "Ja")  # the same message again
    assert replay.notice and [a for _, a in answers(engine)] == ["online"]
    forged = engine.handle(
        ChoicePressed(Address("test", "Kari Berg"), row.payload["choices"][0][1])
    )  # Ingrid's token pressed from Kari's chat
    assert forged.notice and len(answers(engine)) == 1
    nonsense = engine.handle(ChoicePressed(Address("test", "Kari Berg"), "x" * 80))
    assert nonsense.notice and len(answers(engine)) == 1
    changed = say(engine, team["Ingrid"], f"kommer {g} ja")[0]
    assert "Ja" in changed and [a for _, a in answers(engine)] == ["yes"]
    assert "Skriv for eksempel" in say(engine, team["Ingrid"], f"kommer {g} kanskje")[0]
    assert "Fant ingen samling" in say(engine, team["Ingrid"], "kommer 999999 ja")[0]
    assert [a for _, a in answers(engine)] == ["yes"]


def test_the_leader_sees_counts_per_team_and_held_keeps_only_counts(engine, clock, team) -> None:
    g, asked = two_days_before(engine, clock, team)
    press(engine, "Ingrid Hansen", asked["Ingrid Hansen"], "Ja")
    press(engine, "Elin Nedregaard", asked["Elin Nedregaard"], "Nei")
    press(engine, "Kari Berg", asked["Kari Berg"], "Digitalt")
    card = say(engine, team["Christel"], f"samling vis {g}")[0]
    assert "Bodø: 1 ja, 1 nei, 0 digitalt · Fauske: 0 ja, 0 nei, 1 digitalt" in card
    with engine.db.transaction() as session:
        digest = leader_digest_text(session, clock.now, OSLO, "nb")
        steering = digest_text(session, engine.survey, clock.now, OSLO, "nb", 5)
    assert "Påmelding: Bodø: 1 ja, 1 nei, 0 digitalt" in digest
    assert "ja," not in steering and "digitalt" not in steering  # never the steering group
    member_view = engine.handle(Command(team["Ingrid"], "samlinger", ())).messages[0].text
    assert "Ditt svar på «Kommer du?»: Ja" in member_view and "Fauske:" not in member_view
    early = say(engine, team["Christel"], f"samling holdt {g}")[0]
    assert "har ikke begynt" in early and len(answers(engine)) == 3
    clock.now = oslo(2027, 3, 12, 16, 0)
    bad = say(engine, team["Christel"], f"samling holdt {g} Oslo=4")[0]
    assert "Jeg forstod ikke «Oslo=4»" in bad and len(answers(engine)) == 3
    held = say(engine, team["Christel"], f"samling holdt {g} Bodø=2 fauske=1")[0]
    assert "markert som holdt" in held and "Bodø: 1 ja, 1 nei, 0 digitalt, 2 kom" in held
    assert answers(engine) == []  # nothing links a person to an answer any more
    with engine.db.transaction() as session:
        counts = sorted((c.team, c.kind, c.count) for c in session.scalars(select(AttendanceCount)))
    assert counts == [
        ("Bodø", "came", 2), ("Bodø", "no", 1), ("Bodø", "yes", 1),
        ("Fauske", "came", 1), ("Fauske", "online", 1),
    ]  # fmt: skip
    card = say(engine, team["Christel"], f"samling vis {g}")[0]
    assert "Oppmøte per lag" in card and "Fauske: 0 ja, 0 nei, 1 digitalt, 1 kom" in card


def test_a_moved_gathering_forgets_answers_and_old_buttons_change_nothing(
    engine, clock, team
) -> None:
    g, asked = two_days_before(engine, clock, team)
    press(engine, "Ingrid Hansen", asked["Ingrid Hansen"], "Ja")
    say(engine, team["Christel"], f"samling flytt {g} 26.03.2027")
    assert answers(engine) == []  # given for the old date
    late = press(engine, "Elin Nedregaard", asked["Elin Nedregaard"], "Ja")
    assert late.edit is not None and "Tidspunktet for «Samling 3» er endret" in late.edit.text
    assert answers(engine) == []
    say(engine, team["Christel"], f"samling avlys {g}")
    assert "ikke lenger planlagt" in say(engine, team["Kari"], f"kommer {g} ja")[0]
    assert answers(engine) == []


def test_nynorsk_question_and_answer(engine, clock, team) -> None:
    from tests.conftest import add_person

    add_person(engine, "Nils Nynorsk", team="Fauske", language="nn")
    g, asked = two_days_before(engine, clock, team)
    row = asked["Nils Nynorsk"]
    assert "Kjem du på «Samling 3»?" in row.payload["text"]
    reply = press(engine, "Nils Nynorsk", row, "Nei")
    assert reply.edit is not None and "Svaret ditt for «Samling 3»: Nei" in reply.edit.text
    assert "/kjem" in reply.edit.text
    assert "Nei" in say(engine, Address("test", "Nils Nynorsk"), f"kjem {g} nei")[0]


def test_answers_never_outlive_the_gathering_even_if_never_marked_held(engine, clock, team) -> None:
    g, asked = two_days_before(engine, clock, team)
    press(engine, "Ingrid Hansen", asked["Ingrid Hansen"], "Ja")
    clock.now = oslo(2027, 3, 12, 16, 0)  # it ended at 15:00; nobody typed `samling holdt`
    tick(engine, clock)
    assert len(answers(engine)) == 1  # the leader may still mark it held today
    clock.now = oslo(2027, 3, 13, 15, 30)
    tick(engine, clock)
    assert answers(engine) == []
    card = say(engine, team["Christel"], f"samling vis {g}")[0]
    assert "Bodø: 1 ja, 0 nei, 0 digitalt" in card  # as counts per team only


def test_deleting_ones_identity_deletes_ones_answer(engine, clock, team) -> None:
    from storage import people
    from storage.models import Person

    _, asked = two_days_before(engine, clock, team)
    press(engine, "Kari Berg", asked["Kari Berg"], "Ja")
    press(engine, "Ingrid Hansen", asked["Ingrid Hansen"], "Nei")
    with engine.db.transaction() as session:
        kari = session.scalars(select(Person).where(Person.name == "Kari Berg")).one()
        people.delete_identity(session, kari)
    assert [a for _, a in answers(engine)] == ["no"]
