"""People, their chat addresses and invite codes."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterable

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from storage.models import Address, Invitation, InviteCode, OutboxMessage, PendingAnswer, Person
from surveys.roster import RosterEntry

_BY_ADDRESS = (
    select(Person)
    .join(Address)
    .where(Address.platform == bindparam("platform"), Address.chat_id == bindparam("chat_id"))
)


def by_address(session: Session, platform: str, chat_id: str) -> Person | None:
    """The person bound to a chat (a statement built once: every delivery asks this)."""
    return session.scalar(_BY_ADDRESS, {"platform": platform, "chat_id": chat_id})


def get(session: Session, person_id: int) -> Person | None:
    return session.get(Person, person_id)


def sender(session: Session, platform: str, chat_id: str) -> Person | None:
    """The person writing from this chat, marked reachable again: whoever writes to the bot
    has not blocked it (any more). None for a chat nobody is bound to."""
    return reachable_again(by_address(session, platform, chat_id))


def reachable_again(person: Person | None) -> Person | None:
    """Whoever writes to the bot has not blocked it (any more): clear the mark."""
    if person is not None and person.unreachable_reason is not None:
        person.unreachable_reason = None
    return person


def mark_unreachable(session: Session, person_id: int, reason: str) -> None:
    """The platform refused the person for good (blocked, deactivated): stop proactive sends
    until they write again (`sender`)."""
    session.execute(
        update(Person).where(Person.id == person_id).values(unreachable_reason=reason[:200])
    )


def by_email(session: Session, email: str) -> Person | None:
    """The rostered person with this e-mail address (case ignored), if any."""
    return session.scalar(
        select(Person).where(func.lower(Person.email) == email.lower()).order_by(Person.id)
    )


def by_name(session: Session, name: str) -> Person | None:
    return session.scalar(select(Person).where(Person.name == name).order_by(Person.id))


def name_key(name: str) -> str:
    """A name as a person would compare it: no case, accents, dashes or extra spaces.

    "ingrid  hansen", "Ingrid Hansén" and "INGRID HANSEN" are the same person; so are
    "Bjørn" and "Bjorn", and "Anne-Lise" and "Anne Lise".
    """
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("ø", "o").replace("æ", "ae").replace("ß", "ss")
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def find_people(session: Session, who: str) -> list[Person]:
    """Everyone `who` (an e-mail address or a name, written loosely) may mean.

    An exact name wins; otherwise every person whose name compares equal (see `name_key`).
    """
    who = " ".join(who.split())
    if "@" in who:
        return list(session.scalars(select(Person).where(Person.email == who.lower())))
    exact = list(session.scalars(select(Person).where(Person.name == who).order_by(Person.id)))
    if exact:
        return exact
    wanted = name_key(who)
    if not wanted:
        return []
    return [
        p for p in session.scalars(select(Person).order_by(Person.id)) if name_key(p.name) == wanted
    ]


def missing_from(session: Session, entries: Iterable[RosterEntry]) -> list[Person]:
    """People in the database whom a complete roster no longer lists."""
    keys = {entry.key for entry in entries}
    return [p for p in session.scalars(select(Person).order_by(Person.name)) if p.key not in keys]


def addresses_of(session: Session, person_id: int) -> list[Address]:
    return list(session.scalars(select(Address).where(Address.person_id == person_id)))


def pulse_counts(session: Session, person_id: int) -> tuple[int, int, int]:
    """(rounds invited to, pulses finished, unfinished answers) — for `/meg`."""
    mine = Invitation.person_id == person_id
    invited = session.scalar(select(func.count()).select_from(Invitation).where(mine))
    finished = session.scalar(
        select(func.count()).select_from(Invitation).where(mine, Invitation.status == "finished")
    )
    pending = session.scalar(
        select(func.count()).select_from(PendingAnswer).join(Invitation).where(mine)
    )
    return invited or 0, finished or 0, pending or 0


def not_on(
    session: Session,
    platform: str,
    municipality: str | None = None,
    with_email: bool = False,
    include_stopped: bool = False,
) -> list[Person]:
    """Rostered people with no chat on `platform`, by municipality and name."""
    query = select(Person).where(
        Person.id.not_in(select(Address.person_id).where(Address.platform == platform))
    )
    if not include_stopped:
        query = query.where(Person.status != "stopped")
    if municipality is not None:
        query = query.where(Person.municipality == municipality)
    if with_email:
        query = query.where(Person.email.is_not(None))
    return list(session.scalars(query.order_by(Person.municipality, Person.name, Person.id)))


def drop_unused_invite_codes(session: Session, person_id: int, platform: str) -> None:
    """Earlier unused codes stop working when a new one is handed out."""
    session.execute(
        delete(InviteCode).where(
            InviteCode.person_id == person_id,
            InviteCode.platform == platform,
            InviteCode.used_at.is_(None),
        )
    )


def bind_address(
    session: Session, person: Person, platform: str, chat_id: str, now: dt.datetime
) -> None:
    """Connect a chat to a person (replacing the person's earlier chat on that platform)."""
    session.execute(
        delete(Address).where(
            (Address.platform == platform)
            & ((Address.person_id == person.id) | (Address.chat_id == chat_id))
        )
    )
    session.add(Address(person_id=person.id, platform=platform, chat_id=chat_id, created_at=now))
    session.flush()


def create_person(session: Session, name: str, now: dt.datetime, **fields: object) -> Person:
    person = Person(
        key=str(fields.pop("key", f"name:{name.casefold()}")),
        name=name,
        created_at=now,
        skipped_background=[],
        **fields,
    )
    session.add(person)
    session.flush()
    return person


def import_roster(
    session: Session, entries: Iterable[RosterEntry], now: dt.datetime
) -> tuple[int, int]:
    """Insert or update people from validated entries; returns (added, updated)."""
    added = updated = 0
    for entry in entries:
        person = session.scalar(select(Person).where(Person.key == entry.key))
        fields = {
            "name": entry.name,
            "email": entry.email,
            "municipality": entry.municipality,
            "profession": entry.profession,
            "role": entry.role,
            "team": entry.team,
            "language": entry.language,
            **entry.background,
        }
        if person is None:
            session.add(Person(key=entry.key, created_at=now, skipped_background=[], **fields))
            added += 1
        else:
            for name, value in fields.items():
                if value is not None:
                    setattr(person, name, value)
            updated += 1
    session.flush()
    return added, updated


def list_people(session: Session) -> list[Person]:
    return list(session.scalars(select(Person).order_by(Person.municipality, Person.name)))


def delete_identity(session: Session, person: Person) -> None:
    """Forget a person: identity, chats, codes, unfinished answers and unsent messages.

    Anonymous responses stay: nothing links them to the person, so they cannot be found.
    Invitations stay without a person so that participation counts remain true.
    """
    invitation_ids = select(Invitation.id).where(Invitation.person_id == person.id)
    session.execute(delete(PendingAnswer).where(PendingAnswer.invitation_id.in_(invitation_ids)))
    session.execute(
        update(Invitation)
        .where(Invitation.person_id == person.id, Invitation.status == "invited")
        .values(status="closed", plan=None)
    )
    session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.person_id == person.id, OutboxMessage.status == "pending"
        )
    )
    session.delete(person)
    session.flush()


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def new_invite_code(
    session: Session, person: Person, platform: str, now: dt.datetime, valid_days: int = 30
) -> str:
    """A one-time code with 128 bits of randomness; only its hash is stored."""
    code = secrets.token_urlsafe(16)
    session.add(
        InviteCode(
            code_hash=hash_code(code),
            person_id=person.id,
            platform=platform,
            created_at=now,
            expires_at=now + dt.timedelta(days=valid_days),
        )
    )
    session.flush()
    return code


def redeem_invite_code(session: Session, code: str, now: dt.datetime) -> tuple[Person | None, str]:
    """Use a code once. Returns (person, "ok") or (None, "unknown" | "used" | "expired")."""
    if not code or len(code) > 64:
        return None, "unknown"
    invite = session.get(InviteCode, hash_code(code), with_for_update=True)
    if invite is None:
        return None, "unknown"
    if invite.used_at is not None:
        return None, "used"
    if invite.expires_at <= now:
        return None, "expired"
    invite.used_at = now
    session.flush()
    return session.get(Person, invite.person_id), "ok"


def reachable_people(session: Session) -> list[Person]:
    """Active people with at least one chat and no known delivery block."""
    return list(
        session.scalars(
            select(Person)
            .where(
                Person.status == "active",
                Person.unreachable_reason.is_(None),
                Person.id.in_(select(Address.person_id)),
            )
            .order_by(Person.id)
        )
    )


def preferred_address(session: Session, person_id: int) -> Address | None:
    """The chat to use when a person has several: the one bound most recently.

    A person on both Slack and Telegram is therefore asked once per round, never twice.
    """
    return session.scalar(
        select(Address)
        .where(Address.person_id == person_id)
        .order_by(Address.created_at.desc(), Address.id.desc())
        .limit(1)
    )


def active_leaders(session: Session) -> list[Person]:
    """The active project leaders, oldest first (the weekly overview goes to each)."""
    query = select(Person).where(Person.role == "leader", Person.status == "active")
    return list(session.scalars(query.order_by(Person.id)))
