"""Rosters as Norwegian offices write them, broken rows, people who leave, and `chat --as`.

The CLI runs against the session's real database (SQLite and PostgreSQL).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app, common
from bot.conversation import Conversation
from bot.ports import Address as ChatAddress
from bot.ports import Command
from bot.roster_errors import render
from storage import people
from storage.db import Database
from storage.models import Address, Invitation, Person, Response
from surveys.definition import Survey, load_survey
from surveys.roster import parse_roster
from tests.conftest import add_person
from tests.pulse_helpers import answer_all

runner = CliRunner()
SURVEY = load_survey()

NORWEGIAN = (
    "\ufeffnavn;e-post;kommune;yrke;rolle;team;språk;turnus\n"
    "Ingrid Hansen;ingrid@kommune.test;Bodø;Sykepleier;ansatt;Bodø;bokmål;ja\n"
    "Christel Kjerran;christel@kommune.test;Fauske;Annet;leder;;nb;nei\n"
    "Per Styre;per@kommune.test;Fauske;Annet;styring;;nynorsk;\n"
    "Åse Ødegård;;Meløy;Helsefagarbeider;Tillitsvalgt;Meløy;NN;\n"
)


@pytest.fixture
def cli_db(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    """The CLI pointed at this test's database."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("BEHOLDE_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("BEHOLDE_LANGUAGE", "en")  # these tests read the English texts
    monkeypatch.setattr(common.console, "width", 200)
    return db


def count(db: Database, model: type) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def names(db: Database) -> list[str]:
    with db.transaction() as session:
        return sorted(session.scalars(select(Person.name)))


def write(tmp_path: Path, text: str, name: str = "roster.csv") -> str:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return str(path)


def test_norwegian_headers_values_semicolons_and_a_bom(survey: Survey) -> None:
    entries, errors = parse_roster(NORWEGIAN, survey)
    assert errors == []
    got = [(e.name, e.email, e.municipality, e.role, e.team, e.language) for e in entries]
    assert got == [
        ("Ingrid Hansen", "ingrid@kommune.test", "bodo", "employee", "Bodø", "nb"),
        ("Christel Kjerran", "christel@kommune.test", "fauske", "leader", None, "nb"),
        ("Per Styre", "per@kommune.test", "fauske", "steering", None, "nn"),
        ("Åse Ødegård", None, "meloy", "union_rep", "Meløy", "nn"),
    ]
    assert entries[0].background == {"shifts": "1"} and entries[1].background == {"shifts": "0"}
    commas = NORWEGIAN.replace(";", ",")
    assert [e.name for e in parse_roster(commas, survey)[0]] == [e.name for e in entries]


def test_an_unknown_column_is_named_and_nothing_is_read(survey: Survey) -> None:
    entries, errors = parse_roster("navn;epost;ansattnr\nKari;kari@k.test;17\n", survey)
    assert entries == [] and errors[0].code == "unknown_column"
    assert render(errors[0], "en").startswith(
        "Line 1: Unknown column 'ansattnr' (known: navn, epost"
    )
    # The person importing reads it in their language, from the catalogue (issue 14).
    assert render(errors[0], "nb").startswith("Linje 1: Ukjent kolonne «ansattnr» (kjente: navn")
    assert render(errors[0], "nn").startswith("Linje 1: Ukjend kolonne «ansattnr» (kjende: navn")


BROKEN = {
    "stray quote": (
        'name,email,municipality\n"Kari K,p0@kommune.test,Bodø\n'
        + "".join(f"P{i},p{i}@kommune.test,Bodø\n" for i in range(1, 5))
        + "Siste,siste@kommune.test,Bodø\n",
        'Line 2: A quote (") opens a value that runs on to line',
    ),
    "huge field": (
        "name,email\nOk,ok@k.test\n" + "x" * 131_073 + ",big@k.test\nAfter,after@k.test\n",
        "Line 3: A value is longer than 131,072 characters",
    ),
    "long field": (
        "name,email\n" + "y" * 5000 + ",y@k.test\n",
        "Line 2: name is 5,000 characters long (at most 1,000)",
    ),
    "long name": ("name,email\n" + "z" * 201 + ",z@k.test\n", "longer than 200 characters"),
    "long e-mail": (
        "name,email\nLang," + "a" * 64 + "@" + "b" * 250 + ".example\n",
        "Line 2: Email is longer than 320 characters",
    ),
    "too few values": (
        "navn;e-post;kommune\nKari;kari@k.test\n",
        "Line 2: 2 values, but the header has 3 columns",
    ),
    "too many values": (
        "navn;e-post\nKari;kari@k.test;Bodø\n",
        "Line 2: 3 values, but the header has 2 columns",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_row_is_an_error_with_its_line_and_nothing_is_imported(
    cli_db: Database, tmp_path: Path, case: str
) -> None:
    text, message = BROKEN[case]
    result = runner.invoke(app, ["roster", "import", write(tmp_path, text)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "nothing was imported" in result.output and message in result.output
    assert count(cli_db, Person) == 0


def test_values_at_the_limits_are_stored_on_every_backend(cli_db: Database, tmp_path) -> None:
    email = "a" * 64 + "@" + "b" * 240 + ".example"  # 313 characters
    text = f"name,email,team\n{'N' * 200},{email},{'T' * 100}\n"
    result = runner.invoke(app, ["roster", "import", write(tmp_path, text)])
    assert result.exit_code == 0, result.output
    with cli_db.transaction() as session:
        person = session.scalars(select(Person)).one()
        assert (len(person.name), person.email, len(person.team or "")) == (200, email, 100)


def test_reimport_marks_people_missing_as_left_after_confirmation(
    cli_db: Database, tmp_path: Path, engine: Conversation
) -> None:
    roster = write(tmp_path, NORWEGIAN)
    assert runner.invoke(app, ["roster", "import", roster]).exit_code == 0
    # Per answers a pulse, so there are anonymous answers to keep.
    with cli_db.transaction() as session:
        per = people.find_people(session, "per@kommune.test")[0]
        per.onboarded_at = engine.clock()
        people.bind_address(session, per, "test", "per", engine.clock())
    engine.open_round()
    chat = ChatAddress("test", "per")
    answer_all(engine, chat, engine.handle(Command(chat, "puls")).messages)
    engine.close_round()
    answers = count(cli_db, Response)
    assert answers > 0

    smaller = write(tmp_path, "\n".join(NORWEGIAN.splitlines()[:3]) + "\n", "smaller.csv")
    kept = runner.invoke(app, ["roster", "import", smaller])
    assert kept.exit_code == 0
    assert "2 people in the database are not in this file: Per Styre, Åse Ødegård" in kept.output
    assert "--remove-missing" in kept.output and len(names(cli_db)) == 4

    refused = runner.invoke(app, ["roster", "import", smaller, "--remove-missing"], input="n\n")
    assert refused.exit_code == 1 and "Nothing was imported or removed." in refused.output
    assert len(names(cli_db)) == 4

    left = runner.invoke(app, ["roster", "import", smaller, "--remove-missing"], input="y\n")
    assert left.exit_code == 0, left.output
    assert "2 marked as left: identity deleted, anonymous answers kept." in left.output
    assert names(cli_db) == ["Christel Kjerran", "Ingrid Hansen"]
    assert count(cli_db, Response) == answers  # anonymous answers stay
    with cli_db.transaction() as session:
        orphaned = select(func.count()).where(Invitation.person_id.is_(None))
        assert session.scalar(orphaned) == 1  # Per's invitation stays, without Per
        assert session.scalars(select(Address)).all() == []


def test_roster_remove_finds_a_person_as_written_and_asks_first(cli_db: Database, tmp_path) -> None:
    assert runner.invoke(app, ["roster", "import", write(tmp_path, NORWEGIAN)]).exit_code == 0
    no = runner.invoke(app, ["roster", "remove", "ingrid  HANSEN"], input="n\n")
    assert no.exit_code == 1 and "Remove Ingrid Hansen?" in no.output
    assert "Nothing was removed." in no.output and len(names(cli_db)) == 4
    yes = runner.invoke(app, ["roster", "remove", "ase odegard", "--yes"])
    assert yes.exit_code == 0 and "Åse Ødegård is removed" in yes.output
    assert "Åse Ødegård" not in names(cli_db)
    missing = runner.invoke(app, ["roster", "remove", "Nobody Here", "--yes"])
    assert missing.exit_code == 1 and "No one called “Nobody Here”" in missing.output
    assert len(names(cli_db)) == 3


def test_roster_list_shows_names_exactly_as_written(cli_db: Database, tmp_path) -> None:
    text = "navn;e-post\nOla [vikar] Nilsen;ola@k.test\n[bold]Kari[/bold];kari@k.test\n"
    assert runner.invoke(app, ["roster", "import", write(tmp_path, text)]).exit_code == 0
    listing = runner.invoke(app, ["roster", "list"])
    assert "Ola [vikar] Nilsen" in listing.output and "[bold]Kari[/bold]" in listing.output


def test_chat_as_finds_the_rostered_person_and_never_invents_one(
    cli_db: Database, tmp_path
) -> None:
    assert runner.invoke(app, ["roster", "import", write(tmp_path, NORWEGIAN)]).exit_code == 0
    found = runner.invoke(app, ["chat", "--as", "ingrid  hansen"], input="/avslutt\n")
    assert found.exit_code == 0, found.output
    assert "Hei, Ingrid!" in found.output and len(names(cli_db)) == 4
    stranger = runner.invoke(app, ["chat", "--as", "Ingrd Hansen"], input="/avslutt\n")
    assert (
        stranger.exit_code == 1
        and "No one called “Ingrd Hansen” is on the roster" in stranger.output
    )
    assert len(names(cli_db)) == 4
    asked = runner.invoke(app, ["chat", "--as", "Ny Person", "--new"], input="/avslutt\n")
    assert asked.exit_code == 0 and "Ny Person" in names(cli_db)


def test_names_match_as_a_person_would_write_them(engine: Conversation) -> None:
    for name in ("Ingrid Hansén", "Bjørn Ødegård", "Anne-Lise Berg", "Kari Berg"):
        add_person(engine, name)
    with engine.db.transaction() as session:
        for typed, expected in [
            ("ingrid hansen", "Ingrid Hansén"),
            ("  INGRID   HANSÉN ", "Ingrid Hansén"),
            ("bjorn odegard", "Bjørn Ødegård"),
            ("anne lise berg", "Anne-Lise Berg"),
            ("Kari Berg", "Kari Berg"),
        ]:
            assert [p.name for p in people.find_people(session, typed)] == [expected], typed
        assert people.find_people(session, "Kari") == []
        assert people.find_people(session, "") == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from('ab;,"\n\r\t\ufeff@.Ø ') | st.characters(), max_size=40),
        max_size=6,
    )
)
def test_any_file_gives_entries_or_line_numbered_errors_never_an_exception(lines) -> None:
    entries, errors = parse_roster("navn;e-post;kommune\n" + "\n".join(lines), SURVEY)
    assert all(error.line >= 1 for error in errors)
    for entry in entries:
        assert entry.name and len(entry.name) <= 200 and "\n" not in entry.name
