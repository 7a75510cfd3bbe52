"""Every team member sees their own team's plan (issue 14): /samlinger and /oppgaver with
end time, place, link, tema and programme; they mark their team's part done by button or
typed `/oppgave ferdig N`; someone who joins a team later gets the reminders planned before."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.conversation import Conversation
from bot.ports import Address, ChoicePressed, Command
from storage.network_models import Gathering, Reminder, Task, TaskTeam
from tests import test_network
from tests.conftest import add_person
from tests.test_network import (
    OSLO,
    last_id,
    oslo,
    outbox_rows,
    person_id,
    say,
    tick,
)

team = test_network.team  # the fixture: a leader, two in Bodø, one in Fauske


def plan(engine: Conversation, team) -> tuple[int, int]:
    leader = team["Christel"]
    say(engine, leader, 'samling ny "Samling 3: Turnus" 12.03.2027 09:00-15:30 Fauske rådhus')
    g = last_id(engine, Gathering)
    say(engine, leader, f"samling tema {g} Heltid og turnus")
    say(engine, leader, f"samling program {g} 09:00 Velkommen · 10:00 Lagene legger fram")
    say(engine, leader, 'oppgave ny "Forbered innlegg" frist 05.03.2027 Bodø Ti minutter')
    say(engine, leader, 'oppgave ny "Kartlegg turnus" frist 19.02.2027 Fauske')
    return g, last_id(engine, Task) - 1


def test_a_member_sees_the_teams_gatherings_in_full(engine, clock, team) -> None:
    plan(engine, team)
    reply = engine.handle(Command(team["Ingrid"], "samlinger", ()))
    text = reply.messages[0].text
    assert "Samling 3: Turnus" in text and "fredag 12. mars 2027 kl. 09:00–15:30" in text
    assert "Sted: Fauske rådhus" in text and "Tema: Heltid og turnus" in text
    assert "Program: 09:00 Velkommen" in text
    assert "Ditt svar på «Kommer du?»: ikke svart" in text
    assert "Påmelding per lag" not in text  # counts are the leader's only
    nn = Address("test", "Nils")
    add_person(engine, "Nils", team="Fauske", language="nn")
    nn_text = engine.handle(Command(nn, "samlinger", ())).messages[0].text
    assert "Svaret ditt på «Kjem du?»: ikkje svart" in nn_text


def test_a_member_sees_only_the_teams_open_tasks_with_buttons(engine, clock, team) -> None:
    plan(engine, team)
    reply = engine.handle(Command(team["Ingrid"], "oppgaver", ()))
    texts = [m.text for m in reply.messages]
    assert "Åpne oppgaver for Bodø" in texts[0]
    assert any("Forbered innlegg" in t and "Ti minutter" in t for t in texts[1:])
    assert not any("Kartlegg turnus" in t for t in texts)  # Fauske's
    labels = [c.label for c in reply.messages[1].choices]
    assert labels == ["Ferdig", "Utsett"]
    pressed = engine.handle(ChoicePressed(team["Ingrid"], reply.messages[1].choices[0].data))
    assert pressed.edit is not None and "ferdig for Bodø" in pressed.edit.text
    after = engine.handle(Command(team["Elin"], "oppgaver", ())).messages[0].text
    assert "Bodø har ingen åpne oppgaver" in after


def test_typed_done_marks_the_own_teams_part_only(engine, clock, team) -> None:
    _, bodo_task = plan(engine, team)
    fauske_task = bodo_task + 1
    assert (
        "ikke en oppgave for Bodø"
        in say(engine, team["Ingrid"], f"oppgave ferdig {fauske_task}")[0]
    )
    reply = say(engine, team["Ingrid"], f"oppgave ferdig {bodo_task}")[0]
    assert "ferdig for Bodø" in reply
    assert (
        "allerede markert som ferdig av Ingrid Hansen"
        in say(engine, team["Elin"], f"oppgave ferdig {bodo_task}")[0]
    )
    assert "Fant ingen oppgave" in say(engine, team["Ingrid"], "oppgave ferdig 999999")[0]
    assert (
        "ingen med nummer" in say(engine, team["Ingrid"], "oppgave ferdig 99999999999999999999")[0]
    )
    with engine.db.transaction() as session:
        statuses = {r.team: r.status for r in session.scalars(select(TaskTeam))}
    assert statuses == {"Bodø": "done", "Fauske": "open"}
    told = outbox_rows(engine, f"t:{bodo_task}:done:")
    assert [r.chat_id for r in told] == ["Elin Nedregaard"]


def test_someone_without_a_team_gets_a_sentence_and_the_leader_the_full_list(
    engine, clock, team
) -> None:
    plan(engine, team)
    _, loner = add_person(engine, "Ola Uten Lag")
    for command in ("samlinger", "oppgaver"):
        reply = engine.handle(Command(loner, command, ()))
        assert "står ikke i noe lag" in reply.messages[0].text
    assert (
        "ikke i noe lag"
        in engine.handle(Command(loner, "oppgave", ("ferdig", "1"))).messages[0].text
    )
    leader = engine.handle(Command(team["Christel"], "oppgaver", ())).messages[0].text
    assert "Forbered innlegg" in leader and "Kartlegg turnus" in leader
    listed = engine.handle(Command(team["Christel"], "samlinger", ())).messages[0].text
    assert "09:00–15:30" in listed and "Tema: Heltid og turnus" in listed


def test_the_card_and_the_reminders_show_end_time_tema_and_programme(engine, clock, team) -> None:
    g, _ = plan(engine, team)
    card = say(engine, team["Christel"], f"samling vis {g}")[0]
    assert "kl. 09:00–15:30" in card and "Tema: Heltid og turnus" in card
    assert "Program: 09:00 Velkommen · 10:00 Lagene legger fram" in card
    assert "Påmelding per lag (bare for deg som prosjektleder): ingen svar ennå" in card
    clock.now = oslo(2027, 2, 26, 9, 0)
    tick(engine, clock)
    first = next(
        r.payload["text"]
        for r in outbox_rows(engine, "rem:")
        if r.chat_id == "Kari Berg" and r.dedupe_key.endswith(":0")
    )
    assert "09:00–15:30" in first and "Tema: Heltid og turnus" in first and "Program:" in first


def test_someone_who_joins_later_gets_the_reminders_planned_before(
    engine, clock, team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan(engine, team)
    clock.now = oslo(2027, 2, 1, 10, 0)
    # Joins Bodø later, through the same roster import the CLI runs.
    from bot.network import plan_for_newcomers

    add_person(engine, "Siri Ny", team="Bodø")
    newcomer = person_id(engine, "Siri Ny")
    with engine.db.transaction() as session:
        assert not session.scalars(select(Reminder).where(Reminder.person_id == newcomer)).all()
        added = plan_for_newcomers(session, OSLO, clock.now)
        again = plan_for_newcomers(session, OSLO, clock.now)
        steps = sorted(
            (r.kind, r.step)
            for r in session.scalars(select(Reminder).where(Reminder.person_id == newcomer))
        )
    assert added == 6 and again == 0  # nothing twice, for her or anyone else
    assert steps == [("gathering", "d0"), ("gathering", "d14"), ("gathering", "d2"),
                     ("task", "d0"), ("task", "d1"), ("task", "d7")]  # fmt: skip


def test_roster_import_plans_for_late_joiners(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("BEHOLDE_LOG_LEVEL", "WARNING")
    runner = CliRunner()
    roster = tmp_path / "r.csv"
    roster.write_text("navn;team\nIngrid;Bodø\n", "utf-8")
    assert runner.invoke(app, ["roster", "import", str(roster)]).exit_code == 0
    made = runner.invoke(app, ["oppgave", "ny", "Innlegg", "frist", "om", "to", "uker", "alle"])
    assert made.exit_code == 0
    roster.write_text("navn;team\nIngrid;Bodø\nKari;Bodø\n", "utf-8")
    assert runner.invoke(app, ["roster", "import", str(roster)]).exit_code == 0
    from sqlalchemy import create_engine

    db = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with db.connect() as conn:
        rows = conn.execute(select(Reminder.person_id, Reminder.step)).all()
    db.dispose()
    # Kari joined after the task was planned: she has her own plan now (and Ingrid one plan).
    assert sorted(rows) == [(1, "d0"), (1, "d1"), (1, "d7"), (2, "d0"), (2, "d1"), (2, "d7")]


async def test_slack_roster_sync_plans_for_someone_found_later(engine, clock, team) -> None:
    from bot.slack_roster import sync_slack_roster
    from bot.transports.slack_sender import SlackSender, make_client
    from storage import people
    from tests.fakes.slack_api import FakeSlack

    plan(engine, team)
    with engine.db.transaction() as session:  # in Fauske, but had stopped when it was planned
        person = people.create_person(
            session, "Siv Slack", clock.now, team="Fauske", email="siv@fauske.kommune.no"
        )
        person.status = "stopped"
        siv = person.id
    with engine.db.transaction() as session:
        assert not session.scalars(select(Reminder).where(Reminder.person_id == siv)).all()
        session.get(type(person), siv).status = "active"
    api = FakeSlack()
    await api.start()
    try:
        api.add_user("siv@fauske.kommune.no", "USIV")
        result = await sync_slack_roster(engine, SlackSender(make_client(api.token, api.base_url)))
    finally:
        await api.stop()
    assert result.matched == 1
    with engine.db.transaction() as session:
        steps = sorted(
            (r.kind, r.step)
            for r in session.scalars(select(Reminder).where(Reminder.person_id == siv))
        )
    assert ("gathering", "d14") in steps and ("task", "d7") in steps


def test_a_members_samling_liste_is_their_own_view_and_changes_are_refused(
    engine, clock, team
) -> None:
    g, task = plan(engine, team)
    listed = say(engine, team["Ingrid"], "samling liste")[0]
    assert "Samling 3: Turnus" in listed and "Ditt svar på «Kommer du?»" in listed
    card = say(engine, team["Ingrid"], f"samling vis {g}")[0]
    assert "Tema: Heltid og turnus" in card and "Påmelding per lag" not in card
    assert "Fant ingen samling nr. 999" in say(engine, team["Ingrid"], "samling vis 999")[0]
    for line in (f"samling avlys {g}", f"samling holdt {g} Bodø=9", "samling ny X i morgen 10:00"):
        refused = say(engine, team["Ingrid"], line)[0]
        assert "bare for prosjektleder" in refused and "/samlinger" in refused
    with engine.db.transaction() as session:
        assert [x.status for x in session.scalars(select(Gathering))] == ["planned"]
    leader = say(engine, team["Christel"], f"oppgave ferdig {task}")[0]
    assert "markeres av laget selv" in leader


def test_an_end_time_nobody_gave_is_not_shown(engine, clock, team) -> None:
    say(engine, team["Christel"], "samling ny Nettmøte 12.03.2027 10:00 Teams")
    g = last_id(engine, Gathering)
    listed = say(engine, team["Christel"], "samling liste")[0]
    assert "fredag 12. mars 2027 kl. 10:00, Teams" in listed and "–16:00" not in listed
    say(engine, team["Christel"], f"samling flytt {g} 19.03.2027 10:00-12:00")
    card = say(engine, team["Christel"], f"samling vis {g}")[0]
    assert "fredag 19. mars 2027 kl. 10:00–12:00" in card
