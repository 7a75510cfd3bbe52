"""Pulse planning: which questions each person gets in a round (matrix sampling).

Each person answers only a few factors per round so a pulse takes under a minute, yet every
factor gets answers every round. The trick is a cyclic assignment: people are put in a
seeded order, and person i gets the `per_pulse` consecutive factors starting at
`per_pulse * (i + round)` in the cycle of factors. Consecutive people therefore tile the
cycle, so factor counts differ by at most one; and because a person's start moves by
`per_pulse` every round, the same person meets every factor within ceil(F / per_pulse)
consecutive rounds (as long as the set of people is unchanged).

Pure functions, deterministic for a given seed; no storage and no clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from surveys.definition import FACTOR_ITEM_KINDS, Survey, factor_item_id


@dataclass(frozen=True)
class PulsePlan:
    """The questions of one person's pulse, in the order they are asked."""

    factors: tuple[str, ...]
    extra: str | None

    def question_ids(self) -> list[str]:
        """Both scales of every factor, then the extra (its follow-up is decided by the answer)."""
        ids = [factor_item_id(f, kind) for f in self.factors for kind in FACTOR_ITEM_KINDS]
        if self.extra:
            ids.append(self.extra)
        return ids


def seeded_order(person_keys: Iterable[str], seed: str) -> list[str]:
    """People in an order that is random-looking but reproducible from the seed."""
    return sorted(
        set(person_keys),
        key=lambda key: hashlib.sha256(f"{seed}\x00{key}".encode()).hexdigest(),
    )


def plan_for_slot(
    slot: int,
    round_number: int,
    factor_ids: Sequence[str],
    extra_ids: Sequence[str],
    per_pulse: int = 3,
) -> PulsePlan:
    """The plan of the person in position `slot` of a round's order."""
    if not factor_ids:
        raise ValueError("a pulse needs at least one factor")
    count = len(factor_ids)
    size = max(1, min(per_pulse, count))
    start = size * (slot + round_number)
    factors = tuple(factor_ids[(start + j) % count] for j in range(size))
    extra = extra_ids[(slot + round_number) % len(extra_ids)] if extra_ids else None
    return PulsePlan(factors=factors, extra=extra)


def plan_round(
    person_keys: Iterable[str],
    round_number: int,
    seed: str,
    survey: Survey,
    per_pulse: int = 3,
    with_extra: bool = True,
) -> dict[str, PulsePlan]:
    """Plans for everyone invited to a round, keyed by person key."""
    extras = survey.extra_ids() if with_extra else []
    return {
        key: plan_for_slot(slot, round_number, survey.factor_ids, extras, per_pulse)
        for slot, key in enumerate(seeded_order(person_keys, seed))
    }


def background_to_ask(survey: Survey, known: dict[str, str | None], skipped: set[str]) -> list[str]:
    """Background questions still unanswered: asked once, at first contact, never in a pulse."""
    return [q.id for q in survey.background if not known.get(q.id) and q.id not in skipped]
