"""Scratch PostgreSQL databases for test sessions and benchmarks: made fresh, dropped after,
so that parallel runs on one server never see each other's rows."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

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


DROP = "import os, tests.pg_support as p; p.drop_database(os.environ['BEHOLDE_DROP_URL'])"


def drop_in_background(url: str) -> None:
    """Drop a scratch database from a detached process, so the test run need not wait.

    DROP DATABASE waits for a checkpoint: from 2 s to 30 s on a server others are writing to,
    at the end of every test session (every xdist worker). The URL goes by environment, not
    by the command line that `ps` shows."""
    subprocess.Popen(
        [sys.executable, "-c", DROP],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "BEHOLDE_DROP_URL": url},
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
