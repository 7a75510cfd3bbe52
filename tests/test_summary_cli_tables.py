"""`demo`, `round close`, `round status` and `summary` print the same participation table."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app, common

runner = CliRunner()


def table(output: str, number: int) -> list[str]:
    """The participation table of round `number` in a command's output (up to a blank line)."""
    lines = output.splitlines()
    start = lines.index(f"Deltakelse i runde {number} (svart av invitert):")
    rest = lines[start:]
    return rest[: rest.index("")] if "" in rest else rest


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'tables.db'}"
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", url)
    monkeypatch.setenv("BEHOLDE_LOG_LEVEL", "WARNING")
    monkeypatch.setattr(common.console, "width", 200)
    return url


def test_every_command_prints_the_same_participation_table(env: str) -> None:
    demo = runner.invoke(app, ["demo", "--database", env])
    assert demo.exit_code == 0, demo.output
    closed = table(demo.output, 1)
    assert any("Beiarn: vises ikke (4 invitert)" in line for line in closed)
    summary = runner.invoke(app, ["summary", "--round", "1"])
    assert summary.exit_code == 0, summary.output
    assert table(summary.output, 1) == closed
    # A new round, while it is open: status and summary agree too.
    assert runner.invoke(app, ["round", "open"]).exit_code == 0
    status = runner.invoke(app, ["round", "status"])
    assert status.exit_code == 0, status.output
    open_table = table(status.output, 2)
    assert any("I alt: færre enn 5 av" in line for line in open_table)  # nobody answered yet
    assert table(runner.invoke(app, ["summary", "--round", "2"]).output, 2) == open_table
    close = runner.invoke(app, ["round", "close"])
    assert close.exit_code == 0, close.output
    assert table(close.output, 2) == table(runner.invoke(app, ["summary"]).output, 2)
