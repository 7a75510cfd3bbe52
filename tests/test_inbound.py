"""The one inbound path: a delivery is claimed, handled and committed together, or not at all."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import inbound
from bot.conversation import Conversation
from bot.ports import Address, ChoicePressed, Command, OutgoingMessage, SendError, TextReceived
from storage.models import InboundEvent, OutboxMessage, PendingAnswer, Person, Prompt
from tests.conftest import add_person

ROOT = Path(__file__).resolve().parent.parent


def count(engine: Conversation, model: type) -> int:
    with engine.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def first_token(engine: Conversation, person_id: int) -> str:
    with engine.db.transaction() as session:
        token = session.scalar(
            select(Prompt.token).where(Prompt.person_id == person_id, Prompt.used_at.is_(None))
        )
    assert token is not None
    return token


def test_no_transport_imports_storage() -> None:
    for path in sorted((ROOT / "bot" / "transports").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not [n for n in names if n == "storage" or n.startswith("storage.")], path.name


def test_a_repeated_delivery_is_handled_once(engine: Conversation) -> None:
    person_id, address = add_person(engine, "Kari")
    engine.open_round()
    token = first_token(engine, person_id)
    press = ChoicePressed(address, f"{token}:5")
    first = inbound.receive(engine, "test", "update-1", press)
    assert first is not None and first.edit is not None
    assert inbound.receive(engine, "test", "update-1", press) is None
    assert count(engine, PendingAnswer) == 1
    assert count(engine, InboundEvent) == 1
    # The same key on another platform is another delivery.
    other = inbound.receive(engine, "other", "update-1", Command(address, "hjelp"))
    assert other is not None and other.messages


def test_a_failing_handler_rolls_back_the_claim_with_everything_else(
    engine: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    person_id, address = add_person(engine, "Kari")
    engine.open_round()
    token = first_token(engine, person_id)
    press = ChoicePressed(address, f"{token}:5")
    original = engine.respond

    def crash_after_storing(*args: object, **kwargs: object) -> object:
        original(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("the process fell over mid-press")

    monkeypatch.setattr(engine, "respond", crash_after_storing)
    with pytest.raises(RuntimeError):
        inbound.receive(engine, "test", "update-7", press)
    assert count(engine, InboundEvent) == 0
    assert count(engine, PendingAnswer) == 0
    monkeypatch.setattr(engine, "respond", original)
    retried = inbound.receive(engine, "test", "update-7", press)  # the platform's retry
    assert retried is not None and retried.edit is not None
    assert count(engine, PendingAnswer) == 1


def test_whoever_writes_is_reachable_again_and_strangers_are_flagged(
    engine: Conversation,
) -> None:
    person_id, address = add_person(engine, "Kari")
    with engine.db.transaction() as session:
        person = session.get(Person, person_id)
        assert person is not None
        person.unreachable_reason = "Forbidden: bot was blocked by the user"
    reply = inbound.receive(engine, "test", "m1", TextReceived(address, "hei"))
    assert reply is not None and not reply.unknown_sender
    with engine.db.transaction() as session:
        assert session.get(Person, person_id).unreachable_reason is None  # type: ignore[union-attr]
    stranger = inbound.receive(engine, "test", "m2", TextReceived(Address("test", "nobody"), "hei"))
    assert stranger is not None and stranger.unknown_sender


def test_a_typed_answer_says_so_in_a_field_not_only_in_text(engine: Conversation) -> None:
    engine.open_round()
    person_id, address = add_person(engine, "Kari")
    with engine.db.transaction() as session:
        from storage import answers, people

        person = people.by_address(session, address.platform, address.chat_id)
        round_ = answers.current_round(session)
        assert person is not None and round_ is not None
        engine.ensure_invitation(session, round_, person).plan = ["quit"]
    inbound.receive(engine, "test", "c1", Command(address, "puls"))
    yes = first_token(engine, person_id)
    inbound.receive(engine, "test", "p1", ChoicePressed(address, f"{yes}:1"))
    reply = inbound.receive(engine, "test", "t1", TextReceived(address, "Bedre turnus"))
    assert reply is not None and reply.answered
    assert reply.messages[0].text == reply.answered
    # Nothing open any more: the next typed text is not "saved".
    again = inbound.receive(engine, "test", "t2", TextReceived(address, "Mer tid"))
    assert again is not None and not again.answered
    assert all(m.text != reply.answered for m in again.messages)


async def test_send_or_queue_sends_in_order_and_queues_the_rest_once(
    engine: Conversation,
) -> None:
    person_id, address = add_person(engine, "Kari")
    sent: list[str] = []

    async def flaky(message: OutgoingMessage) -> str:
        if message.text == "to":
            raise SendError("502 Bad Gateway")
        sent.append(message.text)
        return "id"

    messages = [OutgoingMessage(t) for t in ("en", "to", "tre")]
    assert await inbound.send_or_queue(engine, flaky, address, messages, "u1") == 1
    assert await inbound.send_or_queue(engine, flaky, address, messages, "u1") == 1
    with engine.db.transaction() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [r.payload["text"] for r in rows] == ["to", "tre"]  # in order, queued once
        assert {r.person_id for r in rows} == {person_id} and {r.kind for r in rows} == {"reply"}

    async def blocked(message: OutgoingMessage) -> str:
        raise SendError("Forbidden: bot was blocked by the user", permanent=True)

    assert await inbound.send_or_queue(engine, blocked, address, messages, "u2") == 0
    assert count(engine, OutboxMessage) == 2  # nothing queued that can only fail again


async def test_concurrent_duplicates_store_once(engine: Conversation) -> None:
    person_id, address = add_person(engine, "Kari")
    engine.open_round()
    token = first_token(engine, person_id)
    press = ChoicePressed(address, f"{token}:4")
    replies = await asyncio.gather(
        *(asyncio.to_thread(inbound.receive, engine, "test", "dup", press) for _ in range(6))
    )
    assert sum(r is not None for r in replies) == 1
    assert count(engine, PendingAnswer) == 1


def test_a_press_is_one_transaction_with_each_read_once(engine: Conversation) -> None:
    """Issue 13: a mid-pulse press was 12 statements in 2 transactions; now 5 in one."""
    from sqlalchemy import event

    person_id, address = add_person(engine, "Kari")
    engine.open_round()
    inbound.receive(
        engine, "test", "warm", ChoicePressed(address, f"{first_token(engine, person_id)}:3")
    )
    statements: list[str] = []
    commits: list[object] = []

    def on_statement(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(" ".join(statement.split()))

    def on_commit(conn: object) -> None:
        commits.append(conn)

    event.listen(engine.db.engine, "before_cursor_execute", on_statement)
    event.listen(engine.db.engine, "commit", on_commit)
    try:
        token = first_token(engine, person_id)
        statements.clear()
        commits.clear()
        reply = inbound.receive(engine, "test", "press", ChoicePressed(address, f"{token}:4"))
    finally:
        event.remove(engine.db.engine, "before_cursor_execute", on_statement)
        event.remove(engine.db.engine, "commit", on_commit)
    assert reply is not None and reply.edit is not None and reply.messages  # a next question
    work = [s for s in statements if not s.startswith("BEGIN")]
    kinds = [s.split()[0] for s in work]
    assert len(commits) == 1
    # One SELECT: the sender, the prompt with its pulse and the answers so far, together.
    assert kinds.count("SELECT") == 1
    assert kinds.count("INSERT") == 3  # the claim, the answer, the next question's prompt
    assert kinds.count("UPDATE") == 1  # the prompt used
    assert len(work) == 5, work
