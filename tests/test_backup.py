"""`beholde backup` / `restore`: a round trip on SQLite and PostgreSQL gives back the data and
the planning key; a file that is not a backup changes nothing."""

from __future__ import annotations

import stat
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from bot import backup
from bot.app import planning_secret
from bot.conversation import Conversation
from bot.settings import Settings
from storage.models import Person
from tests.conftest import add_person


@pytest.fixture
def settings(engine: Conversation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return Settings(_env_file=None, database_url=engine.db.url)  # type: ignore[call-arg]


def names(engine: Conversation) -> list[str]:
    with engine.db.transaction() as session:
        return sorted(session.scalars(select(Person.name)))


def test_a_backup_restores_the_database_and_the_planning_key(
    engine: Conversation, settings: Settings, tmp_path: Path
) -> None:
    add_person(engine, "Kari Nordmann")
    key = planning_secret(settings)
    target = tmp_path / "beholde-backup.tar"
    info = backup.backup(settings, target)
    assert info.planning_key and info.revision
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with tarfile.open(target) as tar:
        assert {"manifest.json", "planning.key"} < set(tar.getnames())
    # Things change after the backup: a person goes, another comes, the key is lost.
    with engine.db.transaction() as session:
        session.execute(delete(Person))
    add_person(engine, "Ola Etterpå")
    backup.key_file().write_text("another key")
    restored = backup.restore(settings, target)
    assert restored.database == ("sqlite" if engine.db.is_sqlite else "postgresql")
    assert names(engine) == ["Kari Nordmann"]
    assert backup.key_file().read_text() == key
    assert (backup.key_file().parent / "planning.key.before-restore").read_text() == "another key"


def test_a_file_that_is_not_a_backup_is_refused_and_changes_nothing(
    engine: Conversation, settings: Settings, tmp_path: Path
) -> None:
    add_person(engine, "Kari Nordmann")
    bogus = tmp_path / "notes.tar"
    bogus.write_text("not a tar file")
    with pytest.raises(backup.BackupError) as refused:
        backup.restore(settings, bogus)
    assert refused.value.text("en") == f"{bogus} is not a beholde backup"
    assert refused.value.text("nn") == f"{bogus} er ikkje ein tryggingskopi frå beholde"
    assert names(engine) == ["Kari Nordmann"]
