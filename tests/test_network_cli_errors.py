"""An unreachable or broken database (issue 14): every CLI command says so in one sentence
naming BEHOLDE_DATABASE_URL, with the password hidden, and exits ≠ 0 — no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

COMMANDS = (
    ["roster", "list"],
    ["oppgave", "liste"],
    ["samling", "vis", "1"],
    ["network", "digest"],
    ["round", "status"],
    ["digest"],
    ["invite"],
)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_refused_postgres_port(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(
        "BEHOLDE_DATABASE_URL", "postgresql+psycopg://postgres:hemmelig@127.0.0.1:1/none"
    )
    monkeypatch.setenv("BEHOLDE_LOG_LEVEL", "WARNING")
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    out = " ".join(result.output.split())
    assert "Får ikke kontakt med databasen i BEHOLDE_DATABASE_URL" in out
    assert "Connection refused" in out and "hemmelig" not in out
    assert "Traceback" not in out and len(result.output.splitlines()) <= 6


def test_a_file_that_is_no_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "notes.db"
    bad.write_text("not a database\n" * 200, "utf-8")
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", f"sqlite:///{bad}")
    monkeypatch.setenv("BEHOLDE_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("BEHOLDE_LANGUAGE", "nn")
    for command in (["roster", "list"], ["oppgave", "liste"], ["network"]):
        result = CliRunner().invoke(app, command)
        out = " ".join(result.output.split())
        assert result.exit_code == 2 and "Får ikkje kontakt med databasen" in out, out
        assert "file is not a database" in out and "Traceback" not in out


def test_a_missing_sqlite_folder_is_a_setting_problem(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", "sqlite:////nonexistent/dir/x.db")
    result = CliRunner().invoke(app, ["oppgave", "liste"])
    assert result.exit_code == 2 and "BEHOLDE_DATABASE_URL" in result.output
    assert not Path("/nonexistent").exists()
