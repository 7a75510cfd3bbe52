"""Storage side of the steering-group summaries: frames for a round, SQL aggregates, posts.

`round_inputs` loads one round and the one before it (two indexed range reads, a few
thousand rows each even with a million stored); `factor_moments` pushes the per-factor
grouping of many rounds into SQL and returns the same sufficient statistics as
`surveys.summary.factor_moments` does in pandas.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Float, and_, case, cast, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from storage import frames
from storage.models import Facet, Person, Response, Round
from storage.summary_models import RoundMoment, SummaryPost
from surveys.summary import MOMENT_COLUMNS

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class RoundInputs:
    """Everything `surveys.summary.build_summary` needs for one round."""

    round_id: int
    round_number: int
    seed: str
    responses: pd.DataFrame
    participation: pd.DataFrame
    previous: pd.DataFrame | None
    previous_number: int | None
    facets: pd.DataFrame
    previous_facets: pd.DataFrame | None


def pick_round(session: Session, number: int | None) -> Round | None:
    """Round by its number, or the newest closed round (the open one if none is closed)."""
    if number is not None:
        return session.scalar(select(Round).where(Round.number == number))
    closed = session.scalar(
        select(Round).where(Round.status == "closed").order_by(Round.number.desc())
    )
    return closed or session.scalar(select(Round).order_by(Round.number.desc()))


def round_inputs(session: Session, round_: Round) -> RoundInputs:
    """The round's responses and participation, and the previous round's responses."""
    before = session.scalar(
        select(Round).where(Round.number < round_.number).order_by(Round.number.desc())
    )
    ids = [round_.id] + ([before.id] if before else [])
    both = frames.responses(session, ids)
    now = both.loc[both["round_id"] == round_.id].reset_index(drop=True)
    previous = both.loc[both["round_id"] == before.id].reset_index(drop=True) if before else None
    groups = frames.facets(session, ids)
    facets = groups.loc[groups["round_id"] == round_.id].reset_index(drop=True)
    previous_facets = (
        groups.loc[groups["round_id"] == before.id].reset_index(drop=True) if before else None
    )
    return RoundInputs(
        round_.id,
        round_.number,
        round_.seed,
        now,
        frames.participation(session, round_.id),
        previous,
        before.number if before else None,
        facets,
        previous_facets,
    )


@dataclass
class RoundRows:
    """`RoundInputs` as plain rows (storage/frames.py column order), for
    `surveys.summary_plain.build_summary_rows` or, when many, as DataFrames (`frames()`)."""

    round_id: int
    round_number: int
    seed: str
    responses: list[tuple[Any, ...]]
    participation: list[tuple[str | None, int, int]]
    previous: list[tuple[Any, ...]] | None
    previous_number: int | None
    facets: list[tuple[Any, ...]]
    previous_facets: list[tuple[Any, ...]] | None

    def frames(self) -> RoundInputs:
        """The same rows as the DataFrames `round_inputs` reads."""
        previous = self.previous
        previous_facets = self.previous_facets
        return RoundInputs(
            self.round_id,
            self.round_number,
            self.seed,
            frames.response_frame(self.responses),
            frames.participation_frame(self.participation),
            frames.response_frame(previous) if previous is not None else None,
            self.previous_number,
            frames.facet_frame(self.facets),
            frames.facet_frame(previous_facets) if previous_facets is not None else None,
        )


def round_rows(session: Session, round_: Round) -> RoundRows:
    """The round's and the previous round's responses and facets, and participation, as
    plain rows: the same two indexed reads as `round_inputs`, without pandas."""
    before = session.scalar(
        select(Round).where(Round.number < round_.number).order_by(Round.number.desc())
    )
    ids = [round_.id] + ([before.id] if before else [])
    both = frames.response_rows(session, ids)
    groups = frames.facet_rows(session, ids)

    def of(rows: list[tuple[Any, ...]], round_id: int) -> list[tuple[Any, ...]]:
        return [row for row in rows if row[0] == round_id]

    return RoundRows(
        round_.id,
        round_.number,
        round_.seed,
        of(both, round_.id),
        frames.participation_counts(session, round_.id),
        of(both, before.id) if before else None,
        before.number if before else None,
        of(groups, round_.id),
        of(groups, before.id) if before else None,
    )


def roster_names(session: Session) -> list[str]:
    """Every name on the roster, as a plain list: used to scrub quotes, linked to nothing."""
    return [name for (name,) in session.execute(select(Person.name)) if name]


def factor_moments(session: Session, round_ids: list[int] | None = None) -> pd.DataFrame:
    """Per round and factor: n, Σexp, Σexp², Σimp, Σimp², Σgap, Σgap² of paired answers.

    One GROUP BY per submission and factor pairs the two scales; a second one sums.
    """
    import pandas as pd

    qid = Response.question_id
    factor = func.substr(qid, 1, func.length(qid) - 4).label("factor_id")
    exp = func.max(case((qid.like("%.exp"), Response.value))).label("e")
    imp = func.max(case((qid.like("%.imp"), Response.value))).label("i")
    pairs = (
        select(Response.round_id, Response.submission_key, factor, exp, imp)
        .where(or_(qid.like("%.exp"), qid.like("%.imp")), Response.value.is_not(None))
        .group_by(Response.round_id, Response.submission_key, factor)
    )
    if round_ids is not None:
        pairs = pairs.where(Response.round_id.in_(round_ids))
    p = pairs.subquery()
    e, i = cast(p.c.e, Float), cast(p.c.i, Float)
    d = i - e
    query = (
        select(
            p.c.round_id,
            p.c.factor_id,
            func.count().label("n"),
            func.sum(e),
            func.sum(e * e),
            func.sum(i),
            func.sum(i * i),
            func.sum(d),
            func.sum(d * d),
        )
        .where(and_(p.c.e.is_not(None), p.c.i.is_not(None)))
        .group_by(p.c.round_id, p.c.factor_id)
        .order_by(p.c.round_id, p.c.factor_id)
    )
    rows = session.execute(query).all()
    return pd.DataFrame(rows, columns=MOMENT_COLUMNS)


def last_posted(session: Session, round_id: int) -> int | None:
    """Submissions covered by the newest summary posted for this round, if any."""
    return session.scalar(
        select(SummaryPost.submissions)
        .where(SummaryPost.round_id == round_id)
        .order_by(SummaryPost.id.desc())
        .limit(1)
    )


def record_post(
    session: Session, round_id: int, submissions: int, source: str, now: dt.datetime
) -> None:
    """Note a queued post; the figures it showed are in the release ledger (storage/releases)."""
    session.add(
        SummaryPost(
            round_id=round_id, submissions=submissions, cells={}, source=source, created_at=now
        )
    )
    session.flush()


# --------------------------------------------------------------------------- stored moments

SUMS = ["sum_e", "sum_e2", "sum_i", "sum_i2", "sum_d", "sum_d2"]


def facet_moments(session: Session, round_ids: list[int]) -> pd.DataFrame:
    """Per round, facet, group and factor, the sufficient statistics of the facet records."""
    import pandas as pd

    e, i = cast(Facet.value, Float), cast(Facet.value2, Float)
    d = i - e
    rows = session.execute(
        select(
            Facet.round_id,
            Facet.facet,
            func.coalesce(Facet.group_value, ""),
            Facet.item,
            func.count(),
            func.sum(e),
            func.sum(e * e),
            func.sum(i),
            func.sum(i * i),
            func.sum(d),
            func.sum(d * d),
        )
        .where(Facet.round_id.in_(round_ids), Facet.value2.is_not(None), Facet.item != "")
        .group_by(Facet.round_id, Facet.facet, Facet.group_value, Facet.item)
    ).all()
    return pd.DataFrame(rows, columns=["round_id", "facet", "group_value", "factor_id", "n", *SUMS])


def quit_counts(session: Session, round_ids: list[int] | None = None) -> pd.DataFrame:
    """Per round: how many answered "considered quitting", and how many said yes."""
    import pandas as pd

    query = (
        select(Response.round_id, func.count(), func.sum(Response.value))
        .where(Response.question_id == "quit", Response.value.is_not(None))
        .group_by(Response.round_id)
    )
    if round_ids is not None:
        query = query.where(Response.round_id.in_(round_ids))
    return pd.DataFrame(session.execute(query).all(), columns=["round_id", "n", "yes"])


def store_round_moments(session: Session, round_id: int) -> int:
    """Seal a round's sufficient statistics (whole round and per facet group); returns rows.

    Called when the round closes, after its last answers are flushed; a second call for the
    same round replaces what was stored (a round is only closed once, but never twice counted).
    """
    import pandas as pd

    session.execute(delete(RoundMoment).where(RoundMoment.round_id == round_id))
    whole = factor_moments(session, [round_id]).assign(facet="", group_value="")
    groups = facet_moments(session, [round_id])
    quit_ = quit_counts(session, [round_id])
    quit_rows = pd.DataFrame(
        {"round_id": quit_["round_id"], "facet": "", "group_value": "", "factor_id": "quit",
         "n": quit_["n"], "sum_e": quit_["yes"].astype(float)}
    ).assign(**{c: 0.0 for c in SUMS[1:]})  # fmt: skip
    frame = pd.concat([whole, groups, quit_rows], ignore_index=True)
    records = [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
        for r in frame[["round_id", "facet", "group_value", "factor_id", "n", *SUMS]].to_dict(
            "records"
        )
    ]
    if records:
        session.execute(insert(RoundMoment), records)
    return len(records)


def trend_moments(
    session: Session, round_ids: Iterable[int] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per closed round: factor moments (MOMENT_COLUMNS) and quitting (round_id, n, yes).

    Reads the moments stored when each round was sealed — a few thousand rows for a hundred
    rounds — and computes them from the answers only for closed rounds that have none
    stored (rounds closed before the moments were kept). `round_ids`: only those rounds
    (the dashboard asks for the ones it has not cached).
    """
    import pandas as pd

    columns = ["round_id", "factor_id", "n", *SUMS]
    query = select(*(getattr(RoundMoment, c) for c in columns)).where(RoundMoment.facet == "")
    closed_query = select(Round.id).where(Round.status == "closed")
    if round_ids is not None:
        wanted = sorted(set(round_ids))
        query = query.where(RoundMoment.round_id.in_(wanted))
        closed_query = closed_query.where(Round.id.in_(wanted))
    rows = session.connection().execute(query).fetchall()
    stored = pd.DataFrame.from_records([tuple(r) for r in rows], columns=columns)
    closed = set(session.scalars(closed_query))
    missing = sorted(closed - set(stored["round_id"]))
    factors = stored.loc[stored["factor_id"] != "quit", MOMENT_COLUMNS]
    quit_ = stored.loc[stored["factor_id"] == "quit"].rename(columns={"sum_e": "yes"})[
        ["round_id", "n", "yes"]
    ]
    if missing:
        factors = pd.concat([factors, factor_moments(session, missing)], ignore_index=True)
        quit_ = pd.concat([quit_, quit_counts(session, missing)], ignore_index=True)
    factors = factors.loc[factors["round_id"].isin(closed)]
    return (
        factors.sort_values(["round_id", "factor_id"]).reset_index(drop=True),
        quit_.loc[quit_["round_id"].isin(closed)].sort_values("round_id").reset_index(drop=True),
    )
