"""Prompt tokens: what a button carries instead of anything guessable."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from storage.models import Invitation, Prompt, Round

TOKEN_BYTES = 12  # 96 bits; 16 URL-safe characters, leaving room in Telegram's 64 bytes


def create(
    session: Session,
    person_id: int,
    purpose: str,
    now: dt.datetime,
    invitation_id: int | None = None,
    question_id: str | None = None,
    ref: str | None = None,
) -> str:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        Prompt(
            token=token,
            person_id=person_id,
            purpose=purpose,
            invitation_id=invitation_id,
            question_id=question_id,
            ref=ref,
            created_at=now,
        )
    )
    session.flush()
    return token


def find(session: Session, token: str) -> Prompt | None:
    """The prompt behind a button, read in one query with its invitation and round.

    A press needs all three; loading them together puts the invitation and round in the
    session, so the engine's `session.get` for them costs no further query. (The session
    holds its objects weakly; `session.info` keeps them for the rest of the transaction.)
    """
    if not token or len(token) > 32:
        return None
    row = session.execute(
        select(Prompt, Invitation, Round)
        .outerjoin(Invitation, Invitation.id == Prompt.invitation_id)
        .outerjoin(Round, Round.id == Invitation.round_id)
        .where(Prompt.token == token)
    ).first()
    if row is None:
        return None
    session.info.setdefault("loaded_with_prompts", []).extend(o for o in row[1:] if o)
    return row[0]


def claim(session: Session, token: str, now: dt.datetime) -> bool:
    """Mark a prompt used; False if it was used already (a second press, a replay, a race)."""
    result = session.execute(
        update(Prompt).where(Prompt.token == token, Prompt.used_at.is_(None)).values(used_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def retire(session: Session, person_id: int, purpose: str, now: dt.datetime) -> None:
    """Mark the person's unanswered prompts of one purpose used: questions that no longer wait
    (a background question asked twice because the chat was left and opened again)."""
    session.execute(
        update(Prompt)
        .where(Prompt.person_id == person_id, Prompt.purpose == purpose, Prompt.used_at.is_(None))
        .values(used_at=now)
    )


def unused(session: Session, person_id: int, purpose: str) -> list[Prompt]:
    """The person's unanswered prompts of one purpose, newest first."""
    return list(
        session.scalars(
            select(Prompt)
            .where(
                Prompt.person_id == person_id, Prompt.purpose == purpose, Prompt.used_at.is_(None)
            )
            .order_by(Prompt.created_at.desc())
        )
    )


def has_unused(session: Session, person_id: int) -> bool:
    """Whether any question or button sent to the person is still unanswered."""
    query = (
        select(Prompt.token).where(Prompt.person_id == person_id, Prompt.used_at.is_(None)).limit(1)
    )
    return session.scalar(query) is not None


def open_delete_question(session: Session, person_id: int, since: dt.datetime) -> str | None:
    """The token of /slett's newest unanswered question asked after `since`, if any."""
    return session.scalar(
        select(Prompt.token)
        .where(
            Prompt.person_id == person_id,
            Prompt.purpose == "delete",
            Prompt.used_at.is_(None),
            Prompt.created_at >= since,
        )
        .order_by(Prompt.created_at.desc())
        .limit(1)
    )


def has_open_question(session: Session, person_id: int, since: dt.datetime) -> bool:
    """Whether a question waits for a press: a background question, a pulse still under way,
    or a /slett or /språk question asked after `since`."""
    query = (
        select(Prompt.token)
        .outerjoin(Invitation, Invitation.id == Prompt.invitation_id)
        .where(
            Prompt.person_id == person_id,
            Prompt.used_at.is_(None),
            or_(
                Prompt.purpose == "background",
                (Prompt.purpose == "pulse") & (Invitation.status == "invited"),
                Prompt.purpose.in_(("delete", "language")) & (Prompt.created_at >= since),
            ),
        )
        .limit(1)
    )
    return session.scalar(query) is not None
