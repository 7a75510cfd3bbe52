"""The one release path: which figures of a summary may leave beholde, and which are held back.

A `Summary` (surveys/summary.py) already obeys k and complementary suppression within itself.
What it cannot know is what was released before: two releases whose figures stand on
contributor sets that differ by only a few people give those people's answers by
subtraction (export at 55 answers, export again at 58). So every output — chat post,
printed summary, CSV, spreadsheet, chart, `round close` / `status`, demo, weekly digest and
the feedback after a pulse — hands its figures to `release`, which

- lists each figure as a `Cell` (round, measure, group, how many contributed),
- holds back every cell whose contributors differ by 1..k−1 from an earlier released cell
  of the same round, measure and group — including the earlier round's cells that a change
  figure lets a reader recompute (before = now − change),
- hides a whole breakdown (per municipality, per profession) when one of its cells, its
  total or its residue (total minus the visible groups) is held, so no new residue appears,
- and returns the cells actually shown, for the caller to write into the release ledger
  (storage/releases.py).

Totals of who was invited and who answered are released and recorded but not held back by
difference: that a few more people answered says nothing about what they answered, and the
breakdowns and means built on them are held.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from surveys.anonymity import check_k
from surveys.summary import (
    FactorChange,
    FactorStat,
    GroupFactor,
    GroupShare,
    ParticipationRow,
    Previous,
    Summary,
    priorities,
)

ALL = "*"  # the group of a figure over everyone in the round
REST = "~rest"  # total minus the visible groups: a figure a reader can compute
# Counts that say how many took part, never what anyone answered (see the module text).
NOT_DIFFERENCED = frozenset({"answered", "submissions"})
PARTICIPATION = "participation"
QUIT = "quit"
ENPS = "enps"
POSITION = "position_80"
COMMENTS = "comments"

Key = tuple[int, str, str]


@dataclass(frozen=True)
class Cell:
    """One released figure: over how many contributors, in which round, measure and group."""

    round_id: int
    measure: str  # "factor:F01", "quit", "enps", "position_80", "comments", "participation", …
    group: str  # ALL, a group id (municipality, profession), or a residue "~rest:a,b"
    n: int

    @property
    def key(self) -> Key:
        return (self.round_id, self.measure, self.group)


def factor_measure(factor_id: str) -> str:
    return f"factor:{factor_id}"


def rest_group(hidden: Iterable[str]) -> str:
    return f"{REST}:{','.join(sorted(hidden))}"


def differing(cells: Iterable[Cell], released: Iterable[Cell], k: int) -> set[Key]:
    """Keys of cells whose contributor count differs by 1..k−1 from one released before."""
    check_k(k)
    before: dict[Key, set[int]] = {}
    for cell in released:
        before.setdefault(cell.key, set()).add(cell.n)
    return {
        c.key
        for c in cells
        if c.measure not in NOT_DIFFERENCED
        and any(0 < abs(c.n - n) < k for n in before.get(c.key, ()))
    }


# --------------------------------------------------------------------------- cells of a table


def group_cells(
    round_id: int, measure: str, total: int, groups: Mapping[str, int | None]
) -> list[Cell]:
    """A breakdown's visible groups and its residue (total minus what is visible)."""
    visible = {g: n for g, n in groups.items() if n is not None}
    hidden = [g for g, n in groups.items() if n is None]
    cells = [Cell(round_id, measure, g, n) for g, n in visible.items()]
    if hidden:
        cells.append(Cell(round_id, measure, rest_group(hidden), total - sum(visible.values())))
    return cells


def participation_cells(
    round_id: int, rows: Iterable[ParticipationRow], answered: int | None
) -> list[Cell]:
    rows = list(rows)
    cells = []
    if answered is not None:
        cells.append(Cell(round_id, "answered", ALL, answered))
        cells += group_cells(round_id, PARTICIPATION, answered, {r.group: r.answered for r in rows})
    return cells


def hold_participation(rows: Iterable[ParticipationRow]) -> tuple[ParticipationRow, ...]:
    """Every municipality's count hidden (invited stays: the roster is no answer)."""
    return tuple(dataclasses.replace(r, answered=None, held=r.answered is not None) for r in rows)


def release_participation(
    round_id: int,
    rows: Iterable[ParticipationRow],
    answered: int | None,
    released: Iterable[Cell],
    k: int,
) -> tuple[tuple[ParticipationRow, ...], list[Cell]]:
    """Participation per municipality as it may be shown now, and the cells it releases."""
    rows = tuple(rows)
    cells = participation_cells(round_id, rows, answered)
    if differing(cells, released, k):
        rows = hold_participation(rows)
        cells = participation_cells(round_id, rows, answered)
    return rows, cells


def summary_cells(summary: Summary) -> list[Cell]:
    """Every figure the summary shows, with the earlier round's cells its changes reveal."""
    r = summary.round_id
    cells: list[Cell] = []
    if summary.submissions:
        cells.append(Cell(r, "submissions", ALL, summary.submissions))
    cells += participation_cells(r, summary.participation, summary.answered)
    for f in summary.factors:
        if f.gap is not None:
            cells.append(Cell(r, factor_measure(f.factor_id), ALL, f.n))
    prev = summary.previous
    for c in summary.changes:
        if c.experienced is not None and prev is not None and prev.round_id is not None:
            # now − change = before: the earlier round's mean over n_before, and the gap's.
            cells.append(Cell(prev.round_id, factor_measure(c.factor_id), ALL, c.n_before))
            cells.append(Cell(r, factor_measure(c.factor_id), ALL, c.n_now))
    by_factor: dict[str, dict[str, int | None]] = {}
    for g in summary.factors_by_municipality:
        by_factor.setdefault(g.factor_id, {})[g.group] = g.n
    for factor_id, groups in by_factor.items():
        if any(n is not None for n in groups.values()):
            # The total is the factor's own n: every pair has one municipality record.
            total = summary.factor(factor_id).n
            cells += group_cells(r, f"{factor_measure(factor_id)}:municipality", total, groups)
    if summary.quit is not None:
        cells.append(Cell(r, QUIT, ALL, summary.quit.n))
        shares = {g.group: (g.share.n if g.share else None) for g in summary.quit_by_profession}
        if any(n is not None for n in shares.values()):
            cells += group_cells(r, f"{QUIT}:profession", summary.quit.n, shares)
    if summary.enps is not None:
        cells.append(Cell(r, ENPS, ALL, summary.enps.n))
    if summary.position_80 is not None:
        cells.append(Cell(r, POSITION, ALL, summary.position_80.n))
    if prev is not None and prev.round_id is not None:
        for measure, est in ((QUIT, prev.quit), (ENPS, prev.enps), (POSITION, prev.position_80)):
            if est is not None:  # shown as "round 1: 40 %", and behind the quit change
                cells.append(Cell(prev.round_id, measure, ALL, est.n))
    if summary.comments is not None:
        cells.append(Cell(r, COMMENTS, ALL, summary.comments))
    return cells


# --------------------------------------------------------------------------- holding back


def _hold(summary: Summary, keys: set[Key]) -> Summary:
    """The summary without the figures behind `keys` (and whatever would reveal them)."""
    r = summary.round_id
    prev = summary.previous
    prev_id = prev.round_id if prev is not None else None
    measures_now = {m for (rid, m, _g) in keys if rid == r}
    measures_before = {m for (rid, m, _g) in keys if rid == prev_id and rid != r}
    withheld = set(summary.withheld)

    def held_now(measure: str) -> bool:
        return measure in measures_now

    factors = []
    for f in summary.factors:
        if f.gap is not None and held_now(factor_measure(f.factor_id)):
            factors.append(FactorStat(f.factor_id, f.n, held=True))
            withheld.add(factor_measure(f.factor_id))
        else:
            factors.append(f)
    changes = []
    for c in summary.changes:
        m = factor_measure(c.factor_id)
        if c.experienced is not None and (held_now(m) or m in measures_before):
            changes.append(FactorChange(c.factor_id, c.n_before, c.n_now, held=True))
            withheld.add(f"change:{c.factor_id}")
        else:
            changes.append(c)
    by_municipality = []
    for g in summary.factors_by_municipality:
        m = factor_measure(g.factor_id)
        if g.n is not None and (held_now(m) or held_now(f"{m}:municipality")):
            by_municipality.append(GroupFactor(g.factor_id, g.group, None))
            withheld.add(f"{m}:municipality")
        else:
            by_municipality.append(g)
    quit_, quit_change, by_prof = summary.quit, summary.quit_change, summary.quit_by_profession
    if held_now(QUIT):
        quit_, quit_change = None, None
        withheld.add(QUIT)
    if QUIT in measures_before:
        quit_change = None
        withheld.add("change:quit")
    if held_now(QUIT) or held_now(f"{QUIT}:profession"):
        if any(g.share is not None for g in by_prof):
            withheld.add(f"{QUIT}:profession")
        by_prof = tuple(GroupShare(g.group, None) for g in by_prof)
    participation = summary.participation
    if held_now(PARTICIPATION):
        participation = hold_participation(participation)
        withheld.add(PARTICIPATION)
    enps_, position = summary.enps, summary.position_80
    if held_now(ENPS):
        enps_ = None
        withheld.add(ENPS)
    if held_now(POSITION):
        position = None
        withheld.add(POSITION)
    comments, themes, quotes = summary.comments, summary.themes, summary.quotes
    if held_now(COMMENTS):
        comments, themes, quotes = None, None, ()
        withheld.add(COMMENTS)
    if prev is not None and measures_before:
        prev = Previous(
            prev.round_number,
            prev.submissions,
            None if QUIT in measures_before else prev.quit,
            None if ENPS in measures_before else prev.enps,
            None if POSITION in measures_before else prev.position_80,
            prev.round_id,
        )
        withheld.update(f"before:{m}" for m in measures_before)
    return dataclasses.replace(
        summary,
        participation=participation,
        factors=tuple(factors),
        factors_by_municipality=tuple(by_municipality),
        priorities=priorities(factors),
        changes=tuple(changes),
        quit=quit_,
        quit_change=quit_change,
        quit_by_profession=by_prof,
        enps=enps_,
        position_80=position,
        comments=comments,
        themes=themes,
        quotes=quotes,
        previous=prev,
        withheld=tuple(sorted(withheld)),
    )


def release(summary: Summary, released: Iterable[Cell], k: int) -> tuple[Summary, list[Cell]]:
    """The summary as it may go out now, and the cells it releases (for the ledger).

    Holding a figure back can uncover another (a breakdown's residue changes), so this
    repeats until nothing more needs holding; it only ever hides, so it ends.
    """
    released = list(released)
    while True:
        cells = summary_cells(summary)
        keys = differing(cells, released, k)
        if not keys:
            return summary, cells
        summary = _hold(summary, keys)
