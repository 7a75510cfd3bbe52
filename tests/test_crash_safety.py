"""A crash repeats only what was in flight and stalls nothing (issue 15).

The real `beholde serve` sends a fan-out to 120 people through the fake Telegram Bot API and
is killed with SIGKILL at random points, then restarted. Nothing may be lost; the messages
sent twice are exactly those Telegram had received but the outbox had not yet marked — at
most the transport's concurrency per kill — and the restarted service resumes at once
instead of waiting for the dead instance's leases. bench/kill_fanout.py runs 20 kills of a
fan-out to 300 on both databases (bench/RESULTS.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import Database
from tests.conftest import wipe
from tests.kill_harness import CONCURRENCY, run_kills

RESUME_BUDGET = 5.0  # seconds from the restarted service answering /healthz to its first send


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_killed_mid_fan_out_loses_nothing_and_resumes_at_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'kill.db'}"
    else:
        url = request.getfixturevalue("pg_url")
        database = Database(url)
        database.upgrade()
        wipe(database)
        database.dispose()
    result = run_kills(url, tmp_path, people=120, kills=2, seed_=7)
    assert result.lost == 0, result.log_tail
    assert len(result.in_flight) == 2
    assert all(n <= CONCURRENCY for n in result.in_flight), result.in_flight
    # Every duplicate was in flight at a kill, and every send in flight was repeated once.
    assert result.duplicates == sum(result.in_flight)
    assert max(result.resume_s) < RESUME_BUDGET, (result.resume_s, result.log_tail)
