"""Tasks that change (issue 14): moved, cancelled, deleted, renamed, given to other teams —
the planned reminders follow, the teams concerned are told, bad input changes nothing; the
same through `beholde oppgave …` in the terminal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.conversation import Conversation
from bot.digest import leader_digest_text
from storage.models import OutboxMessage
from storage.network_models import Reminder, Task, TaskTeam
from tests import test_network
from tests.test_network import (
    OSLO,
    last_id,
    oslo,
    outbox_rows,
    person_id,
    press,
    run_until,
    say,
    tick,
)

team = test_network.team  # the fixture: a leader, two in Bodø, one in Fauske


def reminders(engine: Conversation, task_id: int) -> list[Reminder]:
    with engine.db.transaction() as session:
        rows = list(session.scalars(select(Reminder).where(Reminder.task_id == task_id)))
        session.expunge_all()
    return rows


def new_task(engine: Conversation, team, line: str) -> int:
    say(engine, team["Christel"], line)
    return last_id(engine, Task)


def test_moving_a_task_replans_its_reminders_and_tells_the_team(engine, clock, team) -> None:
    number = new_task(engine, team, 'oppgave ny "Forbered innlegg" frist 05.03.2027 Bodø')
    assert {r.status for r in reminders(engine, number)} == {"planned"}
    reply = say(engine, team["Christel"], f"oppgave flytt {number} 19.03.2027")[0]
    assert "fredag 19. mars 2027" in reply and "2 har fått beskjed" in reply
    assert "6 nye påminnelser" in reply  # Ingrid and Elin × (7 days, 1 day, the day)
    rows = reminders(engine, number)
    assert sorted(r.status for r in rows) == ["cancelled"] * 6 + ["planned"] * 6
    assert min(r.fire_at for r in rows if r.status == "planned") == oslo(2027, 3, 12, 9, 0)
    told = outbox_rows(engine, f"t:{number}:moved:")
    assert sorted(r.chat_id for r in told) == ["Elin Nedregaard", "Ingrid Hansen"]
    assert "ny frist: fredag 19. mars 2027" in told[0].payload["text"]
    again = say(engine, team["Christel"], f"oppgave flytt {number} 19.03.2027")[0]
    assert "ingenting er endret" in again
    seen = run_until(engine, clock, oslo(2027, 3, 20), dt.timedelta(hours=2))
    times = [w.strftime("%d.%m %H:%M") for w, _ in seen["Ingrid Hansen"]]
    assert times == ["12.03 09:00", "18.03 09:00", "19.03 09:00"]  # none for 05.03
    assert "Kari Berg" not in seen


def test_bad_moves_get_one_sentence_and_change_nothing(engine, clock, team) -> None:
    number = new_task(engine, team, 'oppgave ny "Innlegg" frist 05.03.2027 alle')
    leader = team["Christel"]
    before = [(r.key, r.status) for r in reminders(engine, number)]
    cases = {
        f"oppgave flytt {number} 10.01.2027": "har alt vært",
        f"oppgave flytt {number} 31.02.2027": "ingen dag i kalenderen",
        f"oppgave flytt {number} 31.12.9999": "mer enn to år fram",
        f"oppgave flytt {number} snart": "forstod ikke datoen",
        f"oppgave flytt {number}": "forstod ikke datoen",
        f"oppgave flytt {number} 19.03.2027 fordi": "Skriv bare den nye fristen",
        "oppgave flytt 99999999999999999999 19.03.2027": "ingen med nummer",
        "oppgave flytt 999999 19.03.2027": "Fant ingen oppgave nr. 999999",
        "oppgave avlys": "Skriv nummeret på oppgaven",
        f"oppgave endre {number}": "Skriv hva som skal endres",
        f"oppgave endre {number} lag Oslo": "Kjenner ikke laget «Oslo»",
    }
    for line, expected in cases.items():
        reply = say(engine, leader, line)
        assert len(reply) == 1 and expected in reply[0], (line, reply)
    assert [(r.key, r.status) for r in reminders(engine, number)] == before
    assert outbox_rows(engine) == []


def test_cancelling_withdraws_reminders_tells_open_teams_and_leaves_the_digest(
    engine, clock, team
) -> None:
    number = new_task(engine, team, 'oppgave ny "Les rapporten" frist 05.03.2027 alle')
    clock.now = oslo(2027, 2, 26, 9, 0)
    tick(engine, clock)  # the 7-day reminders are queued, not yet sent
    assert {r.status for r in outbox_rows(engine, "rem:")} == {"pending"}
    reply = say(engine, team["Christel"], f"oppgave avlys {number}")[0]
    assert "er avlyst" in reply and "3 har fått beskjed" in reply
    assert {r.status for r in outbox_rows(engine, "rem:")} == {"dropped"}
    assert {r.status for r in reminders(engine, number)} <= {"cancelled", "queued"}
    assert "(avlyst)" in say(engine, team["Christel"], "oppgave liste")[0]
    status = say(engine, team["Christel"], f"oppgave status {number}")[0]
    assert "Bodø: (avlyst)" in status and "åpen" not in status
    reminded = say(engine, team["Christel"], f"påminn oppgave {number}")[0]
    assert "er avlyst" in reminded and not outbox_rows(engine, f"t:{number}:now:")
    assert (
        "avlyst og kan ikke endres" in say(engine, team["Christel"], f"oppgave avlys {number}")[0]
    )
    assert run_until(engine, clock, oslo(2027, 3, 6), dt.timedelta(hours=6)) == {}
    with engine.db.transaction() as session:
        digest = leader_digest_text(session, clock.now, OSLO, "nb")
    assert "• Bodø — ferdig: 0, åpne: 0" in digest and "over fristen" not in digest


def test_deleting_asks_first_then_removes_task_and_its_buttons(engine, clock, team) -> None:
    number = new_task(engine, team, 'oppgave ny "Feil oppgave" frist 05.03.2027 Fauske')
    clock.now = oslo(2027, 2, 26, 9, 0)
    tick(engine, clock)
    button_row = next(r for r in outbox_rows(engine, "rem:") if r.chat_id == "Kari Berg")
    asked = say(engine, team["Christel"], f"oppgave slett {number}")[0]
    assert f"/oppgave slett {number} ja" in asked
    with engine.db.transaction() as session:
        assert session.get(Task, number) is not None  # asking deletes nothing
    done = say(engine, team["Christel"], f"oppgave slett {number} ja")[0]
    assert "er slettet" in done and "1 har fått beskjed" in done
    with engine.db.transaction() as session:
        assert session.get(Task, number) is None
        assert session.scalars(select(TaskTeam).where(TaskTeam.task_id == number)).all() == []
    assert reminders(engine, number) == []
    assert {r.status for r in outbox_rows(engine, "rem:")} == {"dropped"}
    reply = press(engine, "Kari Berg", button_row, "Ferdig")
    assert reply.edit is not None and "finnes ikke lenger" in reply.edit.text
    assert "Fant ingen oppgave" in say(engine, team["Christel"], f"oppgave slett {number} ja")[0]


def test_editing_title_description_and_team(engine, clock, team) -> None:
    number = new_task(engine, team, 'oppgave ny "Innlegg" frist 05.03.2027 Bodø')
    leader = team["Christel"]
    reply = say(engine, leader, f'oppgave endre {number} tittel "Innlegg på samling 3"')[0]
    assert "heter nå «Innlegg på samling 3»" in reply and "2 har fått beskjed" in reply
    renamed = outbox_rows(engine, f"t:{number}:title:")
    assert "«Innlegg» heter nå «Innlegg på samling 3»" in renamed[0].payload["text"]
    reply = say(engine, leader, f"oppgave endre {number} beskrivelse Ti minutter om turnus")[0]
    assert "Beskrivelsen" in reply
    reply = say(engine, leader, f"oppgave endre {number} lag Fauske")[0]
    assert "gjelder nå Fauske" in reply and "3 har fått beskjed" in reply
    assert "3 nye påminnelser" in reply
    by_person = {}
    for r in reminders(engine, number):
        by_person.setdefault(r.person_id, set()).add(r.status)
    assert by_person[person_id(engine, "Kari Berg")] == {"planned"}
    assert by_person[person_id(engine, "Ingrid Hansen")] == {"cancelled"}
    told = {r.chat_id: r.payload["text"] for r in outbox_rows(engine, f"t:{number}:")}
    assert "gjelder ikke lenger laget ditt" in told["Ingrid Hansen"]
    assert "Ny oppgave for laget ditt" in told["Kari Berg"]
    clock.now = oslo(2027, 2, 26, 9, 0)
    tick(engine, clock)
    texts = {r.chat_id: r.payload["text"] for r in outbox_rows(engine, "rem:")}
    assert set(texts) == {"Kari Berg"} and "Ti minutter om turnus" in texts["Kari Berg"]
    assert "Innlegg på samling 3" in texts["Kari Berg"]


def test_members_cannot_change_tasks(engine, clock, team) -> None:
    number = new_task(engine, team, 'oppgave ny "Innlegg" frist 05.03.2027 alle')
    for line in (f"oppgave avlys {number}", f"oppgave slett {number} ja", "oppgave ny X"):
        assert "bare for prosjektleder" in say(engine, team["Ingrid"], line)[0]
    with engine.db.transaction() as session:
        assert {r.status for r in session.scalars(select(TaskTeam))} == {"open"}
        assert session.scalars(select(OutboxMessage)).all() == []


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("BEHOLDE_LOG_LEVEL", "WARNING")
    runner = CliRunner()
    roster = tmp_path / "r.csv"
    roster.write_text("navn;team\nIngrid;Bodø\nKari;Fauske\n", "utf-8")
    assert runner.invoke(app, ["roster", "import", str(roster)]).exit_code == 0
    return runner


def test_the_same_in_the_terminal(cli: CliRunner) -> None:
    help_text = cli.invoke(app, ["oppgave", "--help"]).output
    assert all(word in help_text for word in ("flytt", "avlys", "slett", "endre"))
    made = cli.invoke(app, ["oppgave", "ny", "Innlegg", "frist", "om", "to", "uker", "alle"])
    assert made.exit_code == 0 and "Oppgave 1" in made.output
    moved = cli.invoke(app, ["oppgave", "flytt", "1", "om", "tre", "uker"])
    assert moved.exit_code == 0 and "ny frist" in moved.output, moved.output
    renamed = cli.invoke(app, ["oppgave", "endre", "1", "tittel", "Innlegg om turnus"])
    assert "heter nå «Innlegg om turnus»" in renamed.output
    huge = cli.invoke(app, ["oppgave", "avlys", "99999999999999999999"])
    assert "ingen med nummer" in huge.output and "Traceback" not in huge.output
    assert "er avlyst" in cli.invoke(app, ["oppgave", "avlys", "1"]).output
    asked = cli.invoke(app, ["oppgave", "slett", "1"]).output
    assert "slett 1 ja" in asked
    assert "er slettet" in cli.invoke(app, ["oppgave", "slett", "1", "ja"]).output
    assert "Ingen oppgaver" in cli.invoke(app, ["oppgave", "liste"]).output
    nested = cli.invoke(
        app, ["network", "oppgave", "ny", "Les", "frist", "om", "ti", "dager", "alle"]
    )
    assert nested.exit_code == 0 and "Oppgave 1 «Les»" in nested.output, nested.output
    moved = cli.invoke(app, ["network", "oppgave", "flytt", "1", "om", "tre", "uker"])
    assert "ny frist" in moved.output
    assert (
        "heter nå «Lese»"
        in cli.invoke(
            app, ["network", "task", "edit", "1", "title", "Lese", "--language", "nb"]
        ).output
    )
    assert cli.invoke(app, ["network", "nonsense"]).exit_code == 2
