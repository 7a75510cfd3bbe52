"""From priority to task: `oppgave ny fra prioritet 1 frist 12.02 alle` ties a task to the
summary's first priority; the dashboard shows that factor's trend beside the task's status.
And `/styring` in chat: a personal link for the steering group only."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.conversation import Conversation
from bot.dashboard.figures import gather
from bot.dashboard.page import render
from bot.ports import Address, Command
from bot.summaries import SummaryOptions, report
from bot.summary_text import num
from storage import dashboard as store
from storage.models import Round
from storage.network_models import Task, TaskTeam
from surveys.definition import Survey
from surveys.synthetic import survey_round
from tests.conftest import FakeClock, add_person
from tests.dashboard_support import experienced_mean, seed_rounds
from tests.summary_support import EXP19, EXP21, IMPORTANCE, add_round, store_frame


def say(engine: Conversation, address: Address, line: str) -> list[str]:
    name, *args = line.split()
    return [m.text for m in engine.handle(Command(address, name, tuple(args))).messages]


def largest_gap(frame: pd.DataFrame) -> str:
    """The factor with the largest mean importance − experienced, from the raw answers."""
    values = frame.assign(value=pd.to_numeric(frame["value"]))
    scales = values.loc[values["question_id"].str.contains(r"^F\d+\.(?:exp|imp)$")]
    means = scales.groupby("question_id")["value"].mean()
    factors = {q.split(".")[0] for q in means.index}
    return max(factors, key=lambda f: means[f"{f}.imp"] - means[f"{f}.exp"])


def later_round(
    engine: Conversation, survey: Survey, clock: FakeClock, number: int, seed: int
) -> pd.DataFrame:
    """A round that opens after now and closes three weeks later (the clock moves there)."""
    round_id = add_round(engine.db, number)
    start = clock()
    with engine.db.transaction() as session:
        round_ = session.get(Round, round_id)
        assert round_ is not None
        round_.opened_at = start + dt.timedelta(days=1)
        round_.closes_at = round_.closed_at = start + dt.timedelta(days=21)
    frame = survey_round(survey, round_id=round_id, n=60, quit_share=0.2, position_share=0.6,
                         experienced=EXP21, importance=IMPORTANCE, seed=seed)  # fmt: skip
    store_frame(engine.db, frame, round_id, invited=70)
    clock.advance(days=22)
    return frame


def test_task_from_priority_and_its_trend_on_the_dashboard(
    engine: Conversation, survey: Survey, clock: FakeClock
) -> None:
    setup = seed_rounds(engine, survey)
    _, leader = add_person(engine, "Christel Kjerran", role="leader")
    add_person(engine, "Ingrid Hansen", role="team_member", team="Bodø")
    add_person(engine, "Kari Berg", role="team_member", team="Fauske")

    missing = say(engine, leader, "oppgave ny fra prioritet 9 frist 12.02 alle")
    assert "ingen prioritet 9" in missing[0]
    with engine.db.transaction() as session:
        assert session.scalars(select(Task)).all() == []  # nothing created

    reply = say(engine, leader, "oppgave ny fra prioritet 1 frist 12.02 alle")
    top = largest_gap(setup.frames[2])
    label = survey.factor(top).short["nb"]
    assert f"«Ta tak i {label}» for alle lag, frist" in reply[0]
    assert f"Knyttet til prioriteten {label} fra runde 2" in reply[1]
    with engine.db.transaction() as session:
        task = session.scalars(select(Task)).one()
        assert task.factor_id == top and task.due_on == dt.date(2027, 2, 12)
        bodo = session.scalars(select(TaskTeam).where(TaskTeam.team == "Bodø")).one()
        bodo.status = "done"
        round_ = session.scalars(select(Round).where(Round.number == 2)).one()
        summary = report(session, engine.survey, round_, SummaryOptions(k=5), "print", clock())
    # Made after round 2 closed: round 2 is the task's "before", so no trend yet (not 1 → 2).
    now2 = num(experienced_mean(setup.frames[2], top), "nb")
    assert f"«Ta tak i {label}»: 1 av 2 team har gjort oppgaven; opplevd {label.lower()} nå " \
           f"{now2}." in summary  # fmt: skip
    assert "før oppgaven" not in summary

    # Round 3 closes three weeks later: the trend is round 2 (before the task) → round 3.
    frame3 = later_round(engine, survey, clock, 3, seed=13)
    with engine.db.transaction() as session:
        data = gather(session, engine.survey, SummaryOptions(k=5), clock())
        html = render(data, engine.survey, "nb", "Siri")
        round_ = session.scalars(select(Round).where(Round.number == 3)).one()
        summary = report(session, engine.survey, round_, SummaryOptions(k=5), "print", clock())
    now3 = num(experienced_mean(frame3, top), "nb")
    trend = (f"1 av 2 team har gjort oppgaven; opplevd {label.lower()} {now2} → {now3} "
             "(runde 2, før oppgaven → runde 3)")  # fmt: skip
    assert trend in html
    assert f"«Ta tak i {label}»: {trend}." in summary  # the next summaries show it too

    titled = say(engine, leader, 'oppgave ny fra prioritet 2 "Lederforum" frist 12.02 Fauske')
    assert "«Lederforum» for Fauske" in titled[0]


def test_a_typed_priority_task_without_a_date_takes_the_buttons_default(
    engine: Conversation, survey: Survey, clock: FakeClock
) -> None:
    """`oppgave ny fra prioritet 1` with no `frist`: due in 14 days when no gathering is
    planned (the reply says which date and why), as the button under the summary does."""
    seed_rounds(engine, survey)
    _, leader = add_person(engine, "Christel Kjerran", role="leader")
    add_person(engine, "Ingrid Hansen", role="team_member", team="Bodø")
    reply = say(engine, leader, "oppgave ny fra prioritet 1")
    due = clock().astimezone(engine.config.tz).date() + dt.timedelta(days=14)
    assert f"{due:%d.%m.%Y}" in reply[-1] and "14" in reply[-1]
    with engine.db.transaction() as session:
        task = session.scalars(select(Task)).one()
        assert task.due_on == due and task.factor_id is not None
    with_team = say(engine, leader, "oppgave ny fra prioritet 2 Bodø")
    assert "for Bodø" in with_team[0]


def test_styring_gives_a_link_only_to_the_steering_group(
    engine: Conversation, clock: FakeClock
) -> None:
    _, steering = add_person(engine, "Siri Styring", role="steering")
    _, employee = add_person(engine, "Erik Ansatt", role="employee")
    refused = say(engine, employee, "styring")
    assert not any("/styring/inn?t=" in line for line in refused)
    reply = say(engine, steering, "styring")
    assert "Den virker én gang, i 15 minutter" in reply[0]
    token = reply[0].split("?t=", 1)[1].strip()
    with engine.db.transaction() as session:
        assert store.redeem_link(session, token, clock()) is not None
        assert store.redeem_link(session, token, clock()) is None


def test_cli_task_from_priority(tmp_path, survey: Survey, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli import app
    from storage import people
    from storage.db import Database

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db = Database(url)
    db.upgrade()
    round_id = add_round(db, 1)
    frame = survey_round(survey, round_id=round_id, n=40, quit_share=0.3, position_share=0.6,
                         experienced=EXP19, importance=IMPORTANCE, seed=3)  # fmt: skip
    store_frame(db, frame, round_id)
    with db.transaction() as session:
        now = dt.datetime(2027, 1, 12, tzinfo=dt.UTC)
        people.create_person(session, "Ingrid", now, role="team_member", team="Bodø")
    db.dispose()
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    due = f"12.02.{dt.date.today().year + 1}"  # the CLI runs on today's clock
    result = CliRunner().invoke(app, ["oppgave", "ny", "fra", "prioritet", "1", "frist",
                                      due, "alle"])  # fmt: skip
    assert result.exit_code == 0, result.output
    label = survey.factor(largest_gap(frame)).short["nb"]
    assert f"Knyttet til prioriteten {label} fra runde 1" in result.output


def test_task_trend_runs_from_the_round_before_the_task_not_the_last_two(
    engine: Conversation, survey: Survey, clock: FakeClock
) -> None:
    """A task made between rounds 1 and 2 is measured from round 1 to the newest (3)."""
    from tests.dashboard_support import add_factor_task

    setup = seed_rounds(engine, survey)
    title = add_factor_task(engine, "F03", done=3, teams=5)
    with engine.db.transaction() as session:
        first = session.scalars(select(Round).where(Round.number == 1)).one()
        first.closed_at = clock() - dt.timedelta(days=14)
        task = session.scalars(select(Task)).one()
        task.created_at = clock() - dt.timedelta(days=7)  # after round 1, before round 2 closed
    frame3 = later_round(engine, survey, clock, 3, seed=21)
    with engine.db.transaction() as session:
        round_ = session.scalars(select(Round).where(Round.number == 3)).one()
        summary = report(session, engine.survey, round_, SummaryOptions(k=5), "print", clock())
        html = render(gather(session, engine.survey, SummaryOptions(k=5), clock()),
                      engine.survey, "nb", "Siri")  # fmt: skip
    label = survey.factor("F03").short["nb"].lower()
    before = num(experienced_mean(setup.frames[1], "F03"), "nb")
    now = num(experienced_mean(frame3, "F03"), "nb")
    trend = f"3 av 5 team har gjort oppgaven; opplevd {label} {before} → {now} (runde 1, før"
    assert f"«{title}»: {trend} oppgaven → runde 3)." in summary
    assert trend in html
