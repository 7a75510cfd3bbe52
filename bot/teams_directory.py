"""Where each person is on Teams: the engine side of the Teams transport.

The transport only translates activities; what it must remember or look up about people
(the conversation reference to send to, the roster binding by e-mail, "the app was
removed") goes through these functions, so that no module under bot/transports/ touches
storage. Each function is synchronous and runs in its own transaction (call it with
`asyncio.to_thread` from the event loop).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage import inbound, people
from storage import teams as store

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session

    from bot.conversation import Conversation

log = logging.getLogger(__name__)

PLATFORM = store.PLATFORM


@dataclass(frozen=True)
class Reference:
    """A personal Teams chat: what a proactive message needs."""

    conversation_id: str
    service_url: str
    tenant_id: str | None


def where(engine: Conversation, user_id: str) -> tuple[tuple[str, str], str] | None:
    """The person's (service URL, conversation) and language, or None when never seen."""
    with engine.db.transaction() as session:
        found = store.reference(session, user_id)
        person = people.by_address(session, PLATFORM, user_id)
        lang = person.language if person else engine.config.default_language
        return (found, lang) if found else None


def bind(engine: Conversation, user_id: str, email: str, reference: Reference) -> int | None:
    """Bind the Teams user to the rostered person with this e-mail; their id, or None."""
    now = engine.clock()
    with engine.db.transaction() as session:
        person = store.bind_by_email(session, email, user_id, now)
        if person is None:
            return None
        _remember(session, person.id, user_id, reference, now)
        log.info("person %s matched to Teams by e-mail", person.id)
        return person.id


def known(engine: Conversation, user_id: str, reference: Reference | None) -> bool:
    """Whether the sender is a bound person; refreshes where their chat is (`reference`)."""
    with engine.db.transaction() as session:
        person = people.by_address(session, PLATFORM, user_id)
        if person is None:
            return False
        if reference is not None:
            _remember(session, person.id, user_id, reference, engine.clock())
        return True


def claim(engine: Conversation, key: str) -> bool:
    """True the first time this Teams activity (outside a pulse delivery) is seen."""
    with engine.db.transaction() as session:
        return inbound.claim(session, PLATFORM, key, engine.clock())


def removed(engine: Conversation, user_id: str) -> bool:
    """The app was removed for this user: no proactive messages until they write again."""
    with engine.db.transaction() as session:
        return store.mark_unreachable(session, user_id, "teams: the app was removed")


def _remember(
    session: Session, person_id: int, user_id: str, ref: Reference, now: dt.datetime
) -> None:
    store.remember(
        session, person_id, user_id, ref.conversation_id, ref.service_url, ref.tenant_id, now
    )
