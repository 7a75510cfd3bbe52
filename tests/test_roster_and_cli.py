"""Roster import (all or nothing, per-line errors) and the CLI as a person uses it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app, common
from surveys.definition import load_survey
from surveys.roster import parse_roster

runner = CliRunner()
EXAMPLE = Path(__file__).parents[1] / "deploy" / "roster.example.csv"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("BEHOLDE_LOG_LEVEL", "WARNING")
    monkeypatch.setattr(common.console, "width", 200)  # rich wraps tables at the terminal width
    return tmp_path


def test_the_example_roster_is_valid_and_values_may_be_written_as_people_see_them() -> None:
    entries, errors = parse_roster(EXAMPLE.read_text("utf-8"), load_survey())
    assert errors == []
    ingrid = entries[0]
    assert (ingrid.municipality, ingrid.profession, ingrid.role) == (
        "bodo",
        "sykepleier",
        "team_member",
    )
    assert ingrid.background == {
        "age_band": "30-39",
        "tenure_band": "2-5",
        "position_band": "100",
        "shifts": "1",
    }
    assert entries[2].email is None and entries[2].key == "name:kari berg"
    assert entries[4].language == "en" and entries[4].background["shifts"] == "1"


def test_bad_rows_are_reported_per_line_and_nothing_is_imported(env: Path) -> None:
    bad = env / "bad.csv"
    bad.write_text(
        "name;email;municipality;profession;role;language;position_band\n"
        "Ok Person;ok@example.no;Bodø;Sykepleier;employee;nb;100 %\n"
        ";nobody@example.no;Bodø;;;;\n"
        "Bad Mail;not-an-email;Oslo;Lege;boss;de;120 %\n"
        "Dup;ok@example.no;Fauske;;;;\n",
        "utf-8",
    )
    result = runner.invoke(app, ["roster", "import", str(bad)])
    assert result.exit_code == 1
    out = result.output
    assert "8 feil; ingenting ble importert:" in out
    # In the importing person's language (BEHOLDE_LANGUAGE), from the catalogue (issue 14).
    assert "Linje 3: Navnet er tomt" in out
    assert "Linje 4: «not-an-email» er ikke en e-postadresse" in out
    assert "Linje 4: Ukjent kommune «Oslo»" in out and "Linje 4: Ukjent yrke «Lege»" in out
    assert "Linje 4: Rollen må være en av" in out and "Linje 4: Språket må være et av" in out
    assert "Linje 4: position_band «120 %» er ikke en kjent verdi" in out
    assert "Linje 5: Samme person som på linje 2" in out
    assert "line " not in out and "is not" not in out  # no English left
    listing = runner.invoke(app, ["roster", "list"])
    assert "Ok Person" not in listing.output


def test_import_then_list_shows_people_but_no_answers(env: Path) -> None:
    result = runner.invoke(app, ["roster", "import", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "Importerte 5 nye og oppdaterte 0 personer." in result.output
    again = runner.invoke(app, ["roster", "import", str(EXAMPLE)], env={"BEHOLDE_LANGUAGE": "en"})
    assert "Imported 0 new and updated 5 people." in again.output
    listing = runner.invoke(app, ["roster", "list"], terminal_width=200)
    assert "Ingrid Hansen" in listing.output and "prosjektleder" in listing.output
    # As people write them, in the reader's language — not the stored codes (issue 14).
    assert "Bodø" in listing.output and "Sykepleier" in listing.output
    assert "bodo" not in listing.output and "team_member" not in listing.output
    assert "aktiv" in listing.output and "active" not in listing.output


def test_a_wrong_setting_stops_with_its_name_and_what_is_expected(env: Path, monkeypatch) -> None:
    monkeypatch.setenv("BEHOLDE_K_ANONYMITY", "2")
    monkeypatch.setenv("BEHOLDE_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("BEHOLDE_LANGUAGE", "en")  # the language of the message
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "BEHOLDE_K_ANONYMITY: must be at least 3" in result.output
    assert "BEHOLDE_TIMEZONE: must be an IANA time zone" in result.output
    monkeypatch.setenv("BEHOLDE_LANGUAGE", "nn")
    result = runner.invoke(app, ["db", "upgrade"])
    assert "BEHOLDE_K_ANONYMITY: må vere minst 3" in result.output


def test_demo_prints_an_anonymous_summary(env: Path) -> None:
    result = runner.invoke(app, ["demo"], terminal_width=120)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "syntetiske ansatte i 9 kommuner" in out
    assert "Deltakelse i runde 1" in out and "Beiarn: vises ikke (4 invitert)" in out
    assert "Godt fagmiljø" in out and "Har vurdert å slutte:" in out


def test_chat_by_hand_answers_a_pulse_in_the_terminal(env: Path) -> None:
    assert runner.invoke(app, ["roster", "import", str(EXAMPLE)]).exit_code == 0
    assert runner.invoke(app, ["round", "open"]).exit_code == 0
    # Ingrid's background came from the roster: she gets the promise, then the pulse.
    keys = "\n".join(["1", "6", "2", "5", "3", "4", "2", "/meg", "/avslutt"]) + "\n"
    result = runner.invoke(app, ["chat", "--as", "Ingrid Hansen"], input=keys)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Hei, Ingrid!" in out and "lagres uten navnet ditt" in out
    assert "(1 av 7)" in out and "✓ Ditt svar: 1 – svært lite" in out
    assert "Takk! Svarene dine er lagret uten navn." in out
    assert "Pulsrunder: invitert til 1, fullført 1" in out
    status = runner.invoke(app, ["round", "status"])
    # Nobody had a chat when the round opened; Ingrid was invited when she first wrote.
    assert "Runde 1: 0 er i gang; stenger" in status.output
    assert "I alt: vises ikke (bare 1 invitert" in status.output  # one answer is under k
    closed = runner.invoke(app, ["round", "close"], terminal_width=120)
    assert "færre enn 5" in closed.output


def test_the_leader_reads_the_terminal_in_nynorsk_or_english(env: Path) -> None:
    nn, en = {"BEHOLDE_LANGUAGE": "nn"}, {"BEHOLDE_LANGUAGE": "en"}
    imported = runner.invoke(app, ["roster", "import", str(EXAMPLE)], env=nn)
    assert "Importerte 5 nye og oppdaterte 0 personar." in imported.output
    assert "Ingen runde er open." in runner.invoke(app, ["round", "close"], env=nn).output
    assert "Ingen runde er open." in runner.invoke(app, ["round", "status"], env=nn).output
    opened = runner.invoke(app, ["round", "open"], env=en)
    assert opened.exit_code == 0 and "Round 1 is open until" in opened.output
    status = runner.invoke(app, ["round", "status"], env=nn)
    assert "Runde 1: 0 er i gang; stengjer" in status.output
    listing = runner.invoke(app, ["roster", "list"], env=nn, terminal_width=200)
    assert "Namn" in listing.output and "Chattar" in listing.output
    network = runner.invoke(app, ["network"], env=nn)
    assert network.exit_code == 0 and "Ikkje noko nettverk enno" in network.output
    gathering = runner.invoke(app, ["samling", "liste"], env=nn)
    assert "Ingen samlingar er lagde inn enno." in gathering.output
    task = runner.invoke(app, ["task", "list", "--en"], env=nn)
    assert "No tasks yet." in task.output
    closed = runner.invoke(app, ["round", "close"], env=en, terminal_width=120)
    assert "Participation in round 1" in closed.output and "fewer than 5" in closed.output


def test_a_sqlite_file_in_a_missing_folder_is_refused_and_no_folder_is_made(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    result = runner.invoke(
        app,
        ["round", "status"],
        env={"BEHOLDE_DATABASE_URL": f"sqlite:///{missing / 'x.db'}", "BEHOLDE_LANGUAGE": "en"},
        terminal_width=400,
    )
    said = " ".join(result.output.split())  # the console wraps long lines
    assert result.exit_code == 2
    assert "BEHOLDE_DATABASE_URL" in said and "does not exist" in said
    assert not (tmp_path / "no").exists()


def test_demo_refuses_a_database_that_already_has_people(env: Path) -> None:
    url = f"sqlite:///{env / 'demo-twice.db'}"
    assert runner.invoke(app, ["demo", "--database", url]).exit_code == 0
    again = runner.invoke(app, ["demo", "--database", url])
    assert again.exit_code == 2 and isinstance(again.exception, SystemExit)  # no traceback
    assert "tom database" in " ".join(again.output.split())


def test_round_open_says_why_nobody_was_invited_and_names_the_open_round(env: Path) -> None:
    opened = runner.invoke(app, ["round", "open"])
    said = " ".join(opened.output.split())
    assert opened.exit_code == 0 and "0 er invitert" in said
    assert "Ingen kan nås ennå" in said and "beholde invite" in said
    again = runner.invoke(app, ["round", "open"])
    assert again.exit_code == 1
    assert "Runde 1 er allerede åpen" in " ".join(again.output.split())


@pytest.mark.parametrize("days", ["0", "-3", "61", "99999999999999999999"])
def test_round_open_refuses_a_length_it_cannot_mean(env: Path, days: str) -> None:
    """`--days 0` used to open a 5-day round (0 read as "the default"); a huge number must
    not crash either. Refused in one sentence, and no round is opened."""
    refused = runner.invoke(app, ["round", "open", "--days", days])
    said = " ".join(refused.output.split())
    assert refused.exit_code != 0 and "Traceback" not in said
    if days != "99999999999999999999":  # click refuses what is not an int before we see it
        assert "En runde varer fra 1 til 60 dager" in said
    status = runner.invoke(app, ["round", "status"])
    assert "Runde 1" not in " ".join(status.output.split())


def test_the_terminal_chat_shows_a_waiting_question_once_not_again_at_deliver(env: Path) -> None:
    """After `round open`, `chat` shows the round's first question (from the outbox) and
    `deliver` does not show it a second time; a later reminder would still be delivered."""
    assert runner.invoke(app, ["roster", "import", str(EXAMPLE)]).exit_code == 0
    assert runner.invoke(app, ["chat", "--as", "Ingrid Hansen"], input="/avslutt\n").exit_code == 0
    assert runner.invoke(app, ["round", "open"]).exit_code == 0
    chatted = runner.invoke(app, ["chat", "--as", "ingrid hansen"], input="/avslutt\n")
    assert chatted.exit_code == 0
    assert chatted.output.count("(1 av ") == 1, chatted.output
    delivered = runner.invoke(app, ["deliver"])
    assert delivered.exit_code == 0 and "Til Ingrid Hansen" not in delivered.output


def test_deliver_says_whom_each_message_is_for(env: Path) -> None:
    assert runner.invoke(app, ["roster", "import", str(EXAMPLE)]).exit_code == 0
    assert runner.invoke(app, ["round", "open"]).exit_code == 0
    # Ingrid writes once: from now on she has a console chat and is invited there.
    assert runner.invoke(app, ["chat", "--as", "Ingrid Hansen"], input="/avslutt\n").exit_code == 0
    assert runner.invoke(app, ["round", "close"]).exit_code == 0
    assert runner.invoke(app, ["round", "open"]).exit_code == 0
    delivered = runner.invoke(app, ["deliver"])
    assert delivered.exit_code == 0, delivered.output
    assert "── Til Ingrid Hansen:" in delivered.output and "Ny puls" in delivered.output
