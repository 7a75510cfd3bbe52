"""Rounds, invitations and answers: the anonymity core.

Answers of an unfinished pulse are kept in `pending_answers`, linked to the invitation so the
pulse can resume. When the pulse is finished (or the round closes), they are moved into
`holding` under a random submission key — with no background attribute — and, separately,
into `facet_holding` as unlinked facet records (`facet_records`): one background attribute
with the answers the summaries need by it, each under its own random key, the attribute kept
only where at least k people on the roster share it. The link is deleted in the same
transaction. Both holding tables are flushed in shuffled batches of at least k submissions
(or all that remain when the round closes), so neither a key nor the row order tells which
invitation a response came from.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from random import SystemRandom
from typing import cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from storage.models import (
    Facet,
    FacetHolding,
    Holding,
    Invitation,
    OutboxMessage,
    PendingAnswer,
    Person,
    Prompt,
    Response,
    Round,
)
from surveys.summary import FACTORS_BY, FULL_80, FULL_POSITION, POSITION_80

# The background attributes a pulse may be counted by, each on its own.
SEGMENT_FIELDS = (
    "municipality",
    "profession",
    "age_band",
    "tenure_band",
    "position_band",
    "shifts",
)
# Which answers are stored with which attribute (one unlinked record each): factor means and
# gaps by municipality and by profession, quitting by profession, and the background
# questions as shares. Position size is kept as "80 % or more" or not: the share the
# Salten report follows, and a coarser attribute that more people share.
QUIT_BY = ("profession",)
SHARES = (POSITION_80, "age_band", "tenure_band", "shifts")
_shuffle = SystemRandom().shuffle
QUOTE_PROMPT = "quote"  # the purpose of the "may we quote you?" buttons


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


def open_round_count(session: Session) -> int:
    """How many rounds are open (one, normally; /metrics shows it)."""
    query = select(func.count()).select_from(Round).where(Round.status == "open")
    return int(session.scalar(query) or 0)


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
    """Store one answer of an unfinished pulse (unique per question: a second one fails).

    One Core INSERT, not an ORM flush (issue 13); the row returned carries the values only
    (not in the session: a later `pending_answers` reads the stored row).
    """
    if session.new:
        session.flush()
    values = {"invitation_id": invitation_id, "question_id": question_id}
    session.connection().execute(
        _STORE_PENDING, {**values, "value": value, "text": text, "quote_ok": False}
    )
    return PendingAnswer(**values, value=value, text=text, quote_ok=False)


_STORE_PENDING = insert(cast(Table, PendingAnswer.__table__))


def set_quote_consent(session: Session, invitation_id: int, question_id: str, ok: bool) -> bool:
    """Record the writer's yes or no to being quoted, on their pending comment (before the
    pulse is sealed, so the consent leaves with the comment and nothing else links it).

    False when there is no pending comment to attach it to (sealed already, or skipped).
    """
    result = session.execute(
        update(PendingAnswer)
        .where(
            PendingAnswer.invitation_id == invitation_id,
            PendingAnswer.question_id == question_id,
            PendingAnswer.text.is_not(None),
        )
        .values(quote_ok=ok)
    )
    return bool(getattr(result, "rowcount", 0))


def awaiting_consent(session: Session, round_id: int) -> list[Invitation]:
    """Open invitations whose pulse waits only for "may we quote you?" (an unused prompt)."""
    waiting = select(Prompt.invitation_id).where(
        Prompt.purpose == QUOTE_PROMPT, Prompt.used_at.is_(None)
    )
    return list(
        session.scalars(
            select(Invitation).where(
                Invitation.round_id == round_id,
                Invitation.status == "invited",
                Invitation.id.in_(waiting),
            )
        )
    )


def attribute(person: Person | None, facet: str) -> str | None:
    """The person's value of one facet (position_80 derived from the position band)."""
    if person is None:
        return None
    if facet == POSITION_80:
        band = person.position_band
        return None if band is None else (FULL_80 if band in FULL_POSITION else "u80")
    value = getattr(person, facet)
    return None if value is None else str(value)


def shared_on_roster(session: Session, facet: str, value: str | None, k: int) -> bool:
    """Whether at least k people on the roster have this value (a rare one points at one)."""
    if value is None:
        return False
    if facet == POSITION_80:
        bands = list(FULL_POSITION) if value == FULL_80 else None
        column = Person.position_band
        where = column.in_(bands) if bands else column.not_in(FULL_POSITION)
    else:
        where = getattr(Person, facet) == value
    return (session.scalar(select(func.count()).select_from(Person).where(where)) or 0) >= k


def facet_records(
    session: Session, person: Person | None, values: dict[str, int | None], k: int
) -> list[dict[str, object]]:
    """The unlinked records one submission leaves: each one attribute and its answers.

    An attribute fewer than k rostered people share is stored as None ("not given"), so no
    record carries a combination that points at fewer than k people.
    """
    kept = {}
    for facet in {*FACTORS_BY, *QUIT_BY, *SHARES}:
        value = attribute(person, facet)
        kept[facet] = value if shared_on_roster(session, facet, value, k) else None
    records: list[dict[str, object]] = []
    factors = sorted({q[:-4] for q in values if q.endswith((".exp", ".imp"))})
    for factor in factors:
        exp, imp = values.get(f"{factor}.exp"), values.get(f"{factor}.imp")
        if exp is None or imp is None:
            continue  # a gap needs both scales; so does every figure by group
        records += [
            {"facet": f, "group_value": kept[f], "item": factor, "value": exp, "value2": imp}
            for f in FACTORS_BY
        ]
    if values.get("quit") is not None:
        records += [
            {"facet": f, "group_value": kept[f], "item": "quit", "value": values["quit"]}
            for f in QUIT_BY
        ]
    records += [{"facet": f, "group_value": kept[f], "item": ""} for f in SHARES]
    return records


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
    of it happens or none of it: the answers leave under a random key, the background goes
    into separate unlinked facet records; pending answers, button tokens, the plan and the
    queued question texts go.
    """
    answers = [
        a for a in pending_answers(session, invitation.id).values() if a.value is not None or a.text
    ]
    if answers:
        submission = random_key()
        session.add_all(
            Holding(
                id=random_key(),
                round_id=invitation.round_id,
                submission_key=submission,
                question_id=a.question_id,
                value=a.value,
                text=a.text,
                quote_ok=bool(a.text) and bool(a.quote_ok),
                complete=complete,
            )
            for a in answers
        )
        values = {a.question_id: a.value for a in answers}
        session.add_all(
            FacetHolding(id=random_key(), round_id=invitation.round_id, **record)
            for record in facet_records(session, person, values, k)
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


# What moves from a holding table to the stored one (each row under a fresh random id).
RESPONSE_FIELDS = (
    "round_id", "submission_key", "question_id", "value", "text", "quote_ok", "complete"
)  # fmt: skip
FACET_FIELDS = ("round_id", "facet", "group_value", "item", "value", "value2")


def _move_shuffled(
    session: Session,
    source: type[Holding] | type[FacetHolding],
    target: type[Response] | type[Facet],
    round_id: int,
    fields: tuple[str, ...],
) -> None:
    """Move a round's held rows in random order under new random ids, then delete them:
    neither the order nor an id of the stored rows says who answered when."""
    rows = list(session.scalars(select(source).where(source.round_id == round_id)))
    _shuffle(rows)
    session.add_all(
        target(id=random_key(), **{field: getattr(row, field) for field in fields}) for row in rows
    )
    session.execute(delete(source).where(source.round_id == round_id))


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
    _move_shuffled(session, Holding, Response, round_id, RESPONSE_FIELDS)
    _move_shuffled(session, FacetHolding, Facet, round_id, FACET_FIELDS)
    session.flush()
    return submissions


def close_round(session: Session, round_: Round, now: dt.datetime, today: dt.date, k: int) -> int:
    """Close a round: seal every unfinished pulse as partial, flush all, forget the plans,
    and store the round's sufficient statistics for trends.

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
    from storage.summaries import store_round_moments  # summaries reads what answers writes

    store_round_moments(session, round_.id)
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


def facet_mean(
    session: Session, round_id: int, facet: str, item: str, group: str | None = None
) -> tuple[float | None, int]:
    """Mean and count of a factor's experienced value in one group (all groups: None)."""
    query = select(func.avg(Facet.value), func.count(Facet.value)).where(
        Facet.round_id == round_id, Facet.facet == facet, Facet.item == item
    )
    if group is not None:
        query = query.where(Facet.group_value == group)
    mean, count = session.execute(query).one()
    return (float(mean) if mean is not None else None), int(count or 0)
