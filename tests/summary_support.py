"""Helpers for the summary tests: store synthetic frames, read published figures."""

from __future__ import annotations

import datetime as dt
import secrets

import pandas as pd

from storage.db import Database
from storage.frames import RESPONSE_COLUMNS
from storage.models import Facet, Invitation, Response, Round
from surveys.summary import Summary, facets_of

NOW = dt.datetime(2027, 1, 12, 8, 0, tzinfo=dt.UTC)
EXP19 = dict(
    F01=3.6, F02=4.3, F03=3.8, F04=3.4, F05=3.9, F06=3.3, F07=3.4, F08=3.7, F09=4.5, F10=4.2
)
# 2021 as the report tells it: better communication with the leader, better access to
# training, more influence on working hours, a better fagmiljø, fewer challenging tasks.
EXP21 = dict(EXP19, F01=4.2, F02=3.8, F07=4.0, F08=4.3, F10=4.7)
IMPORTANCE = {f: 5.2 for f in EXP19}


def add_round(db: Database, number: int, status: str = "closed") -> int:
    with db.transaction() as session:
        round_ = Round(
            number=number,
            seed=f"seed{number}",
            per_pulse=3,
            status=status,
            opened_at=NOW - dt.timedelta(days=7 * (10 - number)),
            closes_at=NOW,
            closed_at=NOW if status == "closed" else None,
        )
        session.add(round_)
        session.flush()
        return round_.id


def _plain(record: dict) -> dict:
    return {key: (None if isinstance(v, float) and pd.isna(v) else v) for key, v in record.items()}


def store_frame(
    db: Database, frame: pd.DataFrame, round_id: int, invited: int = 0, invitations: bool = True
) -> None:
    """Insert a synthetic frame as sealing would: answers into `responses` without segment,
    the segment as unlinked `facets` records (and finished invitations without people)."""
    frame = frame.assign(round_id=round_id)
    facets = facets_of(frame).to_dict("records")
    records = frame[RESPONSE_COLUMNS].to_dict("records")
    with db.transaction() as session:
        session.add_all(Response(id=secrets.token_hex(16), **_plain(r)) for r in records)
        session.add_all(Facet(id=secrets.token_hex(16), **_plain(r)) for r in facets)
        finished = frame["submission_key"].nunique() if invitations else 0
        session.add_all(
            Invitation(
                round_id=round_id, person_id=None, status="finished" if i < finished else "invited"
            )
            for i in range(max(invited, finished))
        )


def published(summary: Summary) -> list[tuple[str, str, int, float]]:
    """Every (measure, group, n, sum of answers) a reader can work out from a summary."""
    cells: list[tuple[str, str, int, float]] = []
    if summary.quit is not None:
        cells.append(("quit", "*", summary.quit.n, summary.quit.value * summary.quit.n))
    for g in summary.quit_by_profession:
        if g.share is not None:
            cells.append(("quit", g.group, g.share.n, g.share.value * g.share.n))
    for f in summary.factors:
        if f.experienced is not None:
            cells.append((f"{f.factor_id}.exp", "*", f.n, f.experienced * f.n))
    return cells


def recoverable(summaries: list[Summary], k: int) -> list[tuple[str, int, float]]:
    """A differencing attacker: totals minus visible groups, and any pair of summaries.

    Returns (measure, n, sum) for every set of fewer than k answers whose sum can be worked
    out — empty when the summaries are safe.
    """
    found = []
    for s in summaries:
        cells = published(s)
        totals = {m: (n, t) for m, g, n, t in cells if g == "*"}
        for measure, (n, t) in totals.items():
            parts = [(pn, pt) for m, g, pn, pt in cells if m == measure and g != "*"]
            rest_n = n - sum(pn for pn, _ in parts)
            if parts and 0 < rest_n < k:
                found.append((measure, rest_n, t - sum(pt for _, pt in parts)))
    for i, a in enumerate(summaries):
        for b in summaries[i + 1 :]:
            if a.round_id != b.round_id:
                continue  # different rounds hold different answers: nothing to subtract
            for ma, ga, na, ta in published(a):
                for mb, gb, nb, tb in published(b):
                    if ma == mb and ga == gb and 0 < abs(na - nb) < k:
                        found.append((ma, abs(na - nb), abs(ta - tb)))
    return found
