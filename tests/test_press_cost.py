"""Issue 13: what a delivery costs in SQL, counted with SQLAlchemy's cursor events.

A press was 12 statements in 2 transactions (the sender read twice, the answers so far three
times); the ceilings below are what the one-transaction path reaches, so a change that
adds a query to every press fails here before it shows up as lost answers under load.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.engine.interfaces import CacheStats

from bot import inbound
from bot.app import assemble
from bot.conversation import Conversation, EngineConfig
from bot.ports import Address, ChoicePressed, InboundEvent, Reply, TextReceived
from storage.db import Database
from storage.models import InboundEvent as Claim
from storage.models import PendingAnswer, Prompt
from surveys.definition import Survey
from tests.conftest import OSLO, FakeClock, add_person
from tests.pulse_helpers import last_with_choices


@contextmanager
def counted(engine: Conversation) -> Iterator[tuple[list[str], list[object]]]:
    """(statements without BEGIN, commits) run inside the block."""
    statements: list[str] = []
    commits: list[object] = []

    def on_statement(conn: object, cursor: object, statement: str, *args: object) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            statements.append(" ".join(statement.split()))

    def on_commit(conn: object) -> None:
        commits.append(conn)

    event.listen(engine.db.engine, "before_cursor_execute", on_statement)
    event.listen(engine.db.engine, "commit", on_commit)
    try:
        yield statements, commits
    finally:
        event.remove(engine.db.engine, "before_cursor_execute", on_statement)
        event.remove(engine.db.engine, "commit", on_commit)


def open_prompt(engine: Conversation, person_id: int) -> Prompt:
    with engine.db.transaction() as session:
        prompt = session.scalar(
            select(Prompt)
            .where(Prompt.person_id == person_id, Prompt.used_at.is_(None))
            .order_by(Prompt.created_at.desc())
        )
        assert prompt is not None
        session.expunge(prompt)
        return prompt


def rows(engine: Conversation, model: type) -> int:
    with engine.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def deliver(engine: Conversation, key: str, event_: InboundEvent) -> Reply:
    reply = inbound.receive(engine, "test", key, event_)
    assert reply is not None
    return reply


def kinds(statements: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for statement in statements:
        verb = statement.split()[0].upper()
        found[verb] = found.get(verb, 0) + 1
    return found


def test_a_press_mid_pulse_is_five_statements_and_one_commit(engine: Conversation) -> None:
    person_id, address = add_person(engine, "Kari")
    engine.open_round()
    deliver(engine, "warm", ChoicePressed(address, f"{open_prompt(engine, person_id).token}:3"))
    token = open_prompt(engine, person_id).token
    with counted(engine) as (statements, commits):
        reply = deliver(engine, "press", ChoicePressed(address, f"{token}:4"))
    assert reply.edit is not None and last_with_choices(reply.messages) is not None
    assert len(commits) == 1
    assert kinds(statements) == {"INSERT": 3, "SELECT": 1, "UPDATE": 1}, statements
    assert rows(engine, PendingAnswer) == 2


def test_a_forged_press_reads_once_and_writes_only_the_claim(engine: Conversation) -> None:
    _, address = add_person(engine, "Kari")
    other_id, _ = add_person(engine, "Ola")
    engine.open_round()
    foreign = open_prompt(engine, other_id).token  # someone else's real token
    for key, data in (("forged", "AAAAAAAAAAAAAAAA:3"), ("foreign", f"{foreign}:3")):
        with counted(engine) as (statements, commits):
            reply = deliver(engine, key, ChoicePressed(address, data))
        assert len(commits) == 1
        assert reply.notice and reply.edit is None and not reply.messages
        assert kinds(statements) == {"INSERT": 1, "SELECT": 1}, statements  # claim, the read
    assert rows(engine, PendingAnswer) == 0
    assert open_prompt(engine, other_id).used_at is None
    assert rows(engine, Claim) == 2


def test_the_last_press_seals_in_the_same_transaction(engine: Conversation) -> None:
    """Finishing does more (holding, facets, deleting the links), still in one commit."""
    person_id, address = add_person(engine, "Kari")
    engine.open_round()
    reply: Reply | None = None
    for i in range(20):
        prompt = open_prompt(engine, person_id)
        free_text = engine.survey.question(prompt.question_id or "").is_free_text
        value = "skip" if free_text else "1"
        with counted(engine) as (_, commits):
            reply = deliver(engine, f"p{i}", ChoicePressed(address, f"{prompt.token}:{value}"))
        assert len(commits) == 1
        if reply.messages and reply.messages[0].text.startswith("Takk!"):
            break
    assert reply is not None and reply.messages[0].text.startswith("Takk!")
    assert rows(engine, PendingAnswer) == 0  # sealed: nothing links Kari to her answers


def walk_to_free_text(engine: Conversation, count: int) -> tuple[int, Address, Prompt] | None:
    """Someone whose pulse reaches a free-text question (pressing the lowest values)."""
    people = [add_person(engine, f"Person {n}") for n in range(count)]
    engine.open_round()
    for person_id, address in people:
        for i in range(12):
            prompt = open_prompt(engine, person_id)
            if engine.survey.question(prompt.question_id or "").is_free_text:
                return person_id, address, prompt
            if prompt.purpose != "pulse":
                break
            deliver(engine, f"w{person_id}:{i}", ChoicePressed(address, f"{prompt.token}:1"))
    return None


def test_a_typed_answer_reads_its_question_with_the_pulse_once(engine: Conversation) -> None:
    found = walk_to_free_text(engine, 6)
    assert found is not None, "nobody's pulse reached the comment question"
    _, address, _ = found
    with counted(engine) as (statements, commits):
        reply = deliver(engine, "typed", TextReceived(address, "Bedre turnus, takk."))
    assert reply.answered and reply.messages
    assert len(commits) == 1
    # the sender; the open text question with its invitation and round; the answers so far;
    # the prompt used, the comment, "may we quote you?"
    assert kinds(statements) == {"INSERT": 3, "SELECT": 3, "UPDATE": 1}, statements


def first_press_misses(tmp_path: Path, survey: Survey, clock: FakeClock, warm: bool) -> list[str]:
    """Statements the first press after a start had to compile (SQLAlchemy's cache missed)."""
    db = Database(f"sqlite:///{tmp_path / ('warm.db' if warm else 'cold.db')}")
    db.upgrade()
    db.dispose()  # a start: a new engine, empty statement caches
    db = Database(f"sqlite:///{tmp_path / ('warm.db' if warm else 'cold.db')}")
    engine = assemble(db, survey, EngineConfig(k=5, tz=OSLO), clock)
    person_id, address = add_person(engine, "Kari")
    engine.open_round()
    token = open_prompt(engine, person_id).token
    if warm:
        inbound.warm_up(engine, connections=2)
    misses: list[str] = []

    def on_execute(conn: object, cursor: object, statement: str, params: object, context: Any,
                   executemany: bool) -> None:  # fmt: skip
        if context is not None and context.cache_hit is CacheStats.CACHE_MISS:
            misses.append(statement.split()[0])

    event.listen(db.engine, "after_cursor_execute", on_execute)
    try:
        deliver(engine, "first", ChoicePressed(address, f"{token}:3"))
    finally:
        event.remove(db.engine, "after_cursor_execute", on_execute)
        db.dispose()
    return misses


def test_warm_up_compiles_every_statement_of_a_press(
    tmp_path: Path, survey: Survey, clock: FakeClock
) -> None:
    """The first press after a start compiles nothing: `warm_up` did it before /healthz."""
    assert first_press_misses(tmp_path, survey, clock, warm=False)  # a cold start compiles
    assert first_press_misses(tmp_path, survey, clock, warm=True) == []


SLACK_ONLY = """
import json, sys
from bot.app import assemble
from bot.serve import Service, install_features
from bot.settings import Settings
from storage.db import Database
from surveys.definition import load_survey
settings = Settings(_env_file=None, database_url="sqlite:///{db}", slack_bot_token="xoxb-1",
                    slack_signing_secret="s", scheduler=False)
service = Service(settings, assemble(Database(settings.database_url), load_survey()))
print(json.dumps([install_features(service), sorted(sys.modules)]))
"""


def test_a_slack_only_service_loads_no_telegram_library(tmp_path: Path) -> None:
    """Issue 13: serve asked every installer, and the Telegram one imports
    python-telegram-bot at its top (~0.35 s of start, ~10 MB) even with no Telegram token."""
    import json
    import os
    import subprocess
    import sys

    code = SLACK_ONLY.format(db=tmp_path / "serve.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEHOLDE_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=Path(__file__).parent.parent,
    )
    installed, modules = json.loads(result.stdout.strip().splitlines()[-1])
    assert "slack" in installed and "telegram" not in installed
    assert "slack_bolt" in {m.split(".")[0] for m in modules}  # the probe really installed Slack
    assert not [m for m in modules if m == "telegram" or m.startswith("telegram.")]
