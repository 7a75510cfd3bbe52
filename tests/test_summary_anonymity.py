"""Anonymity of the steering-group summary: k, complementary suppression, comments,
and no single answer recoverable from any pair of summaries."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from sqlalchemy import select

from bot.summaries import SummaryOptions, compose, queue_summary
from bot.summary_chart import chart_png
from bot.summary_text import full_text
from storage import summaries as store
from storage.db import Database
from storage.models import OutboxMessage, Round
from surveys.definition import Survey
from surveys.disclosure import release, summary_cells
from surveys.stats import wilson
from surveys.summary import GroupShare, build_summary
from surveys.synthetic import participation_for, survey_round
from tests.summary_support import (
    EXP19,
    IMPORTANCE,
    NOW,
    add_round,
    recoverable,
    store_frame,
)


def make(survey: Survey, n: int, seed: int = 5, **kw: object) -> pd.DataFrame:
    args: dict = dict(round_id=1, n=n, quit_share=0.5, position_share=0.5,
                      experienced=EXP19, importance=IMPORTANCE, seed=seed)  # fmt: skip
    args.update(kw)
    return survey_round(survey, **args)


def summarise(survey: Survey, frame: pd.DataFrame, k: int = 5, **kw: object):
    return build_summary(frame, participation_for(frame), survey, round_id=1, round_number=1,
                         k=k, **kw)  # fmt: skip


def test_nothing_is_shown_under_k(survey: Survey) -> None:
    s = summarise(survey, make(survey, 4))
    assert s.submissions == 4 and "too_few" in s.notes
    assert all(f.gap is None and f.experienced is None for f in s.factors)
    assert s.quit is None and s.enps is None and s.position_80 is None
    assert all(g.share is None for g in s.quit_by_profession)
    assert all(p.answered is None for p in s.participation)
    text = full_text(s, survey, "nb")
    assert "For få svar" in text and "%" not in text.split("\n", 1)[1]
    assert chart_png(s, survey).startswith(b"\x89PNG")


def test_k_is_configurable_but_never_below_three(survey: Survey) -> None:
    frame = make(survey, 6)
    assert summarise(survey, frame, k=5).quit is not None
    assert summarise(survey, frame, k=7).quit is None
    with pytest.raises(ValueError):
        summarise(survey, frame, k=2)


def test_a_small_profession_cannot_be_worked_out_from_the_total(survey: Survey) -> None:
    frame = make(survey, 31, professions=("sykepleier",))
    keys = frame["submission_key"].drop_duplicates().tolist()
    frame.loc[frame["submission_key"].isin(keys[:9]), "profession"] = "helsefagarbeider"
    frame.loc[frame["submission_key"].isin(keys[9:11]), "profession"] = "vernepleier"
    s = summarise(survey, frame)
    shares = {g.group: g.share for g in s.quit_by_profession}
    assert shares["sykepleier"] is not None
    assert shares["vernepleier"] is None and shares["helsefagarbeider"] is None
    assert recoverable([s], 5) == []
    # The attack is real: without complementary suppression it recovers the 2 answers.
    rows = frame.loc[frame["question_id"] == "quit"].drop_duplicates("submission_key")
    hfa = rows.loc[rows["profession"] == "helsefagarbeider", "value"]
    naive = dataclasses.replace(
        s,
        quit_by_profession=(
            *[g for g in s.quit_by_profession if g.share is not None],
            GroupShare("helsefagarbeider", wilson(int(hfa.sum()), len(hfa))),
        ),
    )
    leaks = recoverable([naive], 5)
    secret = rows.loc[rows["profession"] == "vernepleier", "value"].sum()
    assert leaks and leaks[0][1] == 2 and leaks[0][2] == pytest.approx(secret)


def test_participation_is_suppressed_complementarily(survey: Survey) -> None:
    part = pd.DataFrame(
        {"municipality": ["bodo", "fauske", "beiarn"], "invited": [40, 20, 6],
         "finished": [30, 12, 3]}
    )  # fmt: skip
    s = build_summary(make(survey, 45), part, survey, round_id=1, round_number=1)
    answered = {p.group: p.answered for p in s.participation}
    assert answered == {"bodo": 30, "fauske": None, "beiarn": None}
    assert s.answered == 45 and "Beiarn: vises ikke (6 invitert)" in full_text(s, survey)


def _with_comments(survey: Survey, texts: list[str], consent: bool = False) -> pd.DataFrame:
    """`consent`: every writer said yes to being quoted (otherwise nobody did)."""
    frame = make(survey, 40, comment_share=0.0).assign(quote_ok=False)
    keys = frame["submission_key"].drop_duplicates().tolist()
    extra = pd.DataFrame(
        {"round_id": 1, "submission_key": keys[: len(texts)], "question_id": "quit_text",
         "value": None, "text": texts, "complete": True, "quote_ok": consent}
    )  # fmt: skip
    return pd.concat([frame, extra], ignore_index=True)


def test_comments_need_the_higher_threshold_and_quotes_are_scrubbed(survey: Survey) -> None:
    texts = [
        "Lederen Trude Olsen svarer aldri, ring meg på 912 34 567",
        "Skriv til kari.nordmann@bodo.kommune.no om turnusen",
        "Per Hansen i Bodø trenger flere kurs",
    ] + [f"Turnus og vakter er tunge nummer {i}" for i in range(6)]
    nine = summarise(survey, _with_comments(survey, texts, consent=True))
    assert nine.comments == 9 and nine.themes is None and nine.quotes == ()
    assert "Trude" not in full_text(nine, survey) and "Turnus og" not in full_text(nine, survey)
    ten = summarise(survey, _with_comments(survey, [*texts, "Mer kurs, takk"], consent=True),
                    roster_names=["Per Hansen"], max_quotes=3)  # fmt: skip
    assert ten.themes is not None and 0 < len(ten.quotes) <= 3  # scrubbing really ran
    shown_text = full_text(ten, survey) + " ".join(q for _, q in ten.quotes)
    for secret in ("Trude", "Olsen", "912", "kari.nordmann", "Per", "Hansen"):
        assert secret not in shown_text
    assert ten.comment_threshold == 10


def test_comments_are_shown_only_as_themes_as_people_are_promised(survey: Survey) -> None:
    texts = [f"Turnus og vakter er tunge nummer {i}" for i in range(10)] + ["Mer kurs, takk"]
    s = summarise(survey, _with_comments(survey, texts))
    assert s.themes is not None and s.quotes == ()
    assert "Turnus og vakter" not in full_text(s, survey) and "Mer kurs" not in full_text(s, survey)


def _post(db: Database, survey: Survey, round_id: int):
    with db.transaction() as session:
        round_ = session.get(Round, round_id)
        options = SummaryOptions(k=5)
        result = queue_summary(session, survey, round_, {"slack": "C1"}, options, NOW, "test")
        summary = compose(session, survey, round_, options)
    return result, summary


def _raw(db: Database, survey: Survey, round_id: int):
    """The summary as it would be without the posting rules (for the attacker's control)."""
    with db.transaction() as session:
        inputs = store.round_inputs(session, session.get(Round, round_id))
    return build_summary(inputs.responses, inputs.participation, survey, round_id=round_id,
                         round_number=inputs.round_number, facets=inputs.facets)  # fmt: skip


def test_figures_with_too_few_new_answers_are_held_back(survey: Survey) -> None:
    first = make(survey, 12, seed=1)
    s1 = summarise(survey, first)
    # Five new pulses, but (as in real pulses of 3 of 10 factors) only two answered F01.
    new = make(survey, 5, seed=2)
    keys = new["submission_key"].drop_duplicates().tolist()
    new = new.loc[
        ~(new["submission_key"].isin(keys[:3]) & new["question_id"].str.startswith("F01"))
    ]
    raw = summarise(survey, pd.concat([first, new], ignore_index=True))
    leaks = recoverable([s1, raw], 5)
    assert ("F01.exp", 2) in {(m, n) for m, n, _ in leaks}
    held, _cells = release(raw, summary_cells(s1), 5)
    assert recoverable([s1, held], 5) == []
    assert held.factor("F01").gap is None and held.factor("F02").gap is not None
    assert held.factor("F01").held and "factor:F01" in held.withheld
    text = full_text(held, survey)
    assert "Kommunikasjon med leder: holdt tilbake" in text
    assert "Holdt tilbake: Kommunikasjon med leder" in text


def test_differencing_attack_on_successive_summaries_fails(db: Database, survey: Survey) -> None:
    round_id = add_round(db, 1, status="open")
    store_frame(db, make(survey, 12, seed=1), round_id)
    first, s1 = _post(db, survey, round_id)
    assert first.status == "queued" and first.queued == 2
    # One more person's pulse arrives; a second summary would show it by difference.
    store_frame(db, make(survey, 1, seed=2), round_id)
    second, _ = _post(db, survey, round_id)
    assert second.status == "too_few_new" and second.queued == 0
    assert recoverable([s1], 5) == []
    # ...which the gate prevents: the pair would give that one answer away.
    assert any(n == 1 for _, n, _ in recoverable([s1, _raw(db, survey, round_id)], 5))
    # Once k new submissions have come in, a new summary may go out, and still leaks nothing.
    store_frame(db, make(survey, 4, seed=3), round_id)
    third, s3 = _post(db, survey, round_id)
    assert third.status == "queued" and s3.submissions == 17
    assert recoverable([s1, s3], 5) == []
    with db.transaction() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [r.kind for r in rows] == ["steering"] * 4
        assert all(r.person_id is None for r in rows)
