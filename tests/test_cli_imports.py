"""The CLI's import budget: `import bot.cli` (and so `beholde --help`) loads no heavy library,
and `beholde round status` only what a query needs — checked in a fresh interpreter."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from alembic import command
from sqlalchemy import text

from storage.db import Database, alembic_config, script_heads
from storage.models import Invitation, Person, Round

# Never at `import bot.cli`: the chat platforms, the summary's data stack, the database.
HEAVY = ("pandas", "numpy", "matplotlib", "openpyxl", "slack_bolt", "slack_sdk", "telegram",
         "aiohttp", "sqlalchemy", "alembic", "pydantic_settings")  # fmt: skip
# Never for `round status` on an up-to-date database: its participation table goes through
# the release path (storage/releases.py) from a few counts, summed without pandas.
NOT_FOR_STATUS = ("matplotlib", "openpyxl", "slack_bolt", "slack_sdk", "telegram", "aiohttp",
                  "alembic", "pandas", "numpy",
                  # nor the engine and its features, nor the dashboard's queries: a few counts
                  "bot.conversation", "bot.network_commands", "storage.dashboard",
                  "storage.network_models")  # fmt: skip
# Never for a printed `beholde summary` of a round with few answers: no chart, no workbook,
# no DataFrame (surveys/summary_plain.py), no migration.
NOT_FOR_SUMMARY = ("matplotlib", "openpyxl", "pandas", "numpy", "alembic", "slack_bolt",
                   "telegram", "aiohttp")  # fmt: skip

PROBE = """
import json, sys
{code}
print(json.dumps(sorted(sys.modules)))
"""


def loaded_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    """Modules loaded in a fresh interpreter after running `code` (with their packages)."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
        cwd=Path(__file__).parent.parent,
    )
    modules = set(json.loads(result.stdout.strip().splitlines()[-1]))
    return modules | {m.split(".")[0] for m in modules}


def test_importing_the_cli_loads_no_heavy_library() -> None:
    modules = loaded_after("import bot.cli\nbot.cli.typer_app()")
    assert "typer" in modules and "bot.cli.roster" in modules  # the probe really built it
    assert modules & set(HEAVY) == set()


def test_importing_the_entry_point_loads_not_even_typer() -> None:
    """`beholde serve` decides before typer is loaded (see bot/cli/__init__.py)."""
    modules = loaded_after("from bot.cli import app")
    assert "bot.cli" in modules
    assert modules & {"typer", "rich", "click", "pydantic", "yaml"} == set()


def test_round_status_loads_only_what_a_query_needs(tmp_path: Path) -> None:
    env = {
        "BEHOLDE_DATABASE_URL": f"sqlite:///{tmp_path / 'status.db'}",
        "BEHOLDE_PLANNING_SECRET": "test",
        "BEHOLDE_LOG_LEVEL": "WARNING",
    }
    run = (
        "from bot.cli import app\ntry:\n    app(['round', 'status'])\nexcept SystemExit:\n    pass"
    )
    first = loaded_after(run, env)  # creates the schema: Alembic is needed once
    assert "alembic" in first and "sqlalchemy" in first
    open_round_with_people(env["BEHOLDE_DATABASE_URL"])  # so that the table is printed
    again = loaded_after(run, env)
    assert "sqlalchemy" in again and "pydantic_settings" in again
    assert again & set(NOT_FOR_STATUS) == set()


def test_printed_summary_loads_no_chart_workbook_or_dataframe(tmp_path: Path) -> None:
    env = {
        "BEHOLDE_DATABASE_URL": f"sqlite:///{tmp_path / 'summary.db'}",
        "BEHOLDE_PLANNING_SECRET": "test",
        "BEHOLDE_LOG_LEVEL": "WARNING",
    }
    run = "from bot.cli import app\ntry:\n    app({args})\nexcept SystemExit:\n    pass"
    loaded_after(run.format(args=["demo", "--database", env["BEHOLDE_DATABASE_URL"]]), env)
    printed = loaded_after(run.format(args=["summary"]), env)  # the demo's closed round
    assert "surveys.summary_plain" in printed and "bot.summary_text" in printed  # it ran
    assert printed & set(NOT_FOR_SUMMARY) == set()
    exported = loaded_after(run.format(args=["summary", "--xlsx", str(tmp_path / "out.xlsx")]), env)
    assert {"openpyxl", "matplotlib"} <= exported  # the workbook does load them
    assert (tmp_path / "out.xlsx").stat().st_size > 0


def open_round_with_people(url: str) -> None:
    db = Database(url)
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        round_ = Round(number=1, seed="s", per_pulse=3, status="open", opened_at=now,
                       closes_at=now + dt.timedelta(days=5))  # fmt: skip
        session.add(round_)
        session.flush()
        for i in range(8):
            person = Person(key=f"p{i}", name=f"P {i}", municipality="bodo", created_at=now)
            session.add(person)
            session.flush()
            status = "finished" if i < 6 else "invited"
            session.add(Invitation(round_id=round_.id, person_id=person.id, status=status))
    db.dispose()


def test_the_schema_check_knows_when_migrations_are_due(tmp_path: Path) -> None:
    heads = script_heads()
    assert heads and all(isinstance(h, str) for h in heads)
    db = Database(f"sqlite:///{tmp_path / 'heads.db'}")
    assert not db.at_head()  # empty database
    command.upgrade(alembic_config(db.engine), "0001")  # one revision behind every head
    with db.engine.connect() as conn:
        assert list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) == [
            "0001"
        ]
    assert not db.at_head()
    db.upgrade()
    assert db.at_head()
    db.dispose()


def test_looking_for_the_teams_installer_loads_no_teams_sdk() -> None:
    """`beholde serve` imports every installer module to ask it; without Teams settings the
    Agents SDK, MSAL and azure-core (~60 MB, ~0.8 s) stay out of the process."""
    modules = loaded_after("import bot.transports.teams")
    assert "bot.transports.teams" in modules
    assert modules & {"microsoft_agents", "msal", "azure", "requests"} == set()


def test_the_quick_head_reading_agrees_with_alembic() -> None:
    """The file-text reading of the heads (which spares `round status` Alembic's import) must
    name the heads Alembic itself finds, also when a merge revision's parents span lines."""
    from alembic.script import ScriptDirectory

    assert script_heads() == set(ScriptDirectory.from_config(alembic_config()).get_heads())
