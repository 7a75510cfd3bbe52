"""The judge itself: a change, a 5xx, a traceback, a leak or a missing reply each fail a case
(so that a clean tally means something). bench/hostile_tally.py leaves the surface "judge"
out: these are not corpus cases."""

from __future__ import annotations

import logging

import pytest

from bot.conversation import Conversation
from tests.conftest import add_person
from tests.hostile.support import MARKER, Judge


def test_each_kind_of_harm_fails_the_case(engine: Conversation, judge: Judge) -> None:
    harms = {
        "a row added": lambda seen: add_person(engine, "Inntrenger"),
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
