"""The summary in words: priorities as sentences, changes and quitting with how sure we can
be, the Salten baseline, one plain explanation — and no line that contradicts the figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bot.summary_chart import GAP, SURPLUS, gap_colour, row_label
from bot.summary_text import full_text, num
from surveys.definition import Survey, factor_item_id
from surveys.summary import Summary, build_summary
from surveys.synthetic import participation_for, survey_round
from tests.summary_support import EXP19, EXP21, IMPORTANCE


def pulses(frame: pd.DataFrame, survey: Survey, per_pulse: int, seed: int) -> pd.DataFrame:
    """Keep `per_pulse` factors per submission, as real pulses do (others unanswered)."""
    rng = np.random.default_rng(seed)
    ids = [f.id for f in survey.factors]
    keep: set[tuple[str, str]] = set()
    for key in frame["submission_key"].unique():
        for factor_id in rng.choice(ids, per_pulse, replace=False):
            for kind in ("exp", "imp"):
                keep.add((key, factor_item_id(str(factor_id), kind)))
    factor_items = {factor_item_id(f, k) for f in ids for k in ("exp", "imp")}
    mask = [
        item not in factor_items or (key, item) in keep
        for key, item in zip(frame["submission_key"], frame["question_id"], strict=True)
    ]
    return frame.loc[mask].reset_index(drop=True)


@pytest.fixture(scope="module")
def pulsed(survey: Survey) -> Summary:
    """90 answers now, 75 before; each factor rests on about a fifth of them (two per pulse)."""
    before = pulses(
        survey_round(
            survey,
            round_id=1,
            n=75,
            quit_share=0.4,
            position_share=0.6,
            experienced=EXP19,
            importance=IMPORTANCE,
            seed=1,
        ),
        survey,
        2,
        1,
    )
    now = pulses(
        survey_round(
            survey,
            round_id=2,
            n=90,
            quit_share=0.3,
            position_share=0.6,
            experienced=EXP21,
            importance=IMPORTANCE,
            seed=2,
        ),
        survey,
        2,
        2,
    )
    return build_summary(now, participation_for(now), survey, round_id=2, round_number=2,
                         previous=before, previous_number=1)  # fmt: skip


def test_priorities_lead_as_numbered_sentences(pulsed: Summary, survey: Survey) -> None:
    text = full_text(pulsed, survey, "nb")
    lines = text.splitlines()
    first = lines.index(next(line for line in lines if line.startswith("Tre ting å ta tak i")))
    assert first < lines.index(next(line for line in lines if line.startswith("Siden runde 1")))
    for rank, factor_id in enumerate(pulsed.priorities, start=1):
        f = pulsed.factor(factor_id)
        assert f.gap is not None and f.experienced is not None
        sentence = lines[first + rank]
        assert sentence.startswith(f"{rank}. {survey.factor(factor_id).short['nb']}:")
        assert f"opplevd bare {num(f.experienced, 'nb')}" in sentence
        assert f"gap på {num(f.gap.value, 'nb')}" in sentence and f"{f.n} svar" in sentence


def test_changes_carry_uncertainty_with_the_factors_own_n(pulsed: Summary, survey: Survey) -> None:
    assert pulsed.answered == 90 and all(f.n < 30 for f in pulsed.factors)
    text = full_text(pulsed, survey, "nb")
    assert "Få svar (under" not in text  # the old line spoke of 90 and 75 as "few"
    words = ("Tydelig bedre:", "Tydelig dårligere:", "Trolig uendret:", "For få svar til å si:")
    said = [line for line in text.splitlines() if line.startswith(words)]
    assert said
    for change in pulsed.changes:
        name = survey.factor(change.factor_id).short["nb"]
        line = next(line for line in said if name in line)
        if change.verdict == "up":
            assert line.startswith("Tydelig bedre:")
        elif change.verdict == "down":
            assert line.startswith("Tydelig dårligere:")
        elif change.verdict == "unclear":
            assert line.startswith("For få svar til å si:")  # every factor here is under 30
            assert f"{name} ({change.n_before} og {change.n_now} svar)" in line


def test_quitting_against_last_round_and_salten(survey: Survey) -> None:
    before = survey_round(survey, round_id=1, n=8, quit_share=0.5, position_share=0.5,
                          experienced=EXP19, importance=IMPORTANCE, seed=4)  # fmt: skip
    now = survey_round(survey, round_id=2, n=20, quit_share=0.35, position_share=0.5,
                       experienced=EXP19, importance=IMPORTANCE, seed=5)  # fmt: skip
    s = build_summary(now, participation_for(now), survey, round_id=2, round_number=2,
                      previous=before, previous_number=1)  # fmt: skip
    line = next(x for x in full_text(s, survey, "nb").splitlines() if x.startswith("Har vurdert"))
    assert "35 % (trolig mellom" in line and "20 svar" in line
    assert "Runde 1: 50 % – for få svar til å si om det har endret seg" in line
    assert line.endswith("Salten 2019: 40 %.")
    nn = next(x for x in full_text(s, survey, "nn").splitlines() if x.startswith("Har vurdert"))
    assert "for få svar til å seie" in nn and "truleg mellom" in nn


def test_big_rounds_say_clearly_lower(survey: Survey) -> None:
    before = survey_round(survey, round_id=1, n=300, quit_share=0.4, position_share=0.5,
                          experienced=EXP19, importance=IMPORTANCE, seed=6)  # fmt: skip
    now = survey_round(survey, round_id=2, n=300, quit_share=0.2, position_share=0.5,
                       experienced=EXP19, importance=IMPORTANCE, seed=7)  # fmt: skip
    s = build_summary(now, participation_for(now), survey, round_id=2, round_number=2,
                      previous=before, previous_number=1)  # fmt: skip
    assert "Runde 1: 40 % – tydelig lavere nå." in full_text(s, survey, "nb")
    assert "Round 1: 40 % – clearly lower now." in full_text(s, survey, "en")


@pytest.mark.parametrize(
    ("lang", "word"),
    [("nb", "konfidensintervall"), ("nn", "konfidensintervall"), ("en", "confidence interval")],
)
def test_interval_and_score_explained_once(
    pulsed: Summary, survey: Survey, lang: str, word: str
) -> None:
    text = full_text(pulsed, survey, lang)
    assert text.count(word) == 1
    assert "eNPS" not in text and "KI " not in text  # no jargon left in the body


def test_chart_labels_carry_n_and_change_and_gap_colour_follows_direction(
    pulsed: Summary, survey: Survey
) -> None:
    for f in pulsed.factors:
        label = row_label(pulsed, f, survey, "nb")
        change = pulsed.change(f.factor_id)
        assert f"n={f.n}" in label
        assert change is not None and change.experienced is not None
        diff = num(change.experienced.value, "nb", sign=True)
        assert f"{diff} siden runde 1" in label
    assert gap_colour(1.2) == GAP and gap_colour(-0.4) == SURPLUS != GAP


def test_numbers_never_show_minus_zero() -> None:
    assert num(-0.04, "nb", sign=True) == "+0,0" and num(-0.04, "en") == "0.0"
    assert num(-0.06, "nb") == "−0,1"
