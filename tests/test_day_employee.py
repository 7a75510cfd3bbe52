"""The employee's day in chat: typed confirmations, honest hints, a steady question counter,
short background labels in /meg, a friendly greeting, and rounds that survive skips."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app, rounds
from bot.conversation import Conversation
from bot.ports import Address, Command, OutgoingMessage, TextReceived
from storage.digest import load_digest
from storage.models import Person
from tests.conftest import OSLO, add_person
from tests.pulse_helpers import answer_all


def texts(reply) -> list[str]:
    return [m.text for m in reply.messages]


def person_named(engine: Conversation, name: str) -> Person | None:
    with engine.db.transaction() as session:
        return session.scalar(select(Person).where(Person.name == name))


@pytest.mark.parametrize("typed", ["ja", "Ja!", "yes", "JA, SLETT"])
def test_typing_ja_at_the_delete_question_deletes(engine: Conversation, typed: str) -> None:
    _, address = add_person(engine, "Kari")
    asked = engine.handle(Command(address, "slett"))
    assert asked.messages[0].choices  # the buttons are still there for those who press
    reply = engine.handle(TextReceived(address, typed))
    assert person_named(engine, "Kari") is None
    assert reply.messages and "slettet" in reply.messages[0].text


def test_typing_nei_cancels_and_ja_without_a_question_deletes_nothing(engine) -> None:
    _, address = add_person(engine, "Ola")
    engine.handle(Command(address, "slett"))
    cancelled = engine.handle(TextReceived(address, "nei"))
    assert person_named(engine, "Ola") is not None and cancelled.messages
    stray = engine.handle(TextReceived(address, "ja"))  # the question was answered already
    assert person_named(engine, "Ola") is not None
    assert "Trykk på en av knappene" not in texts(stray)[0]


def test_press_the_buttons_is_said_only_while_a_question_waits(engine, clock) -> None:
    _, address = add_person(engine, "Per")
    idle = engine.handle(TextReceived(address, "hei"))
    assert "Trykk på en av knappene" not in texts(idle)[0]
    engine.handle(Command(address, "språk"))  # a language question waits for a while
    assert "Trykk på en av knappene over" in texts(engine.handle(TextReceived(address, "hei")))[0]
    clock.advance(hours=2)
    assert "Trykk på en av" not in texts(engine.handle(TextReceived(address, "hei")))[0]
    engine.open_round()
    engine.handle(Command(address, "puls"))
    waiting = engine.handle(TextReceived(address, "hei"))
    assert "Trykk på en av knappene over" in texts(waiting)[0]
    engine.close_round()  # the question still on screen can no longer be answered
    after = engine.handle(TextReceived(address, "hei"))
    assert "Trykk på en av knappene" not in texts(after)[0]


def test_the_counter_counts_planned_questions_and_a_follow_up_has_none(engine) -> None:
    """Before, answering yes to "considered quitting" turned "(7 av 7)" into "(8 av 8)"."""
    engine.open_round()
    follow_ups = 0
    for i in range(6):  # pulses differ by slot; some ask "considered quitting"
        _, address = add_person(engine, f"Siri {i}")
        seen: list[OutgoingMessage] = []

        def choose(message: OutgoingMessage, seen: list[OutgoingMessage] = seen) -> str:
            seen.append(message)
            if message.free_text:
                return "yes_text"
            return "1" if "slutte" in message.text else message.choices[0].data.split(":")[1]

        answer_all(engine, address, engine.handle(Command(address, "puls")).messages, choose)
        numbered = [m.text.split(")")[0] + ")" for m in seen if m.text.startswith("(")]
        total = len(numbered)
        assert numbered == [f"({n} av {total})" for n in range(1, total + 1)]
        # "Kan vi sitere deg anonymt?" after a comment is not one of the pulse's questions.
        asked = [m for m in seen if not m.text.startswith("Kan vi sitere deg anonymt?")]
        others = [m for m in asked if not m.text.startswith("(")]
        assert all(m.free_text for m in others)  # only a follow-up goes without a number
        follow_ups += len(others)
    assert follow_ups >= 1


def test_me_shows_short_background_labels(engine: Conversation) -> None:
    _, address = add_person(engine, "Ingrid", age_band="40-49", tenure_band="2-5")
    shown = texts(engine.handle(Command(address, "meg")))[0]
    assert "Alder 40–49 · Ansiennitet 2–5 år · Stilling 100 % · Går turnus" in shown
    assert "Hvor gammel er du?" not in shown
    _, other = add_person(engine, "Sigrid", language="nn", shifts="0")
    assert "Går ikkje turnus" in texts(engine.handle(Command(other, "meg")))[0]


def test_help_lists_working_hours(engine: Conversation) -> None:
    _, address = add_person(engine, "Turid")
    assert "/arbeidstid 14:00-22:00" in texts(engine.handle(Command(address, "hjelp")))[0]


def test_welcome_back_says_whether_there_is_anything_to_answer(engine: Conversation) -> None:
    _, address = add_person(engine, "Arne")
    first = engine.greet(address).messages[0].text
    assert "ingen åpen pulsrunde" in first and "/puls" not in first
    engine.open_round()
    back = engine.greet(address).messages  # the question itself follows, no "/puls" needed
    assert "venter på deg" in back[0].text and back[-1].choices


def test_round_close_and_digest_survive_a_skipped_municipality(
    engine: Conversation, clock, capsys: pytest.CaptureFixture[str]
) -> None:
    addresses = [
        add_person(engine, f"P{i}", municipality=None if i < 2 else "bodo")[1] for i in range(7)
    ]
    engine.open_round()
    for address in addresses:
        answer_all(engine, address, engine.handle(Command(address, "puls")).messages)
    closed = engine.close_round()
    assert closed is not None
    rounds.print_round(engine, closed.id)
    printed = capsys.readouterr().out
    assert "7 av 7" in printed, printed
    with engine.db.transaction() as session:
        digest = load_digest(session, clock(), OSLO, 5)
    assert {row.group for row in digest.participation} <= {
        "bodo",
        "",
    }  # no "nan" group ("" = not given)


def test_round_close_in_the_cli_with_skipped_background(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("BEHOLDE_LOG_LEVEL", "WARNING")
    runner = CliRunner()
    (tmp_path / "r.csv").write_text(
        "navn;kommune;yrke;alder;ansiennitet;stillingsprosent;turnus\n"
        "Kari Skip;;;;;;\nOla Bodø;Bodø;Sykepleier;30–39;2–5 år;100 %;ja\n",
        "utf-8",
    )
    assert runner.invoke(app, ["roster", "import", str(tmp_path / "r.csv")]).exit_code == 0
    assert runner.invoke(app, ["round", "open"]).exit_code == 0
    keys = "\n".join(["hopp over"] * 6 + ["1"] * 6 + ["2", "5"]) + "\n/avslutt\n"  # skip all
    chat = runner.invoke(app, ["chat", "--as", "kari skip"], input=keys)
    assert chat.exit_code == 0, chat.output
    assert "Takk! Svarene dine er lagret uten navn." in chat.output
    assert runner.invoke(app, ["chat", "--as", "Ola Bodø"], input="/avslutt\n").exit_code == 0
    closed = runner.invoke(app, ["round", "close"], terminal_width=150)
    assert closed.exit_code == 0, closed.output
    # Two people: every figure is under k, so the table says so instead of crashing.
    assert "Pulsrunde 1: bare 2 er invitert, så svarene vises ikke" in closed.output
    assert closed.exception is None


def test_a_typed_address_is_unaffected(engine: Conversation) -> None:
    # sanity: TextReceived from an unknown chat still gets "not registered"
    reply = engine.handle(TextReceived(Address("test", "nobody"), "ja"))
    assert reply.messages and "invitasjonslenke" in reply.messages[0].text
