"""Everything the dashboard shows, gathered through the one release path.

Every round's figures come from `bot.summaries.compose` — the same call the chat post, the
printed summary and the exports make — so the page can never show more than the chat could;
the heatmap is its own release (`storage.dashboard.release_gap_grid`), recorded in the same
ledger. Only closed rounds are shown: their answers no longer change, so once released (and
recorded) a closed round's figures are the same on every later call — `Cache` keeps them, and
a page load composes only the rounds it has not seen, until the release ledger changes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.summaries import SummaryOptions, compose, task_trends
from storage import dashboard as store
from storage import releases
from storage.dashboard import FactorTask
from storage.models import Round
from surveys.definition import Survey
from surveys.grid import GridRow
from surveys.summary import Summary

SOURCE = "dashboard"


@dataclass(frozen=True)
class DashboardData:
    summaries: tuple[Summary, ...]  # closed rounds, oldest first, as released
    grid: dict[str, GridRow] = field(default_factory=dict)  # newest round's heatmap
    tasks: dict[str, list[FactorTask]] = field(default_factory=dict)

    @property
    def newest(self) -> Summary | None:
        return self.summaries[-1] if self.summaries else None


class Cache:
    """Released figures of closed rounds, by (round id, k, comment threshold) — the same in
    every language, which only the rendering uses; heatmaps by round.

    Valid for one state of the release ledger, round by round: when anyone else releases
    figures of a round (its summary posted, `beholde summary` printed, a restore putting an
    older ledger back), that round and the one after it (whose changes recompute it) are
    composed afresh on the next page. The page's own releases are taken into the state it
    records, so a quiet dashboard stays cached."""

    def __init__(self) -> None:
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
    """The released figures of every closed round, the newest round's heatmap, the tasks."""
    cache = cache or Cache()
    cache.check(releases.stamps(session))
    rounds = session.scalars(
        select(Round).where(Round.status == "closed").order_by(Round.number)
    ).all()
    summaries = []
    for r in rounds:
        key = (r.id, options.k, options.comment_threshold)
        if key not in cache.summaries:
            cache.summaries[key] = compose(session, survey, r, options, SOURCE, now)
        summaries.append(cache.summaries[key])
    grid: dict[str, GridRow] = {}
    if rounds and "too_few" not in summaries[-1].notes:
        key2 = (rounds[-1].id, options.k)
        if key2 not in cache.grids:
            cache.grids[key2] = store.release_gap_grid(
                session, rounds[-1].id, options.k, SOURCE, now.date()
            )
        grid = cache.grids[key2]
    cache.stamps = releases.stamps(session)  # including what this page just released
    tasks = {}
    if summaries:  # each task beside the round before it and the newest, both as released
        released = {s.round_id: s for s in summaries}
        tasks = task_trends(session, survey, summaries[-1], options, now, released)
    return DashboardData(tuple(summaries), grid, tasks)


def trend(data: DashboardData, factor_id: str) -> list[tuple[int, float | None, float | None]]:
    """(round, experienced, importance) per closed round; None where not shown."""
    out = []
    for s in data.summaries:
        f = next((f for f in s.factors if f.factor_id == factor_id), None)
        shown = f is not None and f.gap is not None
        out.append((s.round_number, f.experienced if shown and f else None,
                    f.importance if shown and f else None))  # fmt: skip
    return out
