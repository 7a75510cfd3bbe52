"""The console transport: what a person types means what the screen shows."""

from __future__ import annotations

from sqlalchemy import select

from bot.conversation import Conversation
from bot.ports import Address, ChoicePressed, Command, Reply
from bot.transports.console import ConsoleTransport
from storage.models import Holding
from tests.conftest import add_person


def _type(engine: Conversation, console: ConsoleTransport, address: Address, line: str) -> Reply:
    event = console.parse(address, line)
    assert event is not None
    reply = engine.handle(event)
    console.show_reply(reply)
    return reply


def test_typing_a_scale_value_stores_that_value_on_every_scale(engine: Conversation) -> None:
    """Typing 9 at the 0–10 question stores 9, and 4 at a 1–6 question stores 4."""
    screen: list[str] = []
    console = ConsoleTransport(screen.append)
    _, address = add_person(engine, "Ingrid", platform="console")
    engine.open_round()
    console.show_reply(engine.handle(Command(address, "puls")))
    typed: dict[str, int] = {}
    for _ in range(20):
        shown = screen[-1]
        if "[0] 0" in shown:  # the 0–10 question
            assert "[10] 10" in shown and "[11] 10" not in shown
            line = "9"
        elif "[1] 1" in shown:  # 1–6 scales: keys are the values themselves
            assert "[6] 6" in shown and "[7] 6" not in shown
            line = "4"
        elif "[1] Ja" in shown:
            line = "nei"  # a label typed as written presses its button
        else:
            break
        reply = _type(engine, console, address, line)
        assert reply.edit is not None, screen[-3:]
        typed[reply.edit.text.splitlines()[-1]] = int(line) if line.isdigit() else 0
    with engine.db.transaction() as session:
        values = {h.question_id: h.value for h in session.scalars(select(Holding))}
    recommend = [
        q.id for q in engine.survey.questions.values() if q.scale and q.scale.id == "recommend"
    ]
    assert recommend and values[recommend[0]] == 9
    scored = [v for q, v in values.items() if q != recommend[0] and v is not None]
    assert scored and set(scored) <= {4, 0}


def test_button_keys_never_collide_with_values() -> None:
    from bot.ports import Choice
    from bot.transports.console import button_keys

    scale = [Choice(str(v), f"t:{v}") for v in range(11)] + [Choice("Hopp over", "t:skip")]
    assert button_keys(scale) == [str(v) for v in range(11)] + ["a"]
    words = [Choice("Bodø", "t:bodo"), Choice("Fauske", "t:fauske")]
    assert button_keys(words) == ["1", "2"]
    console = ConsoleTransport(lambda _: None)
    console.choices = {"a": "t:skip", "9": "t:9"}
    address = Address("console", "x")
    assert console.parse(address, "9") == ChoicePressed(address, "t:9")
    assert console.parse(address, "11").__class__.__name__ == "TextReceived"
