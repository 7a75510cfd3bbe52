"""PostgreSQL's advisory lock for "one scheduler per database", held on its own connection.

It lives here with the other SQL: the scheduler only asks whether it holds the lock.
"""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy import text

from storage.db import Database

ADVISORY_KEY = 0x626568_6F6C6465  # "beholde": one scheduler per database


class AdvisoryLock:
    """pg_try_advisory_lock on its own connection: held while that connection lives."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn: Any = None

    def try_acquire(self) -> bool:
        if self.conn is None:
            self.conn = self.db.engine.connect()
        got = bool(
            self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
        )
        self.conn.commit()
        return got

    def alive(self) -> bool:
        try:
            self.conn.execute(text("SELECT 1")).scalar()
            self.conn.commit()
            return True
        except Exception:
            self.release()
            return False

    def release(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self.conn.commit()
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None
