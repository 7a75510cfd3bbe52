"""Pulse planning: balanced within a round, complete over rounds, deterministic."""

from __future__ import annotations

import math
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.definition import load_survey
from surveys.planning import plan_round, seeded_order

SURVEY = load_survey()
people_keys = st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=200, unique=True)


@given(
    keys=people_keys,
    round_number=st.integers(0, 500),
    seed=st.text(max_size=10),
    per_pulse=st.integers(1, 10),
)
def test_every_factor_gets_answers_balanced_to_within_one(keys, round_number, seed, per_pulse):
    plans = plan_round(keys, round_number, seed, SURVEY, per_pulse)
    counts = Counter(f for plan in plans.values() for f in plan.factors)
    per_factor = [counts.get(f, 0) for f in SURVEY.factor_ids]
    assert max(per_factor) - min(per_factor) <= 1
    if len(keys) * per_pulse >= len(SURVEY.factor_ids):
        assert min(per_factor) >= 1  # every factor gets answers every round
    for plan in plans.values():
        assert len(set(plan.factors)) == len(plan.factors) == min(per_pulse, 10)


@given(
    keys=people_keys,
    start=st.integers(0, 500),
    seed=st.text(max_size=10),
    per_pulse=st.integers(1, 10),
)
def test_each_person_meets_every_factor_over_consecutive_rounds(keys, start, seed, per_pulse):
    rounds_needed = math.ceil(len(SURVEY.factor_ids) / per_pulse)
    seen: dict[str, set[str]] = {k: set() for k in keys}
    for number in range(start, start + rounds_needed):
        for key, plan in plan_round(keys, number, seed, SURVEY, per_pulse).items():
            seen[key].update(plan.factors)
    assert all(factors == set(SURVEY.factor_ids) for factors in seen.values())


@settings(max_examples=50)
@given(keys=people_keys, number=st.integers(0, 100), seed=st.text(max_size=10))
def test_planning_is_deterministic_for_a_seed_and_both_extras_rotate(keys, number, seed):
    assert plan_round(keys, number, seed, SURVEY) == plan_round(
        list(reversed(keys)), number, seed, SURVEY
    )
    extras = Counter(plan.extra for plan in plan_round(keys, number, seed, SURVEY).values())
    assert set(extras) <= {"quit", "recommend"}
    assert abs(extras["quit"] - extras["recommend"]) <= 1


def test_a_pulse_is_three_factors_on_both_scales_plus_one_extra() -> None:
    plan = plan_round(["a"], 0, "s", SURVEY)["a"]
    ids = plan.question_ids()
    assert len(ids) == 7
    assert ids[:2] == [f"{plan.factors[0]}.exp", f"{plan.factors[0]}.imp"]
    assert ids[-1] in ("quit", "recommend")


def test_different_seeds_give_different_orders() -> None:
    keys = [str(i) for i in range(50)]
    assert seeded_order(keys, "a") != seeded_order(keys, "b")
