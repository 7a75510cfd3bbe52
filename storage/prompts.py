"""Prompt tokens: what a button carries instead of anything guessable."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from storage.models import Address, Invitation, PendingAnswer, Person, Prompt, Round

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
    """A new prompt's token. One Core INSERT (an ORM flush costs a press about 1 ms of CPU);
    objects added but not yet flushed go first, so a new invitation the prompt names exists."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    if session.new:
        session.flush()
    values = {
        "token": token,
        "person_id": person_id,
        "purpose": purpose,
        "invitation_id": invitation_id,
        "question_id": question_id,
        "ref": ref,
        "created_at": now,
        "used_at": None,
    }
    session.connection().execute(_INSERT, values)
    return token


_PROMPTS = cast(Table, Prompt.__table__)
_INSERT = insert(_PROMPTS)


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


_CLAIM = (
    update(_PROMPTS)
    .where(_PROMPTS.c.token == bindparam("t"), _PROMPTS.c.used_at.is_(None))
    .values(used_at=bindparam("now"))
)


def claim(session: Session, token: str, now: dt.datetime) -> bool:
    """Mark a prompt used; False if it was used already (a second press, a replay, a race).

    One prepared Core UPDATE; the prompt the session holds, if any, is told it is used.
    """
    result = session.connection().execute(_CLAIM, {"t": token, "now": now})
    if not getattr(result, "rowcount", 0):
        return False
    held = session.identity_map.get(identity_key(Prompt, token))
    if held is not None:
        set_committed_value(held, "used_at", now)
    return True


@dataclass
class Press:
    """What a button press needs, read in one query: who pressed, their prompt, its pulse."""

    token: str
    person: Person | None  # None: nobody is bound to the chat
    prompt: Prompt | None  # the presser's own prompt with this token; None: unknown or foreign
    pending: dict[str, PendingAnswer]  # the answers so far of the prompt's invitation


_PRESS = (
    select(Person, Prompt, Invitation, Round, PendingAnswer)
    .select_from(Address)
    .join(Person, Person.id == Address.person_id)
    .outerjoin(Prompt, and_(Prompt.token == bindparam("token"), Prompt.person_id == Person.id))
    .outerjoin(Invitation, Invitation.id == Prompt.invitation_id)
    .outerjoin(Round, Round.id == Invitation.round_id)
    .outerjoin(PendingAnswer, PendingAnswer.invitation_id == Invitation.id)
    .where(Address.platform == bindparam("platform"), Address.chat_id == bindparam("chat_id"))
)


def read_press(session: Session, platform: str, chat_id: str, token: str) -> Press:
    """The sender, their prompt behind `token` with its invitation and round, and the
    answers so far — one statement instead of three (issue 13).

    A token that is not the sender's own finds no prompt, as a forged one does.
    """
    if not token or len(token) > 32:
        token = ""  # matches no prompt
    rows = session.execute(_PRESS, {"token": token, "platform": platform, "chat_id": chat_id}).all()
    if not rows:
        return Press(token, None, None, {})
    person, prompt, invitation, round_, _ = rows[0]
    session.info.setdefault("loaded_with_prompts", []).extend(
        o for o in (invitation, round_) if o is not None
    )
    pending = {row[4].question_id: row[4] for row in rows if row[4] is not None}
    return Press(token, person, prompt, pending)


def retire(session: Session, person_id: int, purpose: str, now: dt.datetime) -> None:
    """Mark the person's unanswered prompts of one purpose used: questions that no longer wait
    (a background question asked twice because the chat was left and opened again)."""
    session.execute(
        update(Prompt)
        .where(Prompt.person_id == person_id, Prompt.purpose == purpose, Prompt.used_at.is_(None))
        .values(used_at=now)
    )


def unused(session: Session, person_id: int, purpose: str) -> list[Prompt]:
    """The person's unanswered prompts of one purpose, newest first.

    Read with their invitations and rounds (as `find` does), which a typed answer to one of
    them needs next: `session.get` for those then costs no query.
    """
    rows = session.execute(_UNUSED, {"person_id": person_id, "purpose": purpose}).all()
    session.info.setdefault("loaded_with_prompts", []).extend(
        o for row in rows for o in row[1:] if o is not None
    )
    return [row[0] for row in rows]


_UNUSED = (
    select(Prompt, Invitation, Round)
    .outerjoin(Invitation, Invitation.id == Prompt.invitation_id)
    .outerjoin(Round, Round.id == Invitation.round_id)
    .where(
        Prompt.person_id == bindparam("person_id"),
        Prompt.purpose == bindparam("purpose"),
        Prompt.used_at.is_(None),
    )
    .order_by(Prompt.created_at.desc())
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
