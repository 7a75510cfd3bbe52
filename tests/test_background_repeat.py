"""/puls typed while a background question waits: the question is asked again, and both the
old and the new buttons still answer it once (a phone shows the old one higher up)."""

from __future__ import annotations

from bot.conversation import Conversation
from bot.ports import Command
from tests.conftest import add_person
from tests.pulse_helpers import last_with_choices, press


def test_the_old_and_the_new_button_of_a_repeated_background_question(engine: Conversation) -> None:
    _, address = add_person(engine, "Ola Nilsen", onboarded=False)
    engine.open_round()
    first = last_with_choices(engine.handle(Command(address, "puls")).messages)
    assert first is not None
    again = last_with_choices(engine.handle(Command(address, "puls")).messages)
    assert again is not None and again.text == first.text
    reply = press(engine, address, first, first.choices[0].data.split(":")[1])
    texts = " ".join(m.text for m in reply.messages) + (reply.edit.text if reply.edit else "")
    assert "Trykk på en av knappene" not in texts, texts
    follow = last_with_choices(reply.messages)
    assert follow is not None and follow.text != first.text  # the next question, not a loop
    late = press(engine, address, again, again.choices[0].data.split(":")[1])
    said = " ".join(m.text for m in late.messages) + (late.notice or "")
    assert "Trykk på en av knappene" not in said, said
