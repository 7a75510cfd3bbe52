"""Queries for the Teams transport: conversation references and binding by e-mail."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storage import people
from storage.models import Person
from storage.teams_models import TeamsConversation

PLATFORM = "teams"


def remember(
    session: Session,
    person_id: int,
    user_id: str,
    conversation_id: str,
    service_url: str,
    tenant_id: str | None,
    now: dt.datetime,
) -> None:
    """Store or refresh where a person's Teams chat is (the service URL may move)."""
    row = session.get(TeamsConversation, user_id)
    if row is None:
        session.execute(delete(TeamsConversation).where(TeamsConversation.person_id == person_id))
        session.add(
            TeamsConversation(
                user_id=user_id,
                person_id=person_id,
                conversation_id=conversation_id,
                service_url=service_url,
                tenant_id=tenant_id,
                updated_at=now,
            )
        )
    elif (row.conversation_id, row.service_url, row.person_id) != (
        conversation_id,
        service_url,
        person_id,
    ):
        row.conversation_id, row.service_url = conversation_id, service_url
        row.person_id, row.tenant_id, row.updated_at = person_id, tenant_id, now
    session.flush()


def reference(session: Session, user_id: str) -> tuple[str, str] | None:
    """(conversation id, service URL) of a Teams user's personal chat, if known."""
    row = session.get(TeamsConversation, user_id)
    return (row.conversation_id, row.service_url) if row else None


def bind_by_email(session: Session, email: str, user_id: str, now: dt.datetime) -> Person | None:
    """The rostered person with this e-mail, now reachable on Teams as `user_id`."""
    person = session.scalar(
        select(Person).where(func.lower(Person.email) == email.strip().lower()).order_by(Person.id)
    )
    if person is None:
        return None
    current = {a.platform: a.chat_id for a in people.addresses_of(session, person.id)}
    if current.get(PLATFORM) != user_id:
        people.bind_address(session, person, PLATFORM, user_id, now)
    person.unreachable_reason = None  # installing the app again counts as writing again
    return person


def mark_unreachable(session: Session, user_id: str, reason: str) -> bool:
    """The app was removed: no more messages until the person writes again."""
    person = people.by_address(session, PLATFORM, user_id)
    if person is None:
        return False
    session.execute(
        update(Person).where(Person.id == person.id).values(unreachable_reason=reason[:200])
    )
    return True
