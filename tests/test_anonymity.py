"""The anonymity promise, proven on each database from the schema and from the data.

A round is run with people finishing in a known order; afterwards nothing in the database may
link a response to a person: no key, no reference, no time, no row order.
"""

from __future__ import annotations

import itertools
import logging

from sqlalchemy import Date, DateTime, inspect, select, text

from bot.conversation import Conversation
from bot.ports import Command
from storage.models import (
    ANONYMOUS_TABLES,
    IDENTITY_TABLES,
    Holding,
    Invitation,
    PendingAnswer,
    Prompt,
    Response,
)
from tests.conftest import add_person
from tests.pulse_helpers import answer_all, table_count

FORBIDDEN_COLUMNS = {
    "person_id",
    "chat_id",
    "platform",
    "name",
    "email",
    "key",
    "invitation_id",
    "created_at",
    "answered_at",
    "finished_on",
    "token",
    "slot",
    "user_id",
}
SEGMENTS = list(
    itertools.product(
        ["u30", "30-39", "40-49", "50-59", "60+"], ["u2", "2-5", "6-10", "10+"], ["u50", "100"]
    )
)


def run_round(engine: Conversation, finishers: int = 20, partial: int = 3) -> list[tuple[str, ...]]:
    """People with unique segments finish in a known order; returns their segments in that order."""
    people_ = []
    for i in range(finishers + partial):
        age, tenure, position = SEGMENTS[i]
        people_.append(
            add_person(
                engine,
                f"Person {i}",
                email=f"p{i}@example.no",
                age_band=age,
                tenure_band=tenure,
                position_band=position,
                municipality="bodo",
            )[1]
        )
    engine.open_round()
    order = []
    for i, address in enumerate(people_):
        first = engine.handle(Command(address, "puls")).messages
        if i < finishers:
            answer_all(engine, address, first)
            order.append(SEGMENTS[i])
        else:
            answer_all(engine, address, first, stop_after=2)
    engine.close_round()
    return order


def test_the_schema_gives_answers_no_way_back_to_a_person(engine: Conversation) -> None:
    inspector = inspect(engine.db.engine)
    for table in ANONYMOUS_TABLES:
        assert inspector.get_foreign_keys(table) == [], f"{table} refers to another table"
        columns = {c["name"]: c["type"] for c in inspector.get_columns(table)}
        assert not FORBIDDEN_COLUMNS & set(columns), (
            f"{table} has {FORBIDDEN_COLUMNS & set(columns)}"
        )
        assert not [n for n, t in columns.items() if isinstance(t, (DateTime, Date))], (
            f"{table} has a time"
        )
    for table in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(table):
            assert fk["referred_table"] not in ANONYMOUS_TABLES, f"{table} refers to answers"
    # The identity tables exist and the answer tables are not among them.
    assert set(IDENTITY_TABLES) <= set(inspector.get_table_names())


def test_after_a_round_nothing_links_a_response_to_a_person(engine: Conversation) -> None:
    order = run_round(engine)
    with engine.db.transaction() as session:
        responses = session.scalars(select(Response)).all()
        invitations = session.scalars(select(Invitation)).all()
        identities = {str(v) for i in invitations for v in (i.id, i.person_id, i.slot)}
        identities |= {f"Person {i}" for i in range(30)} | {f"p{i}@example.no" for i in range(30)}
        # Nothing of the unfinished pulses is left linked to anyone.
        assert session.scalars(select(Prompt).where(Prompt.invitation_id.is_not(None))).all() == []
        assert all(i.plan is None for i in invitations)
        raw_order = [
            tuple(r)
            for r in session.execute(
                text("SELECT age_band, tenure_band, position_band, submission_key FROM responses")
            ).all()
        ]
    assert table_count(engine, PendingAnswer) == 0
    assert table_count(engine, Holding) == 0
    submissions = {r.submission_key for r in responses}
    assert len(submissions) == 23  # 20 finished and 3 partial, each under its own random key
    assert sum(1 for r in responses if not r.complete) == 6
    for response in responses:
        assert len(response.id) == 32 and len(response.submission_key) == 32
        assert response.id not in identities and response.submission_key not in identities
        assert response.text not in identities
    # Neither the storage order nor the key order follows the order people finished in.
    finished_keys = {r.submission_key for r in responses if r.complete}
    stored_order = list(
        dict.fromkeys((a, t, p) for a, t, p, key in raw_order if key in finished_keys)
    )
    by_id = sorted((r for r in responses if r.complete), key=lambda r: r.id)

    def segment(r: Response) -> tuple[str, ...]:
        return (r.age_band, r.tenure_band, r.position_band)

    id_order = list(dict.fromkeys(segment(r) for r in by_id))
    key_order = list(
        dict.fromkeys(segment(r) for r in sorted(by_id, key=lambda r: r.submission_key))
    )
    assert sorted(stored_order) == sorted(order)
    assert stored_order != order and id_order != order and key_order != order


def test_logs_never_carry_answers_or_identities(engine: Conversation, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    _, address = add_person(engine, "Zelda Quist", email="zelda@example.no")
    engine.open_round()
    first = engine.handle(Command(address, "puls")).messages
    answer_all(
        engine,
        address,
        first,
        choose=lambda m: (
            "yes_text"
            if m.free_text
            else ("1" if "slutte" in m.text else m.choices[2].data.split(":")[1])
        ),
    )
    engine.close_round()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "round 1 closed" in logged  # logging is on; it just says nothing it shouldn't
    for secret in ("Zelda", "zelda@example.no", "Bedre turnus", "Ditt svar"):
        assert secret not in logged
