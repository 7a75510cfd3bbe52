"""Trends read the sufficient statistics stored when each round was sealed."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from bot.conversation import Conversation
from bot.ports import Command
from storage import summaries as store
from storage.db import Database
from storage.models import Response
from storage.summary_models import RoundMoment
from surveys.definition import Survey
from surveys.summary import factor_moments
from surveys.synthetic import survey_round
from tests.conftest import add_person
from tests.pulse_helpers import answer_all
from tests.summary_support import EXP19, IMPORTANCE, add_round, store_frame

COLUMNS = ["n", "sum_e", "sum_e2", "sum_i", "sum_i2", "sum_d", "sum_d2"]


def test_closing_a_round_stores_its_moments_and_the_trend_reads_them(
    engine: Conversation,
) -> None:
    addresses = [add_person(engine, f"P{i}", municipality=("bodo", "fauske")[i % 2])[1]
                 for i in range(12)]  # fmt: skip
    engine.open_round()

    def pick(message, i: int) -> str:
        choices = message.choices
        return choices[-1 if message.free_text else i % len(choices)].data.split(":")[1]

    for i, address in enumerate(addresses):
        first = engine.handle(Command(address, "puls")).messages
        answer_all(engine, address, first, choose=lambda m, i=i: pick(m, i))
    engine.close_round()
    with engine.db.transaction() as session:
        stored = session.scalar(select(func.count()).select_from(RoundMoment)) or 0
        moments, quit_ = store.trend_moments(session)
        fresh = store.factor_moments(session)
        answered_quit = session.scalar(
            select(func.count()).select_from(Response).where(Response.question_id == "quit")
        )
        groups = pd.DataFrame(
            session.execute(
                select(RoundMoment.facet, RoundMoment.group_value, RoundMoment.n)
                .where(RoundMoment.facet == "municipality")
            ).all(), columns=["facet", "group", "n"],
        )  # fmt: skip
    assert stored > 10
    got = moments.sort_values("factor_id")[COLUMNS].astype(float).to_numpy()
    expected = fresh.sort_values("factor_id")[COLUMNS].astype(float).to_numpy()
    assert np.allclose(got, expected)
    assert int(quit_["n"].sum()) == answered_quit
    # Bodø and Fauske have six people each on the roster: their groups are kept.
    assert set(groups["group"]) <= {"bodo", "fauske", ""} and groups["n"].sum() == fresh["n"].sum()


def test_rounds_closed_without_stored_moments_are_computed(db: Database, survey: Survey) -> None:
    frames_ = []
    for number in (1, 2):
        round_id = add_round(db, number)
        frame = survey_round(survey, round_id=round_id, n=20, quit_share=0.3,
                             position_share=0.5, experienced=EXP19, importance=IMPORTANCE,
                             seed=number)  # fmt: skip
        store_frame(db, frame, round_id)
        frames_.append(frame)
    with db.transaction() as session:
        store.store_round_moments(session, 1)  # round 1 sealed with moments; round 2 not
        moments, quit_ = store.trend_moments(session)
    expected = factor_moments(pd.concat(frames_)).sort_values(["round_id", "factor_id"])
    assert np.allclose(moments[COLUMNS].astype(float).to_numpy(),
                       expected[COLUMNS].astype(float).to_numpy())  # fmt: skip
    assert list(quit_["n"]) == [20, 20] and list(quit_["yes"]) == [6, 6]
