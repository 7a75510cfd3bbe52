"""The engine under random input: whatever people press or type, storage stays valid."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.app import assemble
from bot.conversation import EngineConfig
from bot.ports import ChoicePressed, Command, OutgoingMessage, TextReceived
from storage.models import Holding, PendingAnswer, Response
from tests.conftest import OSLO, FakeClock, add_person, wipe

actions = st.lists(
    st.one_of(
        st.tuples(st.just("press"), st.integers(0, 3), st.integers(0, 12), st.integers(0, 20)),
        st.tuples(st.just("forge"), st.integers(0, 3), st.text(max_size=60)),
        st.tuples(st.just("text"), st.integers(0, 3), st.text(max_size=1200)),
        st.tuples(
            st.just("command"),
            st.integers(0, 3),
            st.sampled_from(["puls", "pause", "stopp", "meg", "hjelp", "slett", "language", "x"]),
        ),
    ),
    max_size=40,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=actions)
def test_random_input_never_stores_anything_invalid(migrated, survey, steps) -> None:
    db = migrated
    wipe(db)
    clock = FakeClock(dt.datetime(2027, 1, 12, 8, tzinfo=OSLO))
    engine = assemble(db, survey, EngineConfig(k=3, tz=OSLO), clock)
    addresses = [add_person(engine, f"R{i}")[1] for i in range(4)]
    engine.open_round()
    seen: dict[int, list[OutgoingMessage]] = {i: [] for i in range(4)}
    for step in steps:
        kind, who = step[0], step[1]
        address = addresses[who]
        if kind == "press":
            history = [m for m in seen[who] if m.choices]
            if not history:
                continue
            message = history[step[2] % len(history)]  # old messages too: replays
            reply = engine.handle(
                ChoicePressed(address, message.choices[step[3] % len(message.choices)].data)
            )
        elif kind == "forge":
            reply = engine.handle(ChoicePressed(address, step[2]))
        elif kind == "text":
            reply = engine.handle(TextReceived(address, step[2]))
        else:
            reply = engine.handle(Command(address, step[2]))
        seen[who].extend(reply.messages)
        if reply.edit is not None:
            assert reply.edit.choices == ()
    engine.close_round()
    with db.transaction() as session:
        assert session.scalars(select(PendingAnswer)).all() == []
        assert session.scalars(select(Holding)).all() == []
        for response in session.scalars(select(Response)):
            question = survey.question(response.question_id)
            if question.is_free_text:
                assert response.value is None and 0 < len(response.text or "") <= question.max_chars
            else:
                assert question.scale.is_valid(str(response.value)), response
        per_submission: dict[str, list[str]] = {}
        for response in session.scalars(select(Response)):
            per_submission.setdefault(response.submission_key, []).append(response.question_id)
        for questions in per_submission.values():
            assert len(questions) == len(set(questions))  # never two answers to one question
            assert len(questions) <= 8
