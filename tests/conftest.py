"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured), a fake clock.

PostgreSQL runs when `BEHOLDE_TEST_DATABASE_URL` is set; each test session (each xdist
worker) creates its own database there (and drops it afterwards), so parallel runs never see
each other's rows.
"""

from __future__ import annotations

import compileall
import datetime as dt
import os
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import storage.dashboard
import storage.network_models
import storage.summary_models  # noqa: F401  (steering-group summary posts)
from bot.app import assemble
from bot.conversation import Conversation, EngineConfig
from bot.ports import Address
from storage import people
from storage.db import Database, normalise_url
from storage.models import Base, Person
from surveys.definition import Survey, load_survey
from tests.pg_support import drop_in_background

OSLO = ZoneInfo("Europe/Oslo")
PG_ENV = "BEHOLDE_TEST_DATABASE_URL"


def pytest_configure(config: pytest.Config) -> None:
    """With PYTHONDONTWRITEBYTECODE set, every `beholde …` subprocess and every xdist worker
    would compile beholde's ~150 modules again (0.1–0.5 s each): compile them once, before
    the workers start. (Only the checkout's own packages: installed libraries have bytecode.)"""
    if sys.flags.dont_write_bytecode and not hasattr(config, "workerinput"):
        root = Path(__file__).resolve().parent.parent
        for package in ("bot", "storage", "surveys", "tests"):
            compileall.compile_dir(root / package, quiet=2)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (addopts) spreads the suite over every core; a run of one file or one test
    stays in-process: two workers' start costs more than they save there, and `-s` and
    breakpoints work as usual. (None: xdist counts the cores.)"""
    if len(config.args) == 1 and config.args[0].split("::")[0].endswith(".py"):
        return 0
    return None


@dataclass
class FakeClock:
    """An injected clock: tests move time instead of waiting for it."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now = self.now + dt.timedelta(**delta)
        return self.now


@pytest.fixture(scope="session")
def survey() -> Survey:
    return load_survey()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    url = make_url(normalise_url(base))
    name = f"beholde_t_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    scratch = url.set(database=name).render_as_string(hide_password=False)
    try:
        yield scratch
    finally:
        drop_in_background(scratch)  # DROP DATABASE waits for a checkpoint: seconds


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'beholde.db'}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated(request: pytest.FixtureRequest) -> Iterator[Database]:
    """One migrated database per backend for the whole session."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    database = Database(url)
    database.upgrade()
    yield database
    database.dispose()


def wipe(database: Database) -> None:
    """Empty every table; on PostgreSQL also restart the id sequences, so that a test sees
    the same ids whichever tests ran before it."""
    with database.engine.begin() as conn:
        if database.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        if conn.dialect.name == "postgresql":  # ids restart at 1, as on SQLite after a wipe
            conn.execute(text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"))


@pytest.fixture
def db(migrated: Database) -> Iterator[Database]:
    """The session's database for one backend, emptied after each test."""
    wipe(migrated)
    yield migrated
    wipe(migrated)


def tuesday_morning() -> FakeClock:
    """A Tuesday morning in Oslo, in winter time."""
    return FakeClock(dt.datetime(2027, 1, 12, 9, 0, tzinfo=OSLO).astimezone(dt.UTC))


@pytest.fixture
def clock() -> FakeClock:
    return tuesday_morning()


@pytest.fixture
def engine(db: Database, survey: Survey, clock: FakeClock) -> Conversation:
    return assemble(db, survey, EngineConfig(k=5, tz=OSLO), clock)


# The background of a rostered test person (a nurse in Bodø in her thirties, full time).
BACKGROUND: dict[str, object] = {
    "municipality": "bodo",
    "profession": "sykepleier",
    "age_band": "30-39",
    "tenure_band": "2-5",
    "position_band": "100",
    "shifts": "1",
}


def add_person(
    engine: Conversation,
    name: str,
    *,
    platform: str = "test",
    onboarded: bool = True,
    **fields: object,
) -> tuple[int, Address]:
    """A rostered person with a chat; onboarded (background known) unless told otherwise."""
    defaults: dict[str, object] = dict(BACKGROUND)
    if onboarded:
        defaults.update(fields)
    else:
        defaults = dict(fields)
    now = engine.clock()
    with engine.db.transaction() as session:
        person: Person = people.create_person(session, name, now, **defaults)
        if onboarded:
            person.onboarded_at = now
        people.bind_address(session, person, platform, name, now)
        return person.id, Address(platform, name)
