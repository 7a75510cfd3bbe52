"""The conversation engine: a pulse end to end, bad input, resuming, and employee commands."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.app import assemble
from bot.conversation import Conversation, EngineConfig
from bot.ports import Address, ChoicePressed, Command, TextReceived
from storage import people
from storage.models import Invitation, Person, Response
from tests.conftest import OSLO, add_person
from tests.pulse_helpers import answer_all, last_with_choices, press, stored


def start_pulse(engine: Conversation, address: Address):
    return engine.handle(Command(address, "puls")).messages


def test_a_pulse_is_seven_taps_and_ends_anonymously(engine: Conversation) -> None:
    _, address = add_person(engine, "Ingrid")
    engine.open_round()
    first = start_pulse(engine, address)
    assert "Ny puls" in first[0].text
    assert "(1 av 7)" in first[1].text and "1 = svært lite · 6 = svært mye" in first[1].text
    presses, last = answer_all(
        engine, address, first, choose=lambda m: "0" if "slutte" in m.text else "4"
    )
    assert presses == 7
    assert last[0].text.startswith("Takk! Svarene dine er lagret uten navn")
    # One finished submission is fewer than k=5: it waits in holding, not linked to anyone.
    assert stored(engine) == {"pending": 0, "holding": 7, "responses": 0}
    with engine.db.transaction() as session:
        invitation = session.scalar(select(Invitation))
        assert invitation.status == "finished" and invitation.plan is None
        assert invitation.finished_on == engine.clock().astimezone(OSLO).date()


def test_answers_reach_responses_in_batches_of_k(engine: Conversation) -> None:
    addresses = [add_person(engine, f"P{i}")[1] for i in range(6)]
    engine.open_round()
    for i, address in enumerate(addresses[:4]):
        answer_all(engine, address, start_pulse(engine, address))
        assert stored(engine)["responses"] == 0, f"released after {i + 1} submissions"
    answer_all(engine, addresses[4], start_pulse(engine, addresses[4]))
    counts = stored(engine)
    assert counts["holding"] == 0 and counts["responses"] > 0
    answer_all(engine, addresses[5], start_pulse(engine, addresses[5]))
    assert stored(engine)["holding"] > 0  # the sixth waits for four more, or for the close
    engine.close_round()
    assert stored(engine)["holding"] == 0


def test_a_pressed_message_shows_the_chosen_value_and_a_second_press_changes_nothing(engine):
    _, address = add_person(engine, "Kari")
    engine.open_round()
    question = start_pulse(engine, address)[-1]
    reply = press(engine, address, question, "5")
    assert reply.edit is not None and reply.edit.text.endswith("Ditt svar: 5")
    assert reply.edit.choices == ()
    before = stored(engine)
    again = press(engine, address, question, "2")
    assert again.notice == "Det spørsmålet har du allerede svart på."
    assert again.messages == [] and again.edit is None
    assert stored(engine) == before


def test_out_of_range_and_forged_presses_store_nothing(engine: Conversation) -> None:
    _, address = add_person(engine, "Ola")
    _, other = add_person(engine, "Per")
    engine.open_round()
    question = start_pulse(engine, address)[-1]
    token = question.choices[0].data.split(":")[0]
    for data in (
        f"{token}:7",
        f"{token}:0",
        f"{token}:-1",
        f"{token}:4.5",
        f"{token}:",
        "nope:3",
        "x" * 5000,
        f"{token}:{'9' * 400}",
        "",
        ":::",
        "\x00",
        f"{token}\x00:3",
        "ø:1",
    ):
        reply = engine.handle(ChoicePressed(address, data))
        assert reply.notice and not reply.messages and reply.edit is None, data
    # Somebody else's button, pressed from another chat: refused as if it did not exist.
    reply = engine.handle(ChoicePressed(other, f"{token}:3"))
    assert reply.notice and reply.notice.startswith("Denne knappen er ikke lenger i bruk")
    assert stored(engine) == {"pending": 0, "holding": 0, "responses": 0}
    # The genuine press still works afterwards.
    assert press(engine, address, question, "3").edit is not None


def test_a_press_after_the_round_closed_is_refused_kindly(engine: Conversation) -> None:
    _, address = add_person(engine, "Ida")
    engine.open_round()
    first = start_pulse(engine, address)
    answer_all(engine, address, first, stop_after=2)
    engine.close_round()
    question = last_with_choices(first)
    reply = press(engine, address, question, "6")
    assert "runden kan være avsluttet" in (reply.notice or "")
    # The two answers given were kept anonymously as a partial submission, nothing is pending.
    with engine.db.transaction() as session:
        rows = session.scalars(select(Response)).all()
    assert len(rows) == 2 and all(not r.complete for r in rows)
    assert stored(engine)["pending"] == 0


def test_a_restart_resumes_where_the_person_stopped(engine: Conversation, survey, clock) -> None:
    _, address = add_person(engine, "Silje")
    engine.open_round()
    answer_all(engine, address, start_pulse(engine, address), stop_after=3)
    # A new engine over the same database: nothing is kept in memory between them.
    restarted = assemble(engine.db, survey, EngineConfig(k=5, tz=OSLO), clock)
    messages = restarted.handle(Command(address, "puls")).messages
    assert "(4 av 7)" in messages[-1].text
    presses, last = answer_all(restarted, address, messages)
    assert presses == 4 and last[0].text.startswith("Takk!")


def test_quitting_yes_asks_for_an_optional_comment_and_limits_its_length(
    engine: Conversation,
) -> None:
    _, address = add_person(engine, "Marte")
    engine.open_round()
    messages = start_pulse(engine, address)
    while "slutte" not in (q := last_with_choices(messages)).text and "anbefale" not in q.text:
        messages = press(engine, address, q, "4").messages
    if "anbefale" in q.text:  # this person's extra is the recommend question
        assert press(engine, address, q, "9").messages[0].text.startswith("Takk!")
        return
    follow = press(engine, address, q, "1").messages[-1]
    assert follow.free_text and "Hva ville fått deg til å bli?" in follow.text
    too_long = engine.handle(TextReceived(address, "a" * 1001))
    assert "for lang" in too_long.messages[0].text
    empty = engine.handle(TextReceived(address, "\u200b\x00 \t"))
    assert "ingen tekst" in empty.messages[0].text
    assert stored(engine)["pending"] == 6
    done = engine.handle(TextReceived(address, "Fast stilling\x07 og  bedre turnus"))
    assert [m.text for m in done.messages][:2] == [
        "Takk, det er notert.",
        "Takk! Svarene dine er lagret uten navn.",
    ]


def test_text_when_buttons_are_expected_gets_a_hint(engine: Conversation) -> None:
    _, address = add_person(engine, "Nora")
    engine.open_round()
    start_pulse(engine, address)
    reply = engine.handle(TextReceived(address, "4"))
    assert reply.messages[0].text.startswith("Trykk på en av knappene")
    assert stored(engine)["pending"] == 0


def test_first_contact_shows_the_promise_and_asks_missing_background(engine: Conversation) -> None:
    pid, address = add_person(engine, "Emma Olsen", onboarded=False, municipality="beiarn")
    reply = engine.greet(address)
    text = "\n".join(m.text for m in reply.messages)
    assert "Hei, Emma!" in text
    assert "lagres uten navnet ditt" in text and "minst 5 svar" in text and "/meg" in text
    question = reply.messages[-1]
    assert question.text == "Hva er yrket ditt?"  # municipality came from the roster
    assert [c.label for c in question.choices][-1] == "Hopp over"
    messages = press(engine, address, question, "vernepleier").messages
    for _ in range(4):  # age, tenure, position, shifts: skip them all
        messages = press(engine, address, messages[-1], "skip").messages
    assert messages[-1].text.startswith("Takk! Du får den første pulsen")
    with engine.db.transaction() as session:
        person = session.get(Person, pid)
        assert person.profession == "vernepleier" and person.onboarded_at is not None
        assert set(person.skipped_background) == {
            "age_band",
            "tenure_band",
            "position_band",
            "shifts",
        }


def test_strangers_are_told_how_to_join_and_codes_work_once(engine: Conversation, clock) -> None:
    stranger = Address("test", "unknown")
    assert "invitasjonslenke" in engine.handle(TextReceived(stranger, "hei")).messages[0].text
    assert "invitasjonslenke" in engine.handle(Command(stranger, "start")).messages[0].text
    with engine.db.transaction() as session:
        person = people.create_person(session, "Geir", clock(), municipality="meloy")
        code = people.new_invite_code(session, person, "test", clock(), valid_days=30)
        expired = people.new_invite_code(session, person, "test", clock(), valid_days=1)
    assert "finnes ikke" in engine.handle(Command(stranger, "start", ("wrong",))).messages[0].text
    reply = engine.handle(Command(stranger, "start", (code,)))
    assert "Hei, Geir!" in reply.messages[0].text
    assert (
        "allerede brukt"
        in engine.handle(Command(Address("test", "x"), "start", (code,))).messages[0].text
    )
    clock.advance(days=2)
    assert (
        "utløpt"
        in engine.handle(Command(Address("test", "y"), "start", (expired,))).messages[0].text
    )


def test_pause_stop_and_resume(engine: Conversation) -> None:
    _, address = add_person(engine, "Hanne")
    assert "pause" in engine.handle(Command(address, "pause")).messages[0].text
    engine.open_round()
    with engine.db.transaction() as session:
        assert session.scalar(select(Invitation)) is None  # paused people are not invited
    reply = engine.handle(Command(address, "puls"))
    assert reply.messages[0].text.startswith("Velkommen tilbake")
    assert "Ny puls" in reply.messages[1].text
    assert "ingen flere pulser" in engine.handle(Command(address, "stopp")).messages[0].text


def test_me_shows_what_is_stored_and_delete_forgets_the_person(engine: Conversation) -> None:
    pid, address = add_person(engine, "Trine", email="trine@example.no")
    engine.open_round()
    answer_all(engine, address, start_pulse(engine, address), stop_after=2)
    me = "\n".join(m.text for m in engine.handle(Command(address, "meg")).messages)
    assert "Navn: Trine" in me and "trine@example.no" in me and "Kommune: Bodø" in me
    assert "Rolle: ansatt" in me and "Språk: norsk bokmål" in me
    assert "2 påbegynte svar" in me and "Ferdige svar lagres uten navn" in me
    confirm = engine.handle(Command(address, "slett")).messages[0]
    cancel = next(c for c in confirm.choices if c.data.endswith(":no"))
    assert (
        engine.handle(ChoicePressed(address, cancel.data)).edit.text
        == "Greit, ingenting er slettet."
    )
    confirm = engine.handle(Command(address, "slett")).messages[0]
    yes = next(c for c in confirm.choices if c.data.endswith(":yes"))
    assert "slettet" in engine.handle(ChoicePressed(address, yes.data)).edit.text
    with engine.db.transaction() as session:
        assert session.get(Person, pid) is None
        invitation = session.scalar(select(Invitation))
        assert invitation.person_id is None and invitation.status == "closed"
    assert stored(engine)["pending"] == 0
    assert "invitasjonslenke" in engine.handle(Command(address, "meg")).messages[0].text


def test_language_can_be_changed_to_english(engine: Conversation) -> None:
    _, address = add_person(engine, "Sam")
    assert (
        engine.handle(Command(address, "language", ("en",))).messages[0].text
        == "I will write in English now."
    )
    engine.open_round()
    messages = engine.handle(Command(address, "pulse")).messages
    assert "A new pulse" in messages[0].text
    assert (
        "How much do you experience this at work?" in messages[1].text
        or "How important" in messages[1].text
    )
    assert "You can type" in engine.handle(Command(address, "help")).messages[0].text


def test_leader_commands_refuse_others_and_show_counts_to_leaders(engine: Conversation) -> None:
    _, employee = add_person(engine, "Anne")
    _, leader = add_person(engine, "Christel", role="leader")
    refused = engine.handle(Command(employee, "runde", ("start",)))
    assert refused.messages[0].text == "Den kommandoen er bare for prosjektleder."
    with engine.db.transaction() as session:
        assert session.scalar(select(Invitation)) is None
    opened = engine.handle(Command(leader, "runde", ("start",))).messages[0].text
    assert opened == "Runde 1 er åpnet; 2 er invitert."
    answer_all(engine, employee, start_pulse(engine, employee))
    status = engine.handle(Command(leader, "runde")).messages[0].text
    assert status.startswith("Runde 1: 0 er i gang.")
    assert "I alt: vises ikke (bare 2 invitert" in status  # under k, not "færre enn 5 av 2"
    closed: list[int] = []
    engine.round_closed_hooks.append(closed.append)
    assert "avsluttet" in engine.handle(Command(leader, "runde", ("slutt",))).messages[0].text
    assert len(closed) == 1
    assert "kjenner jeg ikke" in engine.handle(Command(employee, "finnesikke")).messages[0].text


def pulse_after_a_closed_round(engine: Conversation, clock, people: int) -> list[str]:
    """`people` in Fauske answer 5 everywhere; a round later the first one answers again."""
    addresses = [add_person(engine, f"F{i}", municipality="fauske")[1] for i in range(people)]
    engine.open_round()
    for address in addresses:
        answer_all(
            engine,
            address,
            start_pulse(engine, address),
            choose=lambda m: "0" if "slutte" in m.text else "5",
        )
    engine.close_round()
    clock.advance(days=14)
    engine.open_round()
    _, last = answer_all(engine, addresses[0], start_pulse(engine, addresses[0]))
    return [m.text for m in last]


def test_done_message_gives_last_rounds_result_for_a_big_enough_group(engine, clock) -> None:
    texts = pulse_after_a_closed_round(engine, clock, 12)
    # 12 people over 10 factors: each factor got 3–4 answers, fewer than k, so nothing is shown.
    assert texts == ["Takk! Svarene dine er lagret uten navn."]


def test_round_opening_queues_first_questions_once_per_person(engine: Conversation) -> None:
    from storage.models import OutboxMessage

    add_person(engine, "A")
    _, both = add_person(engine, "B")
    with engine.db.transaction() as session:
        person = people.by_address(session, both.platform, both.chat_id)
        people.bind_address(
            session, person, "telegram", "777", engine.clock() + dt.timedelta(seconds=1)
        )
    engine.open_round()
    with engine.db.transaction() as session:
        rows = session.scalars(select(OutboxMessage)).all()
    per_person = {}
    for row in rows:
        per_person.setdefault(row.person_id, set()).add(row.platform)
    assert all(len(platforms) == 1 for platforms in per_person.values())
    assert "telegram" in set().union(*per_person.values())  # B's newest chat is used


def test_done_message_shows_last_rounds_municipality_result_when_k_answered(engine, clock) -> None:
    texts = pulse_after_a_closed_round(engine, clock, 40)
    # 40 people over 10 factors: every factor got 12 answers of 5 in Fauske last round.
    assert texts[1].startswith("Forrige runde svarte dere i Fauske i snitt 5,0 av 6 på «")
    assert texts[1].endswith("(12 svar).")


def test_me_names_the_chat_in_the_persons_language(engine: Conversation) -> None:
    _, address = add_person(engine, "Nina", platform="console", language="nn")
    shown = engine.handle(Command(address, "meg")).messages[0].text
    assert "Chattar: terminalen" in shown and "console" not in shown
    _, telegram = add_person(engine, "Tor", platform="telegram")
    assert "Chatter: Telegram" in engine.handle(Command(telegram, "meg")).messages[0].text
