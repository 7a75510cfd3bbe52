"""Fixtures of the hostile-input suite (see support.py for what each case is judged on).

Each module builds its scene (people, an open round, a running server against a fake
platform) once per database, not once per case: `Stage.ready` remembers the tables as the
scene left them and, before every later case, puts back whatever differs (a case's claim,
or anything a failing case changed), so each case starts from the very rows a fresh scene
would give it. The judge still snapshots every table before and after each case.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.app import assemble
from bot.conversation import Conversation, EngineConfig
from storage.db import Database
from surveys.definition import Survey
from tests.conftest import OSLO, tuesday_morning, wipe
from tests.hostile.support import Baseline, Judge


class Stage:
    """The module's database, and one baseline per scene built on it."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.baselines: dict[str, Baseline] = {}

    def ready(self, scene: str = "empty") -> Database:
        """The first case of `scene` remembers its rows; every later one gets them back."""
        if scene in self.baselines:
            self.baselines[scene].reset()
        else:
            self.baselines[scene] = Baseline(self.db)
        return self.db


@pytest.fixture
def judge(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture) -> Judge:
    return Judge(request, caplog)


@pytest.fixture(scope="module")
def stage(migrated: Database) -> Iterator[Stage]:
    """The session's database, emptied once for the module (and again after it, as the
    shared fixture leaves it for the next test)."""
    wipe(migrated)
    yield Stage(migrated)
    wipe(migrated)


@pytest.fixture(scope="module")
def engine(stage: Stage, survey: Survey) -> Conversation:
    """One engine per module and database (the same clock, a Tuesday morning in Oslo)."""
    return assemble(stage.db, survey, EngineConfig(k=5, tz=OSLO), tuesday_morning())


@pytest.fixture
def db(stage: Stage) -> Database:
    """For cases without a scene: the module's database, as empty as the module found it."""
    return stage.ready()
