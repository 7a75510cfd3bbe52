"""`beholde backup FILE` / `beholde restore FILE`: the database plus what it cannot give back.

A backup is one tar file (mode 0600) holding `manifest.json`, the database — SQLite copied
through its online backup API (consistent while the service runs), PostgreSQL dumped with
`pg_dump --format=custom` — and the planning key file when the key lives in a file. Without
the planning key, people's matrix-sampling order cannot be recomputed, so a restore without
it would start everyone's factor rotation over. When the key is set as
`BEHOLDE_PLANNING_SECRET` instead, it is not written into the backup (it is a secret in the
settings); keep the settings file with the backup.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.settings import Settings, data_dir
from storage.db import Database

FORMAT = 1
KEY_NAME = "planning.key"


class BackupError(RuntimeError):
    """A backup or restore that cannot be done: a catalogue key (`ops.backup.*`, saying what
    to do) and its values, so that the command line says it in the configured language."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(f"{key} {values}")
        self.key = key
        self.values = values

    def text(self, lang: str) -> str:
        from bot.i18n import t

        return t(lang, self.key, **self.values)


@dataclass
class BackupInfo:
    database: str  # "sqlite" or "postgresql"
    revision: str | None
    planning_key: bool
    created_at: str


def key_file() -> Path:
    return data_dir() / KEY_NAME


def schema_revision(db: Database) -> str | None:
    stored = db.stored_revisions()
    return None if stored is None else ",".join(sorted(stored))


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump/pg_restore understand it (postgresql://…)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError("ops.backup.tool_missing", tool=name)
    return path


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:  # the tools name the problem; the URL stays out of it
        last = (result.stderr.strip().splitlines() or ["failed"])[-1]
        raise BackupError("ops.backup.tool_failed", tool=Path(command[0]).name, error=last)


def backup(settings: Settings, target: Path) -> BackupInfo:
    """Write a backup of the configured database (and the planning key file) to `target`."""
    db = Database(settings.database_url)
    try:
        info = BackupInfo(
            database="sqlite" if db.is_sqlite else "postgresql",
            revision=schema_revision(db),
            planning_key=settings.planning_secret is None and key_file().exists(),
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        with tempfile.TemporaryDirectory(prefix="beholde-backup-") as tmp:
            dump = Path(tmp) / ("beholde.db" if db.is_sqlite else "beholde.pgdump")
            if db.is_sqlite:
                source = sqlite3.connect(make_url(db.url).database or "")
                try:
                    with sqlite3.connect(dump) as copy:
                        source.backup(copy)
                    copy.close()
                finally:
                    source.close()
            else:
                _run(
                    [
                        _tool("pg_dump"),
                        "--format=custom",
                        "--no-owner",
                        "--file",
                        str(dump),
                        "--dbname",
                        libpq_url(db.url),
                    ]
                )
            partial = target.with_name(target.name + ".partial")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w") as tar:
                manifest = json.dumps(vars(info), indent=2).encode()
                entry = tarfile.TarInfo("manifest.json")
                entry.size = len(manifest)
                tar.addfile(entry, io.BytesIO(manifest))
                tar.add(dump, arcname=dump.name)
                if info.planning_key:
                    tar.add(key_file(), arcname=KEY_NAME)
            partial.replace(target)  # a backup file is whole or absent
    finally:
        db.dispose()
    return info


def read_info(source: Path) -> BackupInfo:
    try:
        with tarfile.open(source) as tar:
            member = tar.extractfile("manifest.json")
            data = json.loads(member.read()) if member else None
    except (OSError, tarfile.TarError, KeyError, ValueError):
        raise BackupError("ops.backup.not_a_backup", file=str(source)) from None
    if not isinstance(data, dict) or data.get("database") not in ("sqlite", "postgresql"):
        raise BackupError("ops.backup.not_a_backup", file=str(source))
    return BackupInfo(**{k: data.get(k) for k in BackupInfo.__dataclass_fields__})  # type: ignore[arg-type]


def restore(settings: Settings, source: Path) -> BackupInfo:
    """Replace the configured database (and the planning key file) with the backup's.

    Stop `beholde serve` first. Restoring a SQLite backup into PostgreSQL (or back) is
    refused: the formats differ.
    """
    info = read_info(source)
    db = Database(settings.database_url)
    try:
        kind = "sqlite" if db.is_sqlite else "postgresql"
        if info.database != kind:
            raise BackupError("ops.backup.other_kind", held=info.database, kind=kind)
        with (
            tempfile.TemporaryDirectory(prefix="beholde-restore-") as tmp,
            tarfile.open(source) as tar,
        ):
            names = set(tar.getnames())
            dump_name = "beholde.db" if kind == "sqlite" else "beholde.pgdump"
            if dump_name not in names:
                raise BackupError("ops.backup.no_dump", file=str(source), dump=dump_name)
            _extract(tar, dump_name, tmp, source)
            dump = Path(tmp) / dump_name
            if kind == "sqlite":
                _check_sqlite(dump, source)
                db.dispose()
                with (
                    sqlite3.connect(dump) as copy,
                    sqlite3.connect(make_url(db.url).database or "") as live,
                ):
                    copy.backup(live)
                copy.close()
                live.close()
            else:
                db.dispose()
                _run(
                    [
                        _tool("pg_restore"),
                        "--clean",
                        "--if-exists",
                        "--no-owner",
                        "--single-transaction",
                        "--dbname",
                        libpq_url(db.url),
                        str(dump),
                    ]
                )
            if KEY_NAME in names:
                _extract(tar, KEY_NAME, tmp, source)
                restore_key(Path(tmp) / KEY_NAME)
    finally:
        db.dispose()
    return info


def _check_sqlite(dump: Path, source: Path) -> None:
    """The backup's database must be a whole SQLite file of beholde's before it is copied over
    the live one: a file that is no database, a damaged one or another program's is refused
    in one sentence, and the live database is not touched."""
    from storage.db import is_whole_sqlite_database

    if not is_whole_sqlite_database(dump):
        raise BackupError("ops.backup.not_a_backup", file=str(source))


def _extract(tar: tarfile.TarFile, name: str, folder: str, source: Path) -> None:
    """One member into `folder`; a member the "data" filter refuses (a link out of the folder,
    a device) or a broken member makes the file not a backup, said in one sentence."""
    try:
        tar.extract(name, folder, filter="data")
    except tarfile.TarError:
        raise BackupError("ops.backup.not_a_backup", file=str(source)) from None


def restore_key(restored: Path) -> None:
    """Put the backup's planning key in place; a different current key is kept aside."""
    target = key_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    new = restored.read_text().strip()
    if target.exists():
        if target.read_text().strip() == new:
            return
        target.replace(target.with_name(KEY_NAME + ".before-restore"))
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(new)
