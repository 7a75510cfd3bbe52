"""The project leader's Monday overview: per team tasks done, open and overdue, and the next
gathering — in the leader's chat once a week (through the outbox) and in the terminal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot import network, scheduler
from bot.cli import app
from bot.conversation import Conversation
from bot.digest import leader_digest_text, queue_leader_digests_if_due
from bot.settings import Settings
from storage import people
from storage.models import OutboxMessage, Person
from surveys.digest import TaskRow, team_tasks
from tests.conftest import OSLO, FakeClock, add_person

MONDAY_8 = dt.time(8, 0)


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=OSLO).astimezone(dt.UTC)


def plan(engine: Conversation, clock: FakeClock) -> None:
    """Three teams; a task for all (Bodø done), one for Fauske already past its due day."""
    add_person(engine, "Christel Kjerran", role="leader")
    add_person(engine, "Sigrid Nordvik", role="leader", language="nn")
    with engine.db.transaction() as session:  # a leader with no chat yet
        people.create_person(session, "Leiar Utan Chat", clock.now, role="leader")
    for name, team in (("Ingrid Hansen", "Bodø"), ("Kari Berg", "Fauske"), ("Åse Ø", "Meløy")):
        add_person(engine, name, role="team_member", team=team)
    clock.now = local(2027, 2, 1, 10, 0)
    with engine.db.transaction() as session:
        start = dt.datetime(2027, 3, 12, 9, 0, tzinfo=OSLO)
        network.add_gathering(
            session, OSLO, clock.now, "Samling 3", start, start + dt.timedelta(hours=6), "Bodø"
        )
        network.add_task(
            session, OSLO, clock.now, "Kartlegg turnus", dt.date(2027, 2, 20), "Fauske", None
        )
        task, _ = network.add_task(
            session, OSLO, clock.now, "Forbered innlegg", dt.date(2027, 3, 5), None, None
        )
        ingrid = session.scalar(select(Person).where(Person.name == "Ingrid Hansen"))
        bodo = next(r for r in network.task_rows(session, task.id) if r.team == "Bodø")
        network.mark_done(session, clock.now, bodo, task, ingrid)
    clock.now = local(2027, 3, 1, 8, 0)  # Monday morning


def test_per_team_counts_with_overdue_titles(engine: Conversation, clock: FakeClock) -> None:
    plan(engine, clock)
    with engine.db.transaction() as session:
        nb = leader_digest_text(session, clock.now, OSLO, "nb")
        nn = leader_digest_text(session, clock.now, OSLO, "nn")
        en = leader_digest_text(session, clock.now, OSLO, "en")
    assert nb.splitlines() == [
        "Ukeoversikt for prosjektleder, uke 9",
        "",
        "Oppgaver per lag:",
        "• Bodø — ferdig: 1, åpne: 0",
        "• Fauske — ferdig: 0, åpne: 1, over fristen: 1",
        "   Over fristen: Kartlegg turnus",
        "• Meløy — ferdig: 0, åpne: 1",
        "",
        "Neste samling: Samling 3, fredag 12. mars 2027 kl. 09:00, Bodø.",
    ]
    assert nn.startswith("Vekeoversikt for prosjektleiar, veke 9") and "opne: 1" in nn
    assert "• Fauske — done: 0, open: 1, overdue: 1" in en and "Overdue: Kartlegg turnus" in en
    for name in ("Ingrid", "Kari", "Christel"):  # counts only, no names
        assert name not in nb


def test_overdue_starts_the_day_after_the_due_day() -> None:
    rows = [TaskRow("Bodø", "A", dt.date(2027, 3, 5), False)]
    assert team_tasks(rows, [], dt.date(2027, 3, 5))[0].overdue == 0
    assert team_tasks(rows, [], dt.date(2027, 3, 6))[0].overdue == 1
    empty = team_tasks([], ["Meløy"], dt.date(2027, 3, 6))
    assert [(t.team, t.done, t.open, t.overdue) for t in empty] == [("Meløy", 0, 0, 0)]


def test_queued_once_a_week_for_each_leader_with_a_chat(engine: Conversation, clock) -> None:
    plan(engine, clock)

    def run(moment: dt.datetime) -> int:
        with engine.db.transaction() as session:
            return queue_leader_digests_if_due(session, moment, OSLO, 0, MONDAY_8)

    assert run(local(2027, 3, 1, 7, 59)) == 0
    assert run(local(2027, 3, 1, 8, 0)) == 2  # the leader without a chat gets none
    assert run(local(2027, 3, 1, 8, 1)) == 0
    assert run(local(2027, 3, 4, 15, 0)) == 0  # a restart later in the week
    assert run(local(2027, 3, 8, 8, 0)) == 2
    with engine.db.transaction() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.dedupe_key.like("leader-digest:%"))
            .order_by(OutboxMessage.id)
        ).all()
        texts = {(r.dedupe_key.split(":")[1], r.chat_id): r.payload["text"] for r in rows}
    assert sorted(texts) == [
        ("2027-W09", "Christel Kjerran"),
        ("2027-W09", "Sigrid Nordvik"),
        ("2027-W10", "Christel Kjerran"),
        ("2027-W10", "Sigrid Nordvik"),
    ]
    assert texts[("2027-W09", "Sigrid Nordvik")].startswith("Vekeoversikt")
    assert "uke 10" in texts[("2027-W10", "Christel Kjerran")]


def test_the_scheduler_queues_it_with_the_steering_digest(engine: Conversation, clock) -> None:
    plan(engine, clock)
    settings = Settings(database_url="sqlite://", digest_weekday=0, digest_time="08:00")
    service = SimpleNamespace(engine=engine, now=clock, settings=settings, transports={})
    state = SimpleNamespace(service=service, db=engine.db, tz=OSLO)
    assert scheduler.run_digest(state, local(2027, 3, 1, 8, 5)) == 2
    assert scheduler.run_digest(state, local(2027, 3, 1, 9, 5)) == 0


def test_network_digest_in_the_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("BEHOLDE_LOG_LEVEL", "WARNING")
    runner = CliRunner()
    roster = tmp_path / "r.csv"
    roster.write_text("navn;team\nIngrid;Bodø\nKari;Fauske\n", "utf-8")
    assert runner.invoke(app, ["roster", "import", str(roster)]).exit_code == 0
    assert (
        runner.invoke(
            app, ["oppgave", "ny", "Innlegg", "frist", "om", "to", "uker", "alle"]
        ).exit_code
        == 0
    )
    result = runner.invoke(app, ["network", "digest"])
    assert result.exit_code == 0, result.output
    assert (
        "• Bodø — ferdig: 0, åpne: 1" in result.output
        and "• Fauske — ferdig: 0, åpne: 1" in result.output
    )
    assert "Ingen samling er planlagt." in result.output
    assert "Project leader's overview" in runner.invoke(app, ["network", "digest", "--en"]).output
    assert runner.invoke(app, ["network", "nonsense"]).exit_code == 2
