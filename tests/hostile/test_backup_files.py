"""Hostile files given to `beholde restore`: each is refused with one sentence, exit code 1,
no traceback, and neither the database nor the planning key changes."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app, common
from storage.db import Database
from tests.hostile.support import MARKER, Judge, ids

SURFACE = "backup files"
runner = CliRunner()


def tar_of(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name.replace("__", "/"))
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def manifest(**fields: object) -> bytes:
    return json.dumps({"format": 1, "revision": "x", "planning_key": False, **fields}).encode()


CASES: list[tuple[str, bytes]] = [
    ("empty file", b""),
    ("not a tar", f"not a backup {MARKER}".encode()),
    ("tar without a manifest", tar_of(notes=b"x")),
    ("manifest not JSON", tar_of(**{"manifest.json": b"{" + MARKER.encode()})),
    ("manifest a list", tar_of(**{"manifest.json": b"[]"})),
    ("manifest for MySQL", tar_of(**{"manifest.json": manifest(database="mysql")})),
    ("PostgreSQL backup into SQLite", tar_of(**{"manifest.json": manifest(database="postgresql")})),
    ("SQLite manifest, no database", tar_of(**{"manifest.json": manifest(database="sqlite")})),
    (
        "a member escaping the folder",
        tar_of(**{"manifest.json": manifest(database="sqlite"), "..__..__beholde.db": b"x"}),
    ),
]  # fmt: skip


@pytest.fixture
def cli_env(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("restore into PostgreSQL needs pg_restore; the refusals are the same")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("BEHOLDE_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("BEHOLDE_LANGUAGE", "nn")
    monkeypatch.setattr(common.console, "width", 300)
    return db


@pytest.mark.parametrize(("name", "content"), CASES, ids=ids(CASES))
def test_a_hostile_backup_file_is_refused(
    cli_env: Database, tmp_path: Path, judge: Judge, name: str, content: bytes
) -> None:
    source = tmp_path / "backup.tar"
    source.write_bytes(content)
    key = tmp_path / "data" / "beholde" / "planning.key"
    with judge.watch(cli_env, SURFACE) as seen:
        result = runner.invoke(app, ["restore", str(source)])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and "Det gjekk ikkje" in result.output
        assert not key.exists()
        seen.reply(result.output)
