"""A round's trend figures — factor means, participation, quitting — from its sufficient
statistics, and the one release rule for them.

The dashboard shows these few figures for every closed round; composing a full summary per
round (pandas over each round's answers) made its first page take 20–40 s on 100 rounds.
The moments sealed when a round closes give the same numbers (`factor_stats_by_round`).
They leave beholde the way every figure does: as cells (surveys/disclosure.py) — the
same cells a full summary lists for them — held back when they differ by 1..k−1 from one
released before, and recorded by the caller in the release ledger.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from surveys.anonymity import shown
from surveys.disclosure import ALL, QUIT, Cell, differing, factor_measure
from surveys.stats import Estimate, wilson
from surveys.summary import FactorStat, Summary


@dataclass(frozen=True)
class RoundFigures:
    """What the dashboard shows of one round; every figure already released (or None)."""

    round_id: int
    round_number: int
    invited: int
    answered: int | None  # finished pulses; None under k
    factors: tuple[FactorStat, ...]
    quit: Estimate | None
    withheld: tuple[str, ...] = ()  # measures the release ledger held back

    @classmethod
    def of(cls, summary: Summary) -> RoundFigures:
        """The same figures out of a released full summary (the newest round's)."""
        return cls(summary.round_id, summary.round_number, summary.invited, summary.answered,
                   summary.factors, summary.quit, summary.withheld)  # fmt: skip


def from_moments(
    round_id: int,
    round_number: int,
    factors: Sequence[FactorStat] | None,
    quit_counts: tuple[int, int] | None,
    participation: tuple[int, int],
    factor_ids: Iterable[str],
    k: int,
) -> RoundFigures:
    """Figures before the ledger is asked: k applied as `build_summary` applies it.

    `factors` from `factor_stats_by_round` (None: no paired answers at all), `quit_counts`
    (n, yes), `participation` (invited, finished)."""
    stats = tuple(factors) if factors is not None else tuple(FactorStat(f, 0) for f in factor_ids)
    n, yes = quit_counts or (0, 0)
    invited, finished = participation
    return RoundFigures(
        round_id,
        round_number,
        invited,
        finished if shown(finished, k) else None,
        stats,
        wilson(yes, n) if shown(n, k) else None,
    )


def cells(figures: RoundFigures) -> list[Cell]:
    """The cells these figures show: the same keys and counts a full summary lists."""
    r = figures.round_id
    out = [Cell(r, "answered", ALL, figures.answered)] if figures.answered is not None else []
    out += [Cell(r, factor_measure(f.factor_id), ALL, f.n) for f in figures.factors if f.shown]
    if figures.quit is not None:
        out.append(Cell(r, QUIT, ALL, figures.quit.n))
    return out


def release(
    figures: RoundFigures, released: Iterable[Cell], k: int
) -> tuple[RoundFigures, list[Cell]]:
    """The figures as they may be shown now, and the cells to record for them."""
    keys = differing(cells(figures), released, k)
    if not keys:
        return figures, cells(figures)
    held = {measure for (_r, measure, _g) in keys}
    factors = tuple(
        FactorStat(f.factor_id, f.n, held=True) if f.shown and factor_measure(f.factor_id) in held
        else f
        for f in figures.factors
    )  # fmt: skip
    withheld = set(figures.withheld) | held  # factor measures and quit (answered never)
    out = dataclasses.replace(
        figures,
        factors=factors,
        quit=None if QUIT in held else figures.quit,
        withheld=tuple(sorted(withheld)),
    )
    return out, cells(out)


def by_round(released: Iterable[Cell]) -> Mapping[int, list[Cell]]:
    """The ledger's cells grouped by round, so each round is checked against its own."""
    out: dict[int, list[Cell]] = {}
    for cell in released:
        out.setdefault(cell.round_id, []).append(cell)
    return out
