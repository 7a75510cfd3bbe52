"""Database connection, sessions and migrations.

SQLite is the embedded default (one file, one instance); PostgreSQL (psycopg 3) is the
production database and may be shared by several instances.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
READ_ONLY = "beholde_read_only"  # execution option: a plain BEGIN on SQLite, no write lock


def instance_name() -> str:
    """This process's identity: `beholde:<host>:<pid>:<random>` (at most 63 characters).

    Outbox leases carry it, and on PostgreSQL every connection announces it as its
    `application_name`, so another instance can tell a live lease from a dead one's.
    """
    return f"beholde:{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(3)}"


INSTANCE = instance_name()


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def safe_url(url: str) -> str:
    """The URL with any password hidden, for logs and messages."""
    return make_url(normalise_url(url)).render_as_string(hide_password=True)


def is_sqlite(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the settings each backend needs to be safe under concurrency."""
    url = normalise_url(url)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Foreign keys are off by default in SQLite; cascades and SET NULL depend on them.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        # pysqlite's own transaction handling defers BEGIN; take control so that a
        # transaction starts when SQLAlchemy says it does (needed for BEGIN IMMEDIATE).
        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("application_name", INSTANCE)
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


class Database:
    """An engine plus a session factory: what repositories and the engine are given."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only look that takes no write lock (SQLite: plain BEGIN, not IMMEDIATE).

        For frequent cheap checks such as "is anything due?", which must not queue behind
        or block writers.
        """
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{READ_ONLY: True})
            with Session(bind=conn) as session:
                yield session
                session.rollback()

    def upgrade(self) -> None:
        """Bring the schema to the newest revision (every branch head).

        When the database is already there, Alembic is not even imported: every CLI command
        migrates first, and this keeps `beholde round status` quick.
        """
        if not self.at_head():
            upgrade(self.engine)

    def at_head(self) -> bool:
        """True when the stored revisions are exactly the migration scripts' heads."""
        heads = script_heads()
        return bool(heads) and self.stored_revisions() == heads

    def stored_revisions(self) -> set[str] | None:
        """The revisions the database says it is at; None when it has no schema (or can't
        be read). Raises nothing: callers decide what a missing schema means."""
        try:
            with self.engine.connect() as conn:
                return set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        except SQLAlchemyError:
            return None

    def ping(self) -> None:
        """One round trip to the server; raises the driver's error when it is unreachable."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


_REVISION = re.compile(r"^revision(?::[^=]*)?=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
# A tuple of parents may span lines (as `ruff format` writes a long one).
_DOWN = re.compile(r"^down_revision(?::[^=]*)?=\s*(\([^)]*\)|.*)$", re.MULTILINE)


def script_heads() -> set[str] | None:
    """The head revisions of storage/migrations/versions, read from the files' text.

    None when a file does not look as expected (then Alembic itself decides).
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        source = path.read_text("utf-8")
        revision, down = _REVISION.search(source), _DOWN.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        parents.update(re.findall(r"[\"']([^\"']+)[\"']", down.group(1)))
    return revisions - parents


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config  # Alembic loads only when migrating

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Run Alembic migrations on this engine up to all heads."""
    from alembic import command

    log.info("migrating database %s", safe_url(str(engine.url)))
    command.upgrade(alembic_config(engine), "heads")


def is_whole_sqlite_database(path: Path) -> bool:
    """A SQLite file that opens, passes `PRAGMA integrity_check` and holds beholde's schema
    (a backup is checked so before it replaces the live database)."""
    import sqlite3
    from contextlib import closing

    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as copy:
            checked = copy.execute("PRAGMA integrity_check").fetchall()
            tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error:
        return False
    return checked == [("ok",)] and "alembic_version" in tables
