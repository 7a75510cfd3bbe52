"""Two closed rounds with a small municipality, a steering member, and expected figures
worked out from the raw frames (not from the code under test)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from bot.conversation import Conversation
from surveys.definition import Survey
from surveys.synthetic import survey_round
from tests.conftest import add_person
from tests.summary_support import EXP19, EXP21, IMPORTANCE, add_round, store_frame

SMALL = "beiarn"  # three answers: hidden, and one more group hidden with it


@dataclass
class Setup:
    frames: dict[int, pd.DataFrame]  # round number → its responses
    steering_id: int


def seed_rounds(engine: Conversation, survey: Survey) -> Setup:
    frames = {}
    for number, exp, seed in ((1, EXP19, 11), (2, EXP21, 12)):
        round_id = add_round(engine.db, number)
        frame = survey_round(survey, round_id=round_id, n=60, quit_share=0.4 - 0.1 * number,
                             position_share=0.6, experienced=exp, importance=IMPORTANCE,
                             seed=seed)  # fmt: skip
        keys = frame["submission_key"].drop_duplicates().iloc[:3]
        frame.loc[frame["submission_key"].isin(keys), "municipality"] = SMALL
        store_frame(engine.db, frame, round_id, invited=70)
        frames[number] = frame
    steering_id, _ = add_person(engine, "Siri Styring", role="steering")
    add_person(engine, "Erik Ansatt", role="employee")
    return Setup(frames, steering_id)


def gap_by_municipality(frame: pd.DataFrame, factor_id: str) -> dict[str, tuple[float, int]]:
    """Mean of importance − experienced per municipality, and n, from the raw answers."""
    rows = frame.loc[frame["question_id"].isin([f"{factor_id}.exp", f"{factor_id}.imp"])]
    wide = rows.pivot_table(index=["submission_key", "municipality"], columns="question_id",
                            values="value", aggfunc="first").dropna()  # fmt: skip
    wide["gap"] = wide[f"{factor_id}.imp"] - wide[f"{factor_id}.exp"]
    by = wide.groupby(level="municipality")["gap"]
    return {str(m): (float(v), int(n)) for (m, v), n in zip(by.mean().items(), by.size(),
                                                             strict=True)}  # fmt: skip


def experienced_mean(frame: pd.DataFrame, factor_id: str) -> float:
    rows = frame.loc[frame["question_id"] == f"{factor_id}.exp", "value"]
    return float(pd.to_numeric(rows).mean())


def add_factor_task(engine: Conversation, factor_id: str, done: int, teams: int) -> str:
    """A task tied to a factor, done by `done` of `teams` teams; returns its title."""
    import datetime as dt

    from bot import network as net
    from storage.network_models import Task, TaskTeam

    title = "Ros hverandre på vaktskiftet"
    now = engine.clock()
    with engine.db.transaction() as session:
        network = net.ensure_network(session, now)
        task = Task(network_id=network.id, title=title, team=None, due_on=dt.date(2027, 2, 12),
                    created_by_name="Christel", created_at=now, factor_id=factor_id)  # fmt: skip
        session.add(task)
        session.flush()
        for i in range(teams):
            session.add(TaskTeam(task_id=task.id, team=f"lag{i}",
                                 status="done" if i < done else "open"))  # fmt: skip
    return title
