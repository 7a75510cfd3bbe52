"""What was posted to the steering group: enough to refuse a summary that differs by too few.

Only counts are kept (round, how many submissions the posted summary covered and how many
answers stood behind each figure, when), never a figure itself: the rule "nothing may differ
by fewer than k answers from what is already out" only needs the counts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime


class SummaryPost(Base):
    """One summary queued for the steering group (per round, not per transport)."""

    __tablename__ = "summary_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(Integer, index=True)
    submissions: Mapped[int] = mapped_column(Integer)
    # Answers behind each figure shown ({"factor:F01": 31, "quit:*": 44, ...}): counts only.
    cells: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(20))  # round_closed | cli
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
