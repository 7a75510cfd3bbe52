"""The judge itself: a change, a 5xx, a traceback, a leak or a missing reply each fail a case
(so that a clean tally means something). bench/hostile_tally.py leaves the surface "judge"
out: these are not corpus cases."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import delete, select, update

from bot.conversation import Conversation
from storage.models import Address, Person
from tests.conftest import add_person
from tests.hostile.conftest import Stage
from tests.hostile.support import MARKER, Baseline, Judge, snapshot


def _rename(engine: Conversation, name: str) -> None:
    with engine.db.transaction() as session:
        session.execute(update(Person).values(name=name))


def test_each_kind_of_harm_fails_the_case(engine: Conversation, stage: Stage, judge: Judge) -> None:
    stage.ready()
    add_person(engine, "Kari")
    harms = {
        "a row added": lambda seen: add_person(engine, "Inntrenger"),
        "a value changed, the count not": lambda seen: _rename(engine, "Kari Endret"),
        "a 500": lambda seen: seen.status(500),
        "no reply": lambda seen: None,
        "a traceback in the log": lambda seen: logging.getLogger("x").exception("boom"),
        "the marker in the log": lambda seen: logging.getLogger("x").warning(MARKER),
        "an exception": lambda seen: 1 / 0,
    }
    for name, harm in harms.items():
        with pytest.raises(AssertionError), judge.watch(engine.db, "judge") as seen:
            if name != "no reply":
                seen.reply("svar")
            harm(seen)
    with judge.watch(engine.db, "judge") as seen:  # and a harmless case passes
        seen.reply("svar")


def test_the_baseline_puts_back_what_a_case_changed(engine: Conversation, stage: Stage) -> None:
    """Scenes are built once per module; this is what lets the next case start clean."""
    stage.ready()
    add_person(engine, "Ola")
    add_person(engine, "Per")
    baseline = Baseline(engine.db)
    before = snapshot(engine.db)
    add_person(engine, "Inntrenger")  # a row added in two tables,
    _rename(engine, "Ola Endret")  # a value changed,
    with engine.db.transaction() as session:  # and a row removed
        session.execute(delete(Address).where(Address.chat_id == "Per"))
    assert snapshot(engine.db) != before
    baseline.reset()
    assert snapshot(engine.db) == before
    assert baseline.restored >= 2
    with engine.db.transaction() as session:
        assert sorted(session.scalars(select(Person.name))) == ["Ola", "Per"]
