"""Scratch PostgreSQL databases for test sessions and benchmarks: made fresh, dropped after,
so that parallel runs on one server never see each other's rows."""

from __future__ import annotations

import secrets

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def scratch_database(base: str, prefix: str = "beholde_bench") -> str:
    """A new, empty database on `base`'s server; returns its URL."""
    url = make_url(base)
    name = f"{prefix}_{secrets.token_hex(3)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop a scratch database, even with connections still open to it."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()
