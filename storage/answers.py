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

from storage.models import (
    Holding,
    Invitation,
    OutboxMessage,
    PendingAnswer,
    Person,
    Prompt,
    Response,
    Round,
)

SEGMENT_FIELDS = (
    "municipality",
    "profession",
    "age_band",
    "tenure_band",
    "position_band",
    "shifts",
)
# Dropped first to last until at least k people on the roster share what is kept.
COARSENING_ORDER = (
    "shifts",
    "position_band",
    "tenure_band",
    "age_band",
    "profession",
    "municipality",
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


def invite(session: Session, round_: Round, person_id: int, plan: Sequence[str]) -> Invitation:
    """Record that a person was asked, with their questions for as long as the pulse runs."""
    invitation = Invitation(
        round_id=round_.id, person_id=person_id, plan=list(plan), status="invited"
    )
    session.add(invitation)
    session.flush()
    return invitation


def take_slots(session: Session, round_: Round, count: int = 1) -> int:
    """Reserve `count` consecutive plan slots; returns the first.

    Only a counter is stored, never which person got which slot, so a plan cannot be
    recomputed for a person once their pulse is sealed.
    """
    result = session.execute(
        update(Round)
        .where(Round.id == round_.id)
        .values(slots_used=Round.slots_used + count)
        .returning(Round.slots_used)
    )
    end = int(result.scalar_one())
    session.expire(round_, ["slots_used"])
    return end - count


def pending_answers(session: Session, invitation_id: int) -> dict[str, PendingAnswer]:
    rows = session.scalars(
        select(PendingAnswer).where(PendingAnswer.invitation_id == invitation_id)
    )
    return {row.question_id: row for row in rows}


def store_pending(
    session: Session, invitation_id: int, question_id: str, value: int | None, text: str | None
) -> PendingAnswer:
    """Store one answer of an unfinished pulse (unique per question: a second one fails)."""
    row = PendingAnswer(
        invitation_id=invitation_id, question_id=question_id, value=value, text=text
    )
    session.add(row)
    session.flush()
    return row


def k_anonymous_segment(session: Session, person: Person | None, k: int) -> dict[str, str | None]:
    """The person's segment, coarsened until at least k people on the roster share it.

    A response stores who-like attributes (municipality, profession, …). Where a combination
    is rare — one nurse in Beiarn — it would point at one person even without any key, so
    fields are dropped (shifts first, municipality last) until k people fit what is kept.
    """
    segment: dict[str, str | None] = {
        f: (getattr(person, f) if person else None) for f in SEGMENT_FIELDS
    }
    for dropped in (None, *COARSENING_ORDER):
        if dropped is not None:
            segment[dropped] = None
        kept = [getattr(Person, f) == v for f, v in segment.items() if v is not None]
        if not kept:
            break
        if (session.scalar(select(func.count()).select_from(Person).where(*kept)) or 0) >= k:
            break
    return segment


def seal(
    session: Session,
    invitation: Invitation,
    person: Person | None,
    today: dt.date,
    complete: bool,
    k: int,
) -> int:
    """Move an invitation's pending answers into holding and cut every link to the person.

    Returns the number of answers moved. Runs inside the caller's transaction, so either all
    of it happens or none of it: the answers leave under a random key with a k-anonymous
    segment; pending answers, button tokens, the plan and the queued question texts go.
    """
    answers = [
        a for a in pending_answers(session, invitation.id).values() if a.value is not None or a.text
    ]
    if answers:
        submission = random_key()
        segment = k_anonymous_segment(session, person, k)
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
    if invitation.person_id is not None:
        # The outbox held this person's first question: which factors they were asked.
        session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.person_id == invitation.person_id, OutboxMessage.kind == "pulse"
            )
        )
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
        if seal(session, invitation, person, today, complete=False, k=k):
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
