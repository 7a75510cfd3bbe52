"""Leader commands read dates as people write them, and answer impossible input clearly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.conversation import Conversation
from bot.ports import Address, Command
from storage.network_models import Gathering, Reminder, Task
from tests.conftest import OSLO, FakeClock, add_person


@pytest.fixture
def leaders(engine: Conversation) -> dict[str, Address]:
    """A bokmål and a nynorsk project leader and one team member per team."""
    _, nb = add_person(engine, "Christel Kjerran", role="leader")
    _, nn = add_person(engine, "Sigrid Nordvik", role="leader", language="nn")
    add_person(engine, "Ingrid Hansen", role="team_member", team="Bodø")
    add_person(engine, "Kari Berg", role="team_member", team="Fauske")
    return {"nb": nb, "nn": nn}


def say(engine: Conversation, address: Address, line: str) -> str:
    name, *args = line.split()
    reply = engine.handle(Command(address, name, tuple(args)))
    return "\n".join(m.text for m in reply.messages)


def gatherings(engine: Conversation) -> list[tuple[str, dt.datetime, str | None]]:
    with engine.db.transaction() as session:
        rows = session.scalars(select(Gathering).order_by(Gathering.id))
        return [(g.title, g.starts_at.astimezone(OSLO), g.place) for g in rows]


def test_a_quoted_title_ends_at_the_quote_and_neste_tirsdag_is_read(engine, leaders) -> None:
    reply = say(engine, leaders["nb"], 'samling ny "Samling 2: Turnus" neste tirsdag 10:00 Fauske')
    assert "«Samling 2: Turnus»" in reply and "tirsdag 19. januar 2027 kl. 10:00" in reply
    assert gatherings(engine) == [
        ("Samling 2: Turnus", dt.datetime(2027, 1, 19, 10, 0, tzinfo=OSLO), "Fauske")
    ]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("12. januar 14:00", dt.datetime(2027, 1, 12, 14, 0)),  # later today
        ("12. jan 2028 kl. 9", dt.datetime(2028, 1, 12, 9, 0)),
        ("om to uker 09:00", dt.datetime(2027, 1, 26, 9, 0)),
        ("om 3 dager 12:30", dt.datetime(2027, 1, 15, 12, 30)),
        ("i overmorgen 08:00-15:00", dt.datetime(2027, 1, 14, 8, 0)),
        ("fredag 10", dt.datetime(2027, 1, 15, 10, 0)),
        ("12.2. 10:00", dt.datetime(2027, 2, 12, 10, 0)),
        ("12/2 10:00", dt.datetime(2027, 2, 12, 10, 0)),
        ("2027-03-12 09:00", dt.datetime(2027, 3, 12, 9, 0)),
    ],
)
def test_gathering_dates_in_the_forms_people_write(engine, leaders, words, expected) -> None:
    reply = say(engine, leaders["nb"], f"samling ny Fagdag {words} Bodø")
    assert "er lagt inn" in reply, reply
    assert gatherings(engine) == [("Fagdag", expected.replace(tzinfo=OSLO), "Bodø")]


def test_nynorsk_dates_and_a_task_due_in_two_weeks(engine, leaders) -> None:
    reply = say(engine, leaders["nn"], "samling ny Nettmøte neste tysdag 10:00 Teams")
    assert gatherings(engine)[0][:2] == ("Nettmøte", dt.datetime(2027, 1, 19, 10, 0, tzinfo=OSLO))
    reply = say(engine, leaders["nn"], 'oppgave ny "Førebu innlegg" frist om to veker alle')
    with engine.db.transaction() as session:
        task = session.scalars(select(Task)).one()
        assert (task.title, task.due_on) == ("Førebu innlegg", dt.date(2027, 1, 26))
    assert reply


@pytest.mark.parametrize(
    ("lang", "words", "reason"),
    [
        ("nb", "31.02 10:00", "«31.02» er ingen dag i kalenderen"),
        ("nb", "32.13.2027 09:00", "«32.13.2027» er ingen dag i kalenderen"),
        ("nb", "11.01.2027 10:00", "«11.01.2027» har alt vært"),
        ("nb", "31.12.9999 10:00", "«31.12.9999» er mer enn to år fram i tid (senest"),
        ("nb", "2099-01-01T10:00", "mer enn to år fram i tid"),
        ("nn", "31.02 10:00", "«31.02» er ingen dag i kalenderen. Sjekk dag og månad."),
        ("nn", "31.12.9999 10:00", "er meir enn to år fram i tid (seinast fredag 12. januar 2029)"),
    ],
)
def test_impossible_past_and_far_dates_get_a_reason_and_store_nothing(
    engine, leaders, lang, words, reason
) -> None:
    assert reason in say(engine, leaders[lang], f"samling ny Fagdag {words} Bodø")
    assert reason.split("»")[0] in say(engine, leaders[lang], f"oppgave ny X frist {words} alle")
    with engine.db.transaction() as session:
        assert session.scalars(select(Gathering)).all() == []
        assert session.scalars(select(Task)).all() == []
        assert session.scalars(select(Reminder)).all() == []


def test_a_date_without_a_time_asks_for_the_time(engine, leaders) -> None:
    reply = say(engine, leaders["nb"], "samling ny Fagdag i morgen Bodø")
    assert (
        reply == "Skriv også klokkeslettet, f.eks. «i morgen 10:00» eller «i morgen 09:00-15:00»."
    )
    assert "Skriv òg klokkeslettet" in say(engine, leaders["nn"], "samling ny Fagdag fredag Bodø")
    assert gatherings(engine) == []


def test_moving_to_an_impossible_date_changes_nothing(engine, leaders) -> None:
    say(engine, leaders["nb"], "samling ny Fagdag 12.03.2027 09:00 Bodø")
    before = gatherings(engine)
    with engine.db.transaction() as session:
        number = session.scalars(select(Gathering.id)).one()
    assert "har alt vært" in say(engine, leaders["nb"], f"samling flytt {number} 1.1.2027")
    assert "mer enn to år" in say(engine, leaders["nb"], f"samling flytt {number} 31.12.9999")
    assert gatherings(engine) == before


@pytest.mark.parametrize(
    "line",
    [
        "samling avlys 99999999999999999999",
        "samling flytt 99999999999999999999 i morgen 10:00",
        "samling holdt #99999999999999999999",
        "oppgave status 99999999999999999999",
        "påminn samling 99999999999999999999",
        "påminn oppgave 99999999999999999999 Bodø",
    ],
)
def test_huge_numbers_get_a_sentence_not_an_overflow(engine, leaders, line) -> None:
    assert "Det finnes ingen med nummer 99999999999999999999" in say(engine, leaders["nb"], line)


def test_the_cli_keeps_quoted_titles_and_answers_huge_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("BEHOLDE_LOG_LEVEL", "WARNING")
    runner = CliRunner()
    result = runner.invoke(
        app, ["samling", "ny", "Samling 2: Turnus", "neste", "tirsdag", "10:00", "Fauske"]
    )
    assert result.exit_code == 0, result.output
    assert "«Samling 2: Turnus»" in result.output and "kl. 10:00, Fauske" in result.output
    result = runner.invoke(app, ["samling", "avlys", "99999999999999999999"])
    assert result.exit_code == 0 and result.exception is None
    assert "Det finnes ingen med nummer" in result.output
    result = runner.invoke(app, ["oppgave", "ny", "X", "frist", "31.12.9999", "alle"])
    assert result.exception is None and "mer enn to år" in result.output


def test_yesterday_is_told_it_has_passed_not_misunderstood(engine, leaders) -> None:
    reply = say(engine, leaders["nb"], "samling ny Samling i går 10:00 Bodø")
    assert "«i går» har alt vært" in reply
    reply = say(engine, leaders["nn"], 'oppgave ny "Innlegg" frist i forgårs alle')
    assert "«i forgårs» har alt vore" in reply
    assert gatherings(engine) == []
