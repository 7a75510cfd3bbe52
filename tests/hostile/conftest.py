"""Fixtures of the hostile-input suite (see support.py for what each case is judged on)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storage.db import Database
from storage.models import Base
from tests.hostile.support import Judge


@pytest.fixture
def judge(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture) -> Judge:
    return Judge(request, caplog)


@pytest.fixture
def db(migrated: Database) -> Iterator[Database]:
    """The session's database, emptied before each case with DELETE: on PostgreSQL the shared
    fixture's TRUNCATE … RESTART IDENTITY (twice per test) cost most of a case's second, and
    no case here depends on ids starting at 1. Other tests' fixture still empties it first."""
    with migrated.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    yield migrated
