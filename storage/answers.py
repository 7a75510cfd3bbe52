"""Rounds, invitations and answers: the anonymity core.

Answers of an unfinished pulse are kept in `pending_answers`, linked to the invitation so the
pulse can resume. When the pulse is finished (or the round closes), they are moved into
`holding` under a random submission key with the person's coarse segment, the link is
deleted, all in one transaction. Holding is flushed into `responses` in shuffled batches of
at least k submissions (or all that remain when the round closes), so neither a key nor the
row order tells which invitation a response came from.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from random import SystemRandom

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storage.models import Holding, Invitation, PendingAnswer, Person, Prompt, Response, Round

SEGMENT_FIELDS = (
    "municipality",
    "profession",
    "age_band",
    "tenure_band",
    "position_band",
    "shifts",
)
_shuffle = SystemRandom().shuffle


def random_key() -> str:
    """128 random bits as hex: a key that says nothing about when or by whom."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class RoundCounts:
    """Participation, as counts only."""

    invited: int
    finished: int
    started: int


def open_round(
    session: Session,
    now: dt.datetime,
    closes_at: dt.datetime,
    per_pulse: int,
    seed: str | None = None,
) -> Round:
    """Create the next round; invitations are added by `invite`."""
    if current_round(session) is not None:
        raise ValueError("a round is already open")
    number = (session.scalar(select(func.max(Round.number))) or 0) + 1
    round_ = Round(
        number=number,
        seed=seed or secrets.token_hex(8),
        per_pulse=per_pulse,
        status="open",
        opened_at=now,
        closes_at=closes_at,
    )
    session.add(round_)
    session.flush()
    return round_


def current_round(session: Session) -> Round | None:
    return session.scalar(select(Round).where(Round.status == "open").order_by(Round.id.desc()))


def latest_closed_round(session: Session, before_number: int | None = None) -> Round | None:
    query = select(Round).where(Round.status == "closed")
    if before_number is not None:
        query = query.where(Round.number < before_number)
    return session.scalar(query.order_by(Round.number.desc()))


def invitation_for(session: Session, round_id: int, person_id: int) -> Invitation | None:
    return session.scalar(
        select(Invitation).where(Invitation.round_id == round_id, Invitation.person_id == person_id)
    )


def invite(
    session: Session, round_: Round, person_id: int, slot: int, plan: Sequence[str]
) -> Invitation:
    invitation = Invitation(
        round_id=round_.id, person_id=person_id, slot=slot, plan=list(plan), status="invited"
    )
    session.add(invitation)
    session.flush()
    return invitation


def next_slot(session: Session, round_id: int) -> int:
    """The slot a late joiner gets: continuing the cycle keeps factor counts balanced."""
    highest = session.scalar(
        select(func.max(Invitation.slot)).where(Invitation.round_id == round_id)
    )
    return 0 if highest is None else highest + 1


def pending_answers(session: Session, invitation_id: int) -> dict[str, PendingAnswer]:
    rows = session.scalars(
        select(PendingAnswer).where(PendingAnswer.invitation_id == invitation_id)
    )
    return {row.question_id: row for row in rows}


def store_pending(
    session: Session, invitation_id: int, question_id: str, value: int | None, text: str | None
) -> None:
    """Store one answer of an unfinished pulse (unique per question: a second one fails)."""
    session.add(
        PendingAnswer(invitation_id=invitation_id, question_id=question_id, value=value, text=text)
    )
    session.flush()


def seal(
    session: Session, invitation: Invitation, person: Person | None, today: dt.date, complete: bool
) -> int:
    """Move an invitation's pending answers into holding and cut every link to the person.

    Returns the number of answers moved. Runs inside the caller's transaction, so either all
    of it happens or none of it.
    """
    answers = list(pending_answers(session, invitation.id).values())
    if answers:
        submission = random_key()
        segment = {f: getattr(person, f) if person else None for f in SEGMENT_FIELDS}
        session.add_all(
            Holding(
                id=random_key(),
                round_id=invitation.round_id,
                submission_key=submission,
                question_id=a.question_id,
                value=a.value,
                text=a.text,
                complete=complete,
                **segment,
            )
            for a in answers
        )
    session.execute(delete(PendingAnswer).where(PendingAnswer.invitation_id == invitation.id))
    session.execute(delete(Prompt).where(Prompt.invitation_id == invitation.id))
    invitation.plan = None
    if complete:
        invitation.status = "finished"
        invitation.finished_on = today
    else:
        invitation.status = "closed"
    session.flush()
    return len(answers)


def flush_holding(session: Session, round_id: int, k: int, force: bool = False) -> int:
    """Shuffle waiting submissions into responses once there are at least k (or when forced).

    Returns how many submissions were moved.
    """
    submissions = (
        session.scalar(
            select(func.count(func.distinct(Holding.submission_key))).where(
                Holding.round_id == round_id
            )
        )
        or 0
    )
    if submissions == 0 or (submissions < k and not force):
        return 0
    rows = list(session.scalars(select(Holding).where(Holding.round_id == round_id)))
    _shuffle(rows)
    session.add_all(
        Response(
            id=random_key(),
            round_id=row.round_id,
            submission_key=row.submission_key,
            question_id=row.question_id,
            value=row.value,
            text=row.text,
            complete=row.complete,
            **{f: getattr(row, f) for f in SEGMENT_FIELDS},
        )
        for row in rows
    )
    session.execute(delete(Holding).where(Holding.round_id == round_id))
    session.flush()
    return submissions


def close_round(session: Session, round_: Round, now: dt.datetime, today: dt.date, k: int) -> int:
    """Close a round: seal every unfinished pulse as partial, flush all, forget the plans.

    Returns the number of partial submissions sealed.
    """
    partial = 0
    open_invitations = session.scalars(
        select(Invitation).where(Invitation.round_id == round_.id, Invitation.status == "invited")
    ).all()
    for invitation in open_invitations:
        person = session.get(Person, invitation.person_id) if invitation.person_id else None
        if seal(session, invitation, person, today, complete=False):
            partial += 1
    flush_holding(session, round_.id, k, force=True)
    round_.status = "closed"
    round_.closed_at = now
    session.flush()
    return partial


def round_counts(session: Session, round_id: int) -> RoundCounts:
    """How many were invited, finished, and have started (counts, never names)."""
    invited = (
        session.scalar(
            select(func.count()).select_from(Invitation).where(Invitation.round_id == round_id)
        )
        or 0
    )
    finished = (
        session.scalar(
            select(func.count())
            .select_from(Invitation)
            .where(Invitation.round_id == round_id, Invitation.status == "finished")
        )
        or 0
    )
    started = (
        session.scalar(
            select(func.count(func.distinct(PendingAnswer.invitation_id)))
            .join(Invitation, Invitation.id == PendingAnswer.invitation_id)
            .where(Invitation.round_id == round_id)
        )
        or 0
    )
    return RoundCounts(invited=invited, finished=finished, started=started)


def mark_nudged(session: Session, invitation_id: int, now: dt.datetime) -> bool:
    """Record a nudge; False if one was already recorded (never more than one per round)."""
    result = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.nudged_at.is_(None))
        .values(nudged_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def segment_mean(
    session: Session, round_id: int, question_id: str, **segment: str
) -> tuple[float | None, int]:
    """Mean and count of one question's values in a segment of a round's responses."""
    query = select(func.avg(Response.value), func.count(Response.value)).where(
        Response.round_id == round_id, Response.question_id == question_id
    )
    for name, value in segment.items():
        query = query.where(getattr(Response, name) == value)
    mean, count = session.execute(query).one()
    return (float(mean) if mean is not None else None), int(count or 0)
