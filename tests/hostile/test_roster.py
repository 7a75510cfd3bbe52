"""Hostile roster files through `beholde roster import` (the CLI, on the session's database).

A file with any bad row is refused with a sentence naming the line (or the file), exit code
1 or 2, no traceback, and nothing imported; the roster already stored stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app, common
from storage.db import Database
from tests.hostile.conftest import Stage
from tests.hostile.support import HUGE, MARKER, Judge, ids
from tests.test_roster_day import BROKEN

SURFACE = "roster files"
runner = CliRunner()
KEPT = "navn;e-post;kommune\nKari Berg;kari@kommune.test;Bodø\n"

TEXTS: list[tuple[str, str]] = [(name, text) for name, (text, _message) in sorted(BROKEN.items())]
TEXTS += [
    ("empty file", ""),
    ("only a BOM", "\ufeff"),
    ("only blank lines", "\n\n\n"),
    ("unknown column", f"navn;e-post;{MARKER}\nKari;k@k.test;1\n"),
    ("no name column", "e-post;kommune\nk@k.test;Bodø\n"),
    ("header twice", "navn;navn\nKari;Kari\n"),
    ("an e-mail without @", "navn;e-post\nKari;kari.kommune.test\n"),
    ("an e-mail with spaces", "navn;e-post\nKari;kari @kommune.test\n"),
    ("the same e-mail twice", "navn;e-post\nA;same@k.test\nB;same@k.test\n"),
    ("unknown municipality", "navn;e-post;kommune\nKari;k2@k.test;Atlantis\n"),
    ("unknown role", "navn;e-post;rolle\nKari;k3@k.test;keiser\n"),
    ("unknown language", "navn;e-post;språk\nKari;k4@k.test;klingon\n"),
    ("unknown shift answer", "navn;e-post;turnus\nKari;k5@k.test;kanskje\n"),
    ("empty name", "navn;e-post\n;k6@k.test\n"),
    ("NUL in an e-mail", "navn;e-post\nKari;k7\x00@k.test\n"),
    ("a huge number as name and a bad e-mail", f"navn;e-post\n{HUGE};{HUGE}\n"),
    ("a good row, then a bad one", "navn;e-post\nOk;ok@k.test\nBad;bad-address\n"),
]
BYTES: list[tuple[str, bytes]] = [
    ("binary garbage", b"\xff\xfe\x00\x81\xc3\x28" + MARKER.encode()),
    ("Latin-1", "navn;e-post\nSøren Ås;s@k.test\n".encode("latin-1")),
    ("UTF-16", "navn;e-post\nKari;k@k.test\n".encode("utf-16")),
]
CASES = [(name, text.encode("utf-8", "surrogatepass")) for name, text in TEXTS] + BYTES


@pytest.fixture(scope="module")
def imported(stage: Stage, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The CLI pointed at the module's database, with one person already imported."""
    folder = tmp_path_factory.mktemp("roster")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(folder)
        url = stage.db.engine.url.render_as_string(hide_password=False)
        monkeypatch.setenv("BEHOLDE_DATABASE_URL", url)
        monkeypatch.setenv("BEHOLDE_LOG_LEVEL", "WARNING")
        monkeypatch.setenv("BEHOLDE_PLANNING_SECRET", "hostile-suite-secret")
        monkeypatch.setattr(common.console, "width", 200)
        kept = folder / "kept.csv"
        kept.write_text(KEPT, "utf-8")
        assert runner.invoke(app, ["roster", "import", str(kept)]).exit_code == 0
        yield stage.db


@pytest.fixture
def cli_db(imported: Database, stage: Stage) -> Database:
    """Kari imported, whatever the case before did (see conftest.Stage)."""
    return stage.ready("imported")


def _judge_import(judge: Judge, db: Database, args: list[str], input_: str | None = None) -> None:
    with judge.watch(db, SURFACE) as seen:
        result = runner.invoke(app, ["roster", "import", *args], input=input_)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code in (1, 2), result.output
        assert "Traceback" not in result.output
        seen.reply(result.output)


@pytest.mark.parametrize(("name", "content"), CASES, ids=ids(CASES))
def test_a_broken_roster_is_refused_and_nothing_changes(
    cli_db: Database, tmp_path: Path, judge: Judge, name: str, content: bytes
) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(content)
    _judge_import(judge, cli_db, [str(path)])


def test_a_folder_instead_of_a_file(cli_db: Database, tmp_path: Path, judge: Judge) -> None:
    _judge_import(judge, cli_db, [str(tmp_path)])


def test_a_file_that_does_not_exist(cli_db: Database, tmp_path: Path, judge: Judge) -> None:
    _judge_import(judge, cli_db, [str(tmp_path / f"{MARKER}.csv")])


def test_removing_everyone_answered_no(cli_db: Database, tmp_path: Path, judge: Judge) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("navn;e-post\n", "utf-8")
    _judge_import(judge, cli_db, [str(path), "--remove-missing"], input_="n\n")
