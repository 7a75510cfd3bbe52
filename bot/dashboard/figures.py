"""Everything the dashboard shows, gathered through the one release path.

The newest closed round is composed in full by `bot.summaries.compose` — the same call the
chat post, the printed summary and the exports make — for its factors, priorities, tasks and
heatmap (`storage.dashboard.release_gap_grid`). Every older round shows only its trend
figures (factor means, participation, quitting), released from the moments sealed when it
closed (`storage.dashboard.release_rounds`): the same numbers and the same ledger cells as
its full summary, without composing a hundred of them (20–40 s on the first page). So the
page can never show more than the chat could. Only closed rounds are shown: their answers no
longer change, so `Cache` keeps what was released until the release ledger changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.summaries import SummaryOptions, compose, task_trends
from storage import dashboard as store
from storage import releases
from storage.dashboard import FactorTask
from storage.models import Round
from surveys.definition import Survey
from surveys.grid import GridRow
from surveys.round_figures import RoundFigures
from surveys.summary import Summary

SOURCE = "dashboard"


@dataclass(frozen=True)
class DashboardData:
    rounds: tuple[RoundFigures, ...]  # closed rounds, oldest first, as released
    summary: Summary | None = None  # the newest closed round in full, as released
    grid: dict[str, GridRow] = field(default_factory=dict)  # newest round's heatmap
    tasks: dict[str, list[FactorTask]] = field(default_factory=dict)

    @property
    def newest(self) -> Summary | None:
        return self.summary


class Cache:
    """Released figures of closed rounds: trend figures by (round id, k), the newest round's
    summary by (round id, k, comment threshold) — the same in every language, which only the
    rendering uses; heatmaps by (round id, k).

    Valid for one state of the release ledger, round by round: when anyone else releases
    figures of a round (its summary posted, `beholde summary` printed, a restore putting an
    older ledger back), that round — and a summary whose changes lean on it — is released
    afresh on the next page. The page's own releases are taken into the state it records, so
    a quiet dashboard stays cached."""

    def __init__(self) -> None:
        self.figures: dict[tuple[int, int], RoundFigures] = {}
        self.summaries: dict[tuple[int, int, int], Summary] = {}
        self.grids: dict[tuple[int, int], dict[str, GridRow]] = {}
        self.stamps: dict[int, tuple[int, int]] = {}

    def check(self, stamps: dict[int, tuple[int, int]]) -> None:
        """Forget the rounds whose ledger (or whose previous round's) is not as recorded."""

        def moved(round_id: int | None) -> bool:
            return round_id is not None and stamps.get(round_id) != self.stamps.get(round_id)

        for key, summary in list(self.summaries.items()):
            if moved(key[0]) or moved(summary.previous.round_id if summary.previous else None):
                del self.summaries[key]
        for key2 in list(self.figures):
            if moved(key2[0]):
                del self.figures[key2]
        for key2 in list(self.grids):
            if moved(key2[0]):
                del self.grids[key2]


def gather(
    session: Session,
    survey: Survey,
    options: SummaryOptions,
    now: dt.datetime,
    cache: Cache | None = None,
) -> DashboardData:
    """Every closed round's trend figures, the newest in full with its heatmap, the tasks."""
    cache = cache or Cache()
    cache.check(releases.stamps(session))
    closed = store.closed_round_numbers(session)
    if not closed:
        cache.stamps = releases.stamps(session)
        return DashboardData(())
    newest_id = closed[-1][0]
    newest = session.get(Round, newest_id)
    assert newest is not None
    key = (newest_id, options.k, options.comment_threshold)
    if key not in cache.summaries:
        cache.summaries[key] = compose(session, survey, newest, options, SOURCE, now)
    summary = cache.summaries[key]
    older = [(i, n) for i, n in closed[:-1] if (i, options.k) not in cache.figures]
    released = store.release_rounds(session, older, survey.factor_ids, options.k, SOURCE,
                                     now.date())  # fmt: skip
    for round_id, figures in released.items():
        cache.figures[(round_id, options.k)] = figures
    cache.figures.setdefault((newest_id, options.k), RoundFigures.of(summary))
    rounds = [cache.figures[(i, options.k)] for i, _ in closed]
    grid: dict[str, GridRow] = {}
    if "too_few" not in summary.notes:
        key2 = (newest_id, options.k)
        if key2 not in cache.grids:
            cache.grids[key2] = store.release_gap_grid(
                session, newest_id, options.k, SOURCE, now.date()
            )
        grid = cache.grids[key2]
    cache.stamps = releases.stamps(session)  # including what this page just released
    # Each task beside the round before it and the newest, both as released.
    by_id = {r.round_id: r for r in rounds}
    tasks = task_trends(session, survey, summary, options, now, by_id)
    return DashboardData(tuple(rounds), summary, grid, tasks)


def trend(data: DashboardData, factor_id: str) -> list[tuple[int, float | None, float | None]]:
    """(round, experienced, importance) per closed round; None where not shown."""
    out = []
    for s in data.rounds:
        f = next((f for f in s.factors if f.factor_id == factor_id), None)
        shown = f is not None and f.gap is not None
        out.append((s.round_number, f.experienced if shown and f else None,
                    f.importance if shown and f else None))  # fmt: skip
    return out
