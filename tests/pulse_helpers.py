"""Helpers to walk a person through a pulse by pressing buttons, as a transport would."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from bot.conversation import Conversation
from bot.ports import Address, ChoicePressed, OutgoingMessage, Reply, TextReceived
from storage.models import Holding, PendingAnswer, Response


def last_with_choices(messages: list[OutgoingMessage]) -> OutgoingMessage | None:
    with_choices = [m for m in messages if m.choices]
    return with_choices[-1] if with_choices else None


def press(engine: Conversation, address: Address, message: OutgoingMessage, value: str) -> Reply:
    data = next(c.data for c in message.choices if c.data.endswith(":" + value))
    return engine.handle(ChoicePressed(address, data))


def answer_all(
    engine: Conversation,
    address: Address,
    first: list[OutgoingMessage],
    choose: Callable[[OutgoingMessage], str] = lambda m: (
        "yes_text" if m.free_text else m.choices[-1].data.split(":")[1]
    ),
    stop_after: int | None = None,
) -> tuple[int, list[OutgoingMessage]]:
    """Press through every question starting from `first`; returns (presses, last messages)."""
    messages = first
    presses = 0
    while (message := last_with_choices(messages)) is not None:
        if stop_after is not None and presses >= stop_after:
            break
        value = choose(message)
        if message.free_text and value == "yes_text":
            reply = engine.handle(TextReceived(address, "Bedre turnus, takk."))
        else:
            reply = press(engine, address, message, value)
        presses += 1
        messages = reply.messages
    return presses, messages


def table_count(engine: Conversation, model: type) -> int:
    with engine.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def stored(engine: Conversation) -> dict[str, int]:
    return {
        "pending": table_count(engine, PendingAnswer),
        "holding": table_count(engine, Holding),
        "responses": table_count(engine, Response),
    }
