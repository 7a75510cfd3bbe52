"""The dashboard's older rounds come from the moments sealed at close, not a full summary
each: the same numbers on the page as when every round was composed in full, the same
ledger rule (held back where the chat would hold back), and fewer cells released — never
one the full summary would not have shown. Cancelled tasks are never shown as open."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import delete, select

from bot.conversation import Conversation
from bot.dashboard.figures import DashboardData, gather
from bot.dashboard.page import render
from bot.summaries import SummaryOptions, compose, task_trends
from bot.summary_text import body
from storage import summaries as store
from storage.models import Round
from storage.network_models import TaskTeam
from storage.summary_models import ReleasedCell
from surveys.definition import Survey
from surveys.round_figures import RoundFigures
from surveys.summary import Summary
from surveys.synthetic import survey_round
from tests.conftest import FakeClock, add_person
from tests.dashboard_support import add_factor_task, experienced_mean
from tests.summary_support import EXP19, EXP21, IMPORTANCE, add_round, store_frame

OPTIONS = SummaryOptions(k=5)
# (number, answers, invited, quitting share, experienced, sealed with moments at close)
ROUNDS = [
    (1, 40, 60, 0.40, EXP19, True),
    (2, 4, 50, 0.50, EXP19, True),  # under k: nothing but "invited" shown
    (3, 33, 50, 0.30, EXP21, False),  # closed before moments were kept: read from answers
    (4, 52, 70, 0.25, EXP21, True),
    (5, 47, 70, 0.20, EXP19, True),  # the newest: composed in full
]


def seed(engine: Conversation, survey: Survey) -> dict[int, tuple[int, pd.DataFrame]]:
    out = {}
    for number, n, invited, quit_share, exp, sealed in ROUNDS:
        round_id = add_round(engine.db, number)
        frame = survey_round(survey, round_id=round_id, n=n, quit_share=quit_share,
                             position_share=0.6, experienced=exp, importance=IMPORTANCE,
                             seed=100 + number)  # fmt: skip
        store_frame(engine.db, frame, round_id, invited=invited)
        if sealed:
            with engine.db.transaction() as session:
                store.store_round_moments(session, round_id)
        out[number] = (round_id, frame)
    add_person(engine, "Siri Styring", role="steering")
    return out


def plant(engine: Conversation, rounds: dict[int, tuple[int, pd.DataFrame]]) -> None:
    """Earlier releases a few answers apart: round 1's F03 and round 4's quitting share were
    shown before at two fewer contributors, so both must stay held back."""
    with engine.db.transaction() as session:
        for number, measure, n in ((1, "factor:F03", 38), (4, "quit", 50)):
            session.add(ReleasedCell(round_id=rounds[number][0], measure=measure, group="*",
                                     contributors=n, released_on=dt.date(2027, 1, 5),
                                     source="export"))  # fmt: skip


def ledger(engine: Conversation) -> set[tuple[int, str, str, int]]:
    with engine.db.transaction() as session:
        rows = session.execute(
            select(ReleasedCell.round_id, ReleasedCell.measure, ReleasedCell.group,
                   ReleasedCell.contributors).where(ReleasedCell.source != "export")
        ).all()  # fmt: skip
    return {(int(r), str(m), str(g), int(n)) for r, m, g, n in rows}


def composed_in_full(
    engine: Conversation, survey: Survey, now: dt.datetime
) -> tuple[list[Summary], DashboardData]:
    """What the dashboard showed before: one full summary per closed round."""
    with engine.db.transaction() as session:
        closed = session.scalars(
            select(Round).where(Round.status == "closed").order_by(Round.number)
        ).all()
        summaries = [compose(session, survey, r, OPTIONS, "dashboard", now) for r in closed]
        released = {s.round_id: s for s in summaries}
        tasks = task_trends(session, survey, summaries[-1], OPTIONS, now, released)
    rounds = tuple(RoundFigures.of(s) for s in summaries)
    return summaries, DashboardData(rounds, summaries[-1], {}, tasks)


def test_the_page_shows_the_same_numbers_as_one_full_summary_per_round(
    engine: Conversation, survey: Survey, clock: FakeClock
) -> None:
    rounds = seed(engine, survey)
    add_factor_task(engine, "F01", done=2, teams=5)
    plant(engine, rounds)
    summaries, before = composed_in_full(engine, survey, clock())
    full_cells = ledger(engine)
    with engine.db.transaction() as session:  # the ledger as it was before that page
        session.execute(delete(ReleasedCell).where(ReleasedCell.source != "export"))

    with engine.db.transaction() as session:
        data = gather(session, survey, OPTIONS, clock())
    # Round by round, the same figures, held back where the full summary held them back.
    for old, new in zip(summaries, data.rounds, strict=True):
        assert (new.round_number, new.invited, new.answered) == (
            old.round_number,
            old.invited,
            old.answered,
        )
        assert new.factors == old.factors
        assert new.quit == old.quit
    r1, r2, r4 = data.rounds[0], data.rounds[1], data.rounds[3]
    assert r1.factors[2].held and r1.factors[2].experienced is None  # F03, planted
    assert r1.factors[0].experienced is not None
    assert r1.factors[0].experienced == experienced_mean(rounds[1][1], "F01")
    assert r2.answered is None and all(not f.shown for f in r2.factors) and r2.quit is None
    assert r4.quit is None and "quit" in r4.withheld and r4.factors[0].shown
    assert data.rounds[2].factors[0].shown  # the round without stored moments
    # The same page, character for character (the heatmap is the newest round's either way).
    new_page = render(DashboardData(data.rounds, data.summary, {}, data.tasks), survey, "nb", "S")
    assert new_page == render(before, survey, "nb", "S")
    assert "2 av 5 team har gjort oppgaven" in new_page
    # Fewer cells released, never one the full summaries did not release.
    light_cells = {c for c in ledger(engine) if not c[1].startswith("gap:")}  # the heatmap
    old_rounds = {rounds[n][0] for n in (1, 2, 3, 4)}
    assert light_cells <= full_cells
    assert not any(m == "participation" for r, m, _g, _n in light_cells if r in old_rounds)
    assert any(m == "participation" for r, m, _g, _n in full_cells if r in old_rounds)


def test_a_second_page_releases_nothing_new_and_differs_in_nothing(
    engine: Conversation, survey: Survey, clock: FakeClock
) -> None:
    seed(engine, survey)
    with engine.db.transaction() as session:
        first = gather(session, survey, OPTIONS, clock())
    cells = ledger(engine)
    with engine.db.transaction() as session:
        second = gather(session, survey, OPTIONS, clock())  # no cache: released again
    assert ledger(engine) == cells
    assert second.rounds == first.rounds


def test_a_cancelled_task_is_shown_as_cancelled_never_as_open(
    engine: Conversation, survey: Survey, clock: FakeClock
) -> None:
    from bot.network_tasks import cancel_task
    from storage.network_models import Task

    seed(engine, survey)
    add_factor_task(engine, "F01", done=2, teams=5)
    with engine.db.transaction() as session:
        task = session.scalars(select(Task)).one()
        cancel_task(session, clock(), task)
        statuses = sorted(session.scalars(select(TaskTeam.status)))
    assert statuses == ["cancelled"] * 3 + ["done"] * 2
    with engine.db.transaction() as session:
        data = gather(session, survey, OPTIONS, clock())
    assert data.summary is not None
    for lang, cancelled, open_ in (
        ("nb", "avlyst (2 team hadde gjort den)", "av 5 team"),
        ("nn", "avlyst (2 team hadde gjort ho)", "av 5 team"),
        ("en", "cancelled (2 teams had done it)", "of 5 teams"),
    ):
        page = render(data, survey, lang, "Siri")
        assert 'data-state="cancelled"' in page and cancelled in page
        assert open_ not in page
        post = body(data.summary, survey, lang, tasks=data.tasks)
        assert cancelled in post and open_ not in post
