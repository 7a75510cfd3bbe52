"""The leader's open draft (a gathering or task asked for step by step): read, start, drop.

Queries only; what the steps mean is bot/drafts.py's. An expired draft is deleted when it is
read, so nothing but the newest day's draft ever waits.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.network_models import Draft

LIFETIME = dt.timedelta(days=1)


def open_draft(session: Session, person_id: int, now: dt.datetime) -> Draft | None:
    """The person's draft, unless it has expired (then it is removed)."""
    draft = session.scalar(select(Draft).where(Draft.person_id == person_id))
    if draft is not None and draft.expires_at <= now:
        session.delete(draft)
        session.flush()
        return None
    return draft


def start(
    session: Session, person_id: int, kind: str, step: str, data: dict[str, str], now: dt.datetime
) -> tuple[Draft, bool]:
    """A new draft in place of any old one; (the draft, whether an unexpired one was replaced)."""
    replaced = open_draft(session, person_id, now) is not None
    drop(session, person_id)
    draft = Draft(
        person_id=person_id, kind=kind, step=step, data=dict(data), asked_at=now,
        expires_at=now + LIFETIME,
    )  # fmt: skip
    session.add(draft)
    session.flush()
    return draft, replaced


def drop(session: Session, person_id: int) -> None:
    """End the person's draft (saved, cancelled or replaced)."""
    session.execute(delete(Draft).where(Draft.person_id == person_id))
