"""Migration 0003 on a database with 0002's data: segments become unlinked facet records,
posted summary counts become ledger cells, and the schema keeps no segment on answers."""

from __future__ import annotations

import datetime as dt

from alembic import command
from sqlalchemy import inspect, select, text

from storage.db import Database, alembic_config
from storage.models import Facet, Response
from storage.summary_models import ReleasedCell

OLD_ROWS = [
    # submission, question, value, municipality, profession, position_band
    ("s1", "F01.exp", 2, "bodo", "sykepleier", "100"),
    ("s1", "F01.imp", 6, "bodo", "sykepleier", "100"),
    ("s1", "quit", 1, "bodo", "sykepleier", "100"),
    ("s2", "F01.exp", 4, None, None, "u50"),
    ("s2", "F01.imp", 5, None, None, "u50"),
    ("s2", "F02.exp", 3, None, None, "u50"),  # no importance: no pair, no facet record
]


def test_0003_moves_segments_into_facets_and_posts_into_the_ledger(db: Database) -> None:
    command.downgrade(alembic_config(db.engine), "0002_summaries")
    try:
        check_upgrade(db)
    finally:
        db.upgrade()  # the session's database goes back to the newest schema either way


def check_upgrade(db: Database) -> None:
    columns = {c["name"] for c in inspect(db.engine).get_columns("responses")}
    assert "municipality" in columns and "facets" not in inspect(db.engine).get_table_names()
    with db.engine.begin() as conn:
        for i, (key, qid, value, municipality, profession, band) in enumerate(OLD_ROWS):
            conn.execute(
                text(
                    "INSERT INTO responses (id, round_id, submission_key, question_id, value,"
                    " complete, municipality, profession, position_band)"
                    " VALUES (:id, 1, :key, :qid, :value, :complete, :m, :p, :b)"
                ),
                {"id": f"r{i}", "key": key, "qid": qid, "value": value, "complete": True,
                 "m": municipality, "p": profession, "b": band},
            )  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO summary_posts (round_id, submissions, cells, source, created_at)"
                " VALUES (1, 2, :cells, 'cli', :at)"
            ),
            {"cells": '{"factor:F01": 2, "quit:*": 1, "quit:sykepleier": 1, "quit:~rest": 0}',
             "at": dt.datetime(2027, 1, 12, 8, 0)},
        )  # fmt: skip
    db.upgrade()
    assert not {"municipality", "profession"} & {
        c["name"] for c in inspect(db.engine).get_columns("responses")
    }
    with db.transaction() as session:
        facets = session.scalars(select(Facet)).all()
        assert len(session.scalars(select(Response)).all()) == 6  # the answers stay
        ledger = {
            (c.round_id, c.measure, c.group, c.contributors)
            for c in session.scalars(select(ReleasedCell))
        }
    got = sorted(
        (f.facet, f.group_value or "", f.item, f.value or 0, f.value2 or 0) for f in facets
    )
    assert got == sorted(
        [
            ("municipality", "bodo", "F01", 2, 6),
            ("profession", "sykepleier", "F01", 2, 6),
            ("profession", "sykepleier", "quit", 1, 0),
            ("municipality", "", "F01", 4, 5),
            ("profession", "", "F01", 4, 5),
            ("position_80", "80+", "", 0, 0),
            ("position_80", "u80", "", 0, 0),
            ("age_band", "", "", 0, 0),
            ("age_band", "", "", 0, 0),
            ("tenure_band", "", "", 0, 0),
            ("tenure_band", "", "", 0, 0),
            ("shifts", "", "", 0, 0),
            ("shifts", "", "", 0, 0),
        ]
    )
    assert ledger == {
        (1, "factor:F01", "*", 2),
        (1, "quit", "*", 1),
        (1, "quit:profession", "sykepleier", 1),
    }
