"""What left beholde, as counts: posts to the steering group, the release ledger, and the
sufficient statistics of sealed rounds.

Never a released figure itself: the rule "nothing may differ by fewer than k answers from
what is already out" only needs the counts behind each figure.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime


class SummaryPost(Base):
    """One summary queued for the steering group (per round, not per transport)."""

    __tablename__ = "summary_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(Integer, index=True)
    submissions: Mapped[int] = mapped_column(Integer)
    # Before migration 0003: the answers behind each figure shown; now in `released_cells`.
    cells: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(20))  # round_closed | cli
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ReleasedCell(Base):
    """The release ledger: one figure that left beholde, as a count of its contributors.

    Every output records here what it showed (round, measure, group, how many answers stood
    behind it, when, through what), so that no later output — of this round, or of a later
    round whose change figures recompute this one — may show a figure over a set of people
    that differs from it by 1..k−1. Counts only: never the figure itself.
    """

    __tablename__ = "released_cells"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(Integer, index=True)
    measure: Mapped[str] = mapped_column(String(60))  # factor:F01 | quit | participation | …
    group: Mapped[str] = mapped_column(String(200))  # * | a group id | ~rest:a,b
    contributors: Mapped[int] = mapped_column(Integer)
    released_on: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20))  # post | print | csv | digest | feedback …


class RoundMoment(Base):
    """A closed round's sufficient statistics, stored when the round is sealed.

    Per factor (and "quit": n and yes count in `sum_e`), for the whole round (facet "") and
    per group of the facets the summaries use, so a trend over a hundred rounds reads a few
    thousand rows instead of every answer. Counts and sums only — never shown as they are:
    what leaves goes through the release path like every other figure.
    """

    __tablename__ = "round_moments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(Integer, index=True)
    facet: Mapped[str] = mapped_column(String(20))  # "" (the whole round) | municipality | …
    group_value: Mapped[str] = mapped_column(String(100))  # "" for the whole round / not given
    factor_id: Mapped[str] = mapped_column(String(40))  # F01 … | quit
    n: Mapped[int] = mapped_column(Integer)
    sum_e: Mapped[float] = mapped_column(Float)
    sum_e2: Mapped[float] = mapped_column(Float)
    sum_i: Mapped[float] = mapped_column(Float)
    sum_i2: Mapped[float] = mapped_column(Float)
    sum_d: Mapped[float] = mapped_column(Float)
    sum_d2: Mapped[float] = mapped_column(Float)
