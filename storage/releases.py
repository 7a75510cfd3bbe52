"""The release ledger in the database: what was shown, and the one call every output makes.

`release_summary` and `release_participation` read the ledger for the rounds a release
touches, let `surveys.disclosure` hold back what differs by too few, and record what is
shown — in the caller's transaction, so a figure is never shown without being recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import answers
from storage.summary_models import ReleasedCell
from surveys import disclosure
from surveys.disclosure import Cell
from surveys.summary import ParticipationRow, Summary


def released(session: Session, round_ids: Iterable[int]) -> list[Cell]:
    """Every cell released so far for these rounds."""
    ids = sorted(set(round_ids))
    if not ids:
        return []
    rows = session.execute(
        select(
            ReleasedCell.round_id,
            ReleasedCell.measure,
            ReleasedCell.group,
            ReleasedCell.contributors,
        ).where(ReleasedCell.round_id.in_(ids))
    )
    return [Cell(int(r), str(m), str(g), int(n)) for r, m, g, n in rows]


def stamps(session: Session) -> dict[int, tuple[int, int]]:
    """Per round, the ledger's state in one cheap query: (newest id, rows); it changes with
    any release of the round or with a ledger put back from a backup."""
    rows = session.execute(
        select(
            ReleasedCell.round_id, func.max(ReleasedCell.id), func.count(ReleasedCell.id)
        ).group_by(ReleasedCell.round_id)
    ).all()
    return {int(r): (int(newest), int(count)) for r, newest, count in rows}


def record(
    session: Session, cells: Iterable[Cell], source: str, today: dt.date, known: Iterable[Cell] = ()
) -> int:
    """Add the cells not yet in the ledger with the same count; returns how many were added."""
    seen = {(c.key, c.n) for c in known}
    new = []
    for cell in cells:
        if (cell.key, cell.n) in seen:
            continue
        seen.add((cell.key, cell.n))
        new.append(
            ReleasedCell(
                round_id=cell.round_id,
                measure=cell.measure,
                group=cell.group,
                contributors=cell.n,
                released_on=today,
                source=source[:20],
            )
        )
    session.add_all(new)
    session.flush()
    return len(new)


def release_summary(
    session: Session, summary: Summary, k: int, source: str, today: dt.date
) -> Summary:
    """The summary as it may be shown now; what it shows is recorded in the ledger."""
    rounds = [summary.round_id]
    if summary.previous is not None and summary.previous.round_id is not None:
        rounds.append(summary.previous.round_id)
    before = released(session, rounds)
    shown, cells = disclosure.release(summary, before, k)
    record(session, cells, source, today, before)
    return shown


def release_participation(
    session: Session,
    round_id: int,
    rows: Iterable[ParticipationRow],
    answered: int | None,
    k: int,
    source: str,
    today: dt.date,
) -> tuple[ParticipationRow, ...]:
    """Participation per municipality as it may be shown now, recorded in the ledger."""
    before = released(session, [round_id])
    shown, cells = disclosure.release_participation(round_id, rows, answered, before, k)
    record(session, cells, source, today, before)
    return shown


def release_group_mean(
    session: Session,
    round_id: int,
    factor_id: str,
    facet: str,
    group: str,
    k: int,
    source: str,
    today: dt.date,
) -> tuple[float, int] | None:
    """A factor's experienced mean in one group of a round ("one thing back"), or None.

    Shown only when the group has at least k answers, when the rest of the round has none
    or at least k (else the round's overall figure minus this one gives the few others),
    and when no earlier release of the same cell differs by 1..k−1; recorded when shown.
    """
    mean, n = answers.facet_mean(session, round_id, facet, factor_id, group)
    _, total = answers.facet_mean(session, round_id, facet, factor_id)
    if mean is None or n < k or 0 < total - n < k:
        return None
    cell = Cell(round_id, f"experienced:{factor_id}", group, n)
    before = released(session, [round_id])
    if disclosure.differing([cell], before, k):
        return None
    record(session, [cell], source, today, before)
    return mean, n
