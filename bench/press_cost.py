"""Benchmark: what one button press costs the engine — SQL statements, commits, CPU time.

Opens a round for N people and presses each one's first question through the inbound path
(`bot.inbound.receive`: claim, sender, engine, one transaction), one after another in this
process, counting statements and commits with SQLAlchemy events and timing CPU (the press
holds the GIL for that long, so 1 / CPU-time is the ceiling of presses per second per
process). CPU time, unlike wall time, barely moves when the shared machine is busy.

    .venv/bin/python bench/press_cost.py --people 400
    .venv/bin/python bench/press_cost.py --people 400 \\
        --database postgresql+psycopg://postgres@127.0.0.1:5432/test

Run from an older checkout (before bot/inbound.py existed) it measures that version's
press path instead (claim_from, then Conversation.handle), for a before/after pair.
"""

from __future__ import annotations

import argparse
import collections
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.conversation import Conversation, EngineConfig  # noqa: E402
from bot.ports import Address, ChoicePressed  # noqa: E402
from storage import people  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Address as StoredAddress  # noqa: E402
from storage.models import Prompt  # noqa: E402
from surveys.definition import load_survey  # noqa: E402

if (ROOT / "bot" / "inbound.py").exists():
    from bot import inbound as engine_side
else:  # an older checkout
    engine_side = None  # type: ignore[assignment]


def fresh_postgres(base: str) -> tuple[str, str]:
    url = make_url(base)
    name = f"beholde_press_{secrets.token_hex(3)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), name


def drop_postgres(base: str, name: str) -> None:
    admin = create_engine(make_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def press(engine: Conversation, key: str, event_: ChoicePressed) -> None:
    if engine_side is not None:
        reply = engine_side.receive(engine, "slack", key, event_)
    else:
        from storage import inbound as claims

        chat = event_.address.chat_id
        assert claims.claim_from(engine.db, "slack", key, chat, engine.clock()) == "known"
        reply = engine.handle(event_)
    assert reply is not None and reply.edit is not None, reply


def run(url: str, n: int) -> dict[str, float]:
    db = Database(url)
    db.upgrade()
    engine = Conversation(db, load_survey(), EngineConfig(k=5))
    now = engine.clock()
    with db.transaction() as session:
        for i in range(n):
            person = people.create_person(
                session,
                f"P{i}",
                now,
                key=f"p{i}",
                municipality="bodo",
                profession="sykepleier",
                age_band="30-39",
                tenure_band="2-5",
                position_band="100",
                shifts="1",
            )
            person.onboarded_at = now
            people.bind_address(session, person, "slack", f"U{i:05d}", now)
    engine.open_round()
    with db.transaction() as session:
        tokens = session.execute(
            select(StoredAddress.chat_id, Prompt.token)
            .join(Prompt, Prompt.person_id == StoredAddress.person_id)
            .where(Prompt.used_at.is_(None))
        ).all()
    counts: collections.Counter[str] = collections.Counter()

    @event.listens_for(db.engine, "before_cursor_execute")
    def _statement(conn: object, cursor: object, statement: str, *args: object) -> None:
        counts["begin" if statement.lstrip().upper().startswith("BEGIN") else "statements"] += 1

    @event.listens_for(db.engine, "commit")
    def _commit(conn: object) -> None:
        counts["commits"] += 1

    cpu: list[float] = []
    wall: list[float] = []
    for i, (chat, token) in enumerate(tokens):
        e = ChoicePressed(Address("slack", chat), f"{token}:4")
        c0, w0 = time.process_time(), time.perf_counter()
        press(engine, f"bench:{i}", e)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    db.dispose()
    pressed = len(tokens)
    return {
        "presses": pressed,
        "statements": counts["statements"] / pressed,
        "commits": counts["commits"] / pressed,
        "cpu_ms_median": statistics.median(cpu[10:]) * 1000,
        "wall_ms_median": statistics.median(wall[10:]) * 1000,
        "ceiling_per_s": 1 / statistics.median(cpu[10:]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--database", help="PostgreSQL base URL (default: a SQLite file)")
    args = parser.parse_args()
    if args.database:
        url, name = fresh_postgres(args.database)
        try:
            result = run(url, args.people)
        finally:
            drop_postgres(args.database, name)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            result = run(f"sqlite:///{tmp}/press.db", args.people)
    path = "bot.inbound.receive" if engine_side is not None else "claim_from + handle"
    backend = "PostgreSQL" if args.database else "SQLite"
    print(
        f"| {path} | {backend} | {result['presses']:.0f} | {result['statements']:.1f} | "
        f"{result['commits']:.1f} | {result['cpu_ms_median']:.2f} | "
        f"{result['wall_ms_median']:.2f} | {result['ceiling_per_s']:.0f} |"
    )


if __name__ == "__main__":
    main()
