"""The hostile-input suite's judge: one verdict per case, the same four questions for all.

Each case runs inside `Judge.watch(...)`, which snapshots every table (row count and a
checksum of the rows) before and after, watches the log, and answers:

- did anything raise, or get logged with a traceback or at ERROR (an unhandled exception)?
- did an HTTP request get a 5xx?
- did a table change that should not have (the case names the few it may touch)?
- did the sender get a clear reply or status (a text, a notice, a 4xx, an exit message)?
- did a marker planted in the input, or a token, show up in the log?

The verdict goes into the test report (`user_properties["hostile"]`) so that
bench/hostile_tally.py can count them per surface, and then the case asserts it is clean.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest
from sqlalchemy import TextClause, select, text
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import Base

MARKER = "HEMMELIG-SVAR-4711"  # planted in payloads: it must never appear in a log line
HUGE = "99999999999999999999"  # more than any integer column holds
PROPERTY = "hostile"

# Claims of deliveries: a well-formed delivery is claimed even when its content is refused
# (so that the platform's retry is not handled twice), which is the change it may make.
CLAIMS = "inbound_events"


def snapshot(db: Database) -> dict[str, tuple[int, str]]:
    """Every table: (rows, sha256 over the rows in a stable order).

    On PostgreSQL the server hashes each table's rows (`sha256` over `string_agg` of the row
    texts, sorted) in one query for all tables: one round trip instead of one per table and
    no rows over the wire. SQLite is in-process, so the rows are hashed here."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            return {name: (int(rows), digest[:16]) for name, rows, digest in conn.execute(_pg())}
        state: dict[str, tuple[int, str]] = {}
        for table in Base.metadata.sorted_tables:
            rows = sorted(repr(tuple(row)) for row in conn.execute(select(table)))
            digest = hashlib.sha256("\n".join(rows).encode("utf-8", "surrogatepass"))
            # str(): a table's name is SQLAlchemy's quoted_name, which xdist cannot send
            state[str(table.name)] = (len(rows), digest.hexdigest()[:16])
    return state


def _pg() -> TextClause:
    """One query: name, row count and the sha256 of the sorted row texts, for every table."""
    parts = [
        f"SELECT '{t.name}', count(*), encode(sha256(convert_to(coalesce(string_agg("
        f"r::text, E'\\n' ORDER BY r::text), ''), 'UTF8')), 'hex') FROM \"{t.name}\" AS r"
        for t in Base.metadata.sorted_tables
    ]
    return text(" UNION ALL ".join(parts))


class Baseline:
    """The state a module's scene starts every case from.

    A module builds its scene (people, a round, a running server) once; this keeps a copy of
    every table then. Before each case `reset()` compares a snapshot with that copy and
    restores the tables that differ (the claims a case may leave, or whatever a failed case
    changed), and checks the result, so every case starts from the same rows, as it would
    with a fresh database and scene, without paying for building them each time."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.engine.connect() as conn:
            self.rows = {
                t.name: [dict(r) for r in conn.execute(select(t)).mappings()]
                for t in Base.metadata.sorted_tables
            }
        self.state = snapshot(db)
        self.restored = 0  # how many tables were put back, over the module (for the curious)

    def reset(self) -> None:
        now = snapshot(self.db)
        changed = {name for name, value in now.items() if value != self.state.get(name)}
        if not changed:
            return
        try:
            self._restore(changed)
        except IntegrityError:  # a parent row went with a child that did not change: all
            self._restore({t.name for t in Base.metadata.sorted_tables})
        assert snapshot(self.db) == self.state, "the scene could not be restored"
        self.restored += len(changed)

    def _restore(self, names: set[str]) -> None:
        tables = [t for t in Base.metadata.sorted_tables if t.name in names]
        with self.db.engine.begin() as conn:
            for table in reversed(tables):
                conn.execute(table.delete())
            for table in tables:
                if self.rows[table.name]:
                    conn.execute(table.insert(), self.rows[table.name])


@dataclass
class Verdict:
    surface: str
    case: str
    exceptions: int = 0
    http_5xx: int = 0
    state_changes: int = 0
    unclear: int = 0
    leaks: int = 0
    changed: list[str] = field(default_factory=list)
    detail: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.exceptions or self.http_5xx or self.state_changes or self.unclear or self.leaks
        )


@dataclass
class Seen:
    """What the case reports while it runs: statuses and replies it got."""

    statuses: list[int] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)

    def status(self, code: int) -> None:
        self.statuses.append(code)

    def reply(self, *texts: str | None) -> None:
        self.replies.extend(t for t in texts if t and t.strip())


class Judge:
    """Runs one case and records its verdict; `watch` is the only entry point."""

    def __init__(self, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture):
        self.request = request
        self.caplog = caplog
        self.secrets: list[str] = []

    @contextmanager
    def watch(
        self,
        db: Database | None,
        surface: str,
        *,
        may_change: Iterable[str] = (),
        clear_reply: bool = True,
        secrets: Iterable[str] = (),
    ) -> Iterator[Seen]:
        """Judge the block: nothing outside `may_change` changes, no 5xx, nothing raised."""
        verdict = Verdict(surface, self.request.node.callspec.id if _has_id(self) else "")
        allowed = set(may_change)
        hidden = [MARKER, *self.secrets, *secrets]
        self.caplog.set_level(logging.INFO)
        first = len(self.caplog.records)
        before = snapshot(db) if db is not None else {}
        seen = Seen()
        try:
            yield seen
        except Exception as error:  # the case's own code, or the handler, raised
            verdict.exceptions += 1
            verdict.detail.append(f"raised {type(error).__name__}: {error}"[:300])
        records = self.caplog.records[first:]
        for record in records:
            if record.exc_info or record.levelno >= logging.ERROR:
                verdict.exceptions += 1
                verdict.detail.append(f"logged {record.levelname}: {record.getMessage()[:200]}")
            text = record.getMessage()
            if any(secret and secret in text for secret in hidden):
                verdict.leaks += 1
                verdict.detail.append(f"leaked into the log: {text[:120]}")
        verdict.http_5xx = sum(1 for s in seen.statuses if s >= 500)
        if clear_reply and not (seen.replies or any(400 <= s < 500 for s in seen.statuses)):
            verdict.unclear += 1
            verdict.detail.append(f"no reply or 4xx (statuses {seen.statuses})")
        if db is not None:
            after = snapshot(db)
            verdict.changed = sorted(t for t in after if after[t] != before.get(t))
            wrong = [t for t in verdict.changed if t not in allowed]
            verdict.state_changes = len(wrong)
            if wrong:
                verdict.detail.append(f"changed: {wrong}")
        self.request.node.user_properties.append((PROPERTY, asdict(verdict)))
        assert verdict.clean, verdict.detail


def _has_id(judge: Judge) -> bool:
    return hasattr(judge.request.node, "callspec")


def ids(cases: list[Any]) -> list[str]:
    """Test ids from the first field of each case (its name)."""
    return [str(case[0]) for case in cases]
