"""One inbound delivery → the engine's reply, exactly once (stub; replaced by H3's module).

Claims the delivery (a platform's retry of the same delivery gets None), marks a person who
writes again as reachable, runs the engine and releases the claim when handling fails, so
that the platform's retry is handled. Synchronous: transports call it via asyncio.to_thread.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update

from bot.conversation import Conversation
from bot.ports import Address, InboundEvent, OutgoingMessage, Reply
from storage import inbound, outbox, people
from storage.models import Person


def receive(
    engine: Conversation, platform: str, delivery_key: str, event: InboundEvent
) -> Reply | None:
    """The engine's reply to a delivery, or None when it was handled before."""
    if not inbound.claim(engine.db, platform, delivery_key, engine.clock()):
        return None
    try:
        with engine.db.transaction() as session:
            person = people.by_address(session, platform, event.address.chat_id)
            if person is not None and person.unreachable_reason is not None:
                session.execute(
                    update(Person).where(Person.id == person.id).values(unreachable_reason=None)
                )
        return engine.handle(event)
    except BaseException:
        inbound.release(engine.db, platform, delivery_key)
        raise


def queue_reply(
    engine: Conversation, address: Address, messages: Sequence[OutgoingMessage], key: str
) -> None:
    """Put a reply that could not be sent now into the durable outbox, in order."""
    with engine.db.transaction() as session:
        person = people.by_address(session, address.platform, address.chat_id)
        outbox.enqueue_all(
            session,
            key=f"{address.platform}-reply:{key}",
            platform=address.platform,
            chat_id=address.chat_id,
            kind="reply",
            payloads=[m.to_payload() for m in messages],
            now=engine.clock(),
            person_id=person.id if person else None,
        )
