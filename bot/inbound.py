"""The engine side of every transport: one way in for a platform delivery, one way out for a
reply that cannot be sent now.

A transport only translates: platform payload → `InboundEvent`, `Reply` → platform calls.
Every rule that holds per delivery lives here, once, for Telegram, Slack and Teams alike:

- a delivery is claimed by its platform key, so a platform's retry is handled once;
- whoever writes is reachable again (they have not blocked the bot any more);
- the engine answers in the same transaction as the claim, so a failure rolls back the
  claim with everything else and the platform's retry is handled as if new;
- a reply that cannot be sent now goes to the durable outbox, in order, instead of being lost.

Everything here is synchronous (transports call it with `asyncio.to_thread`), except
`send_or_queue`, which runs the sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot import metrics
from bot.engine_base import well_formed
from bot.ports import Address, ChoicePressed, InboundEvent, OutgoingMessage, Reply, SendError
from storage import inbound, outbox, people, prompts

if TYPE_CHECKING:
    from bot.conversation import Conversation

log = logging.getLogger(__name__)


@metrics.timed_answer
def receive(
    engine: Conversation, platform: str, delivery_key: str, event: InboundEvent
) -> Reply | None:
    """Sync (transports call it via asyncio.to_thread). None = a repeated delivery, nothing done.

    Claims the delivery, marks the sender's person reachable again, runs the engine, and
    releases the claim when handling raises (then re-raises), in one transaction.
    """
    now = engine.clock()
    after: list[Callable[[], None]] = []
    address = event.address
    try:
        with engine.db.transaction() as session:
            if not inbound.claim(session, platform, delivery_key, now):
                log.info("repeated %s delivery ignored", platform)
                return None
            press = None
            if isinstance(event, ChoicePressed) and well_formed(event.data):
                token = event.data.partition(":")[0]
                press = prompts.read_press(session, address.platform, address.chat_id, token)
                person = people.reachable_again(press.person)
            else:
                person = people.sender(session, address.platform, address.chat_id)
            reply = engine.respond(session, person, event, now, after, press)
    except IntegrityError:
        # Two presses raced for one question; the claim went with the rollback, which is
        # harmless: a retry of this delivery finds the question answered.
        return engine.duplicate_reply(event)
    for action in after:
        action()
    return reply


class _RollBack(Exception):
    """Ends the warm-up transaction without keeping anything."""


def warm_up(engine: Conversation, connections: int = 4) -> None:
    """Make the first deliveries after a start as fast as later ones.

    Opens `connections` database connections (the pool keeps them) and runs the press's
    claim and reads once in a transaction that is rolled back, so that connecting, mapper
    configuration and statement compilation do not happen on the way of the first presses
    (they hold the GIL, which the event loop needs to acknowledge in time).
    """
    from sqlalchemy.orm import configure_mappers

    from storage import answers

    configure_mappers()
    try:
        with contextlib.ExitStack() as stack:
            for _ in range(max(1, connections)):
                stack.enter_context(engine.db.engine.connect())
        now = engine.clock()
        with engine.db.transaction() as session:
            inbound.claim(session, "warm-up", "warm-up", now)
            prompts.read_press(session, "warm-up", "warm-up", "warm-up-000000000")
            people.sender(session, "warm-up", "warm-up")
            prompts.find(session, "warm-up-000000000")
            prompts.unused(session, 0, "pulse")
            prompts.claim(session, "warm-up-000000000", now)
            answers.pending_answers(session, 0)
            with contextlib.suppress(SQLAlchemyError), session.begin_nested():
                # the writes of a press (no person 0 nor invitation 0: they may fail)
                answers.store_pending(session, 0, "warm-up", None, None)
                prompts.create(session, 0, "warm-up", now, 0, "warm-up")
            raise _RollBack
    except _RollBack:
        pass
    except SQLAlchemyError as error:  # only a head start: the deliveries will say more
        log.warning("database warm-up failed: %s", type(error).__name__)


def queue_reply(
    engine: Conversation, address: Address, messages: Sequence[OutgoingMessage], key: str
) -> None:
    """The reply-to-outbox fallback when a reply can't be sent now (durable, in order).

    `key` names the delivery the reply belongs to, so queueing the same reply twice (a
    retried delivery whose first try queued) adds nothing.
    """
    if not messages:
        return
    now = engine.clock()
    with engine.db.transaction() as session:
        person = people.by_address(session, address.platform, address.chat_id)
        outbox.enqueue_all(
            session,
            key=f"{address.platform}:reply:{key}",
            platform=address.platform,
            chat_id=address.chat_id,
            kind="reply",
            payloads=[m.to_payload() for m in messages],
            now=now,
            person_id=person.id if person else None,
        )


async def send_or_queue(
    engine: Conversation,
    send: Callable[[OutgoingMessage], Awaitable[object]],
    address: Address,
    messages: Sequence[OutgoingMessage],
    key: str,
) -> int:
    """Send a reply's messages in order; from the first that fails, queue the rest.

    A permanent failure (the person blocked the bot, the chat is gone) queues nothing: the
    outbox would only fail again. Returns how many were sent now.
    """
    for index, message in enumerate(messages):
        try:
            await send(message)
        except SendError as error:
            if error.permanent:
                log.info("%s reply not sent: %s", address.platform, error.reason)
                return index
            log.warning("%s reply goes to the outbox: %s", address.platform, error.reason)
            await asyncio.to_thread(queue_reply, engine, address, messages[index:], key)
            return index
    return len(messages)


def forget_old(engine: Conversation, platform: str, keep: dt.timedelta) -> int:
    """Drop delivery claims older than `keep` (past any retry the platform would make)."""
    return inbound.prune(engine.db, platform, engine.clock() - keep)


def language_of(engine: Conversation, address: Address) -> str:
    """The language of the person in this chat (the default for a stranger)."""
    with engine.db.transaction() as session:
        person = people.by_address(session, address.platform, address.chat_id)
        return person.language if person else engine.config.default_language


def greet_by_email(engine: Conversation, address: Address, email: str) -> Reply | None:
    """Bind an unknown chat to the rostered person with this e-mail and greet them.

    None when nobody on the roster has the address, or the chat is bound to them already.
    """
    now = engine.clock()
    with engine.db.transaction() as session:
        person = people.by_email(session, email)
        if person is None:
            return None
        current = {a.platform: a.chat_id for a in people.addresses_of(session, person.id)}
        if current.get(address.platform) == address.chat_id:
            return None
        people.bind_address(session, person, address.platform, address.chat_id, now)
        log.info("person %s matched to %s by e-mail", person.id, address.platform)
    return engine.greet(address)
