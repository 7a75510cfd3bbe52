"""Exports that open right: CSV for Norwegian Excel, a formatted workbook with a front sheet
and the chart, text that never becomes a formula, paths that are refused rather than made."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from bot.summary_chart import chart_png
from bot.summary_export import RoundInfo, tables, write_csv, write_xlsx
from storage.db import Database
from surveys.definition import Survey
from surveys.summary import Summary, build_summary
from surveys.synthetic import participation_for, survey_round
from tests.summary_support import EXP19, EXP21, IMPORTANCE, add_round, store_frame

EVIL = '=HYPERLINK("http://evil.example";"x")'
NAMES = (EVIL, "+47 kommune", "-bodo", "@team", "\tfauske")


@pytest.fixture(scope="module")
def summary(survey: Survey) -> Summary:
    """Round 2 after round 1, with municipalities named like formulas."""
    before = survey_round(survey, round_id=1, n=60, quit_share=0.4, position_share=0.6,
                          experienced=EXP19, importance=IMPORTANCE, seed=1,
                          municipalities=NAMES)  # fmt: skip
    now = survey_round(survey, round_id=2, n=50, quit_share=0.3, position_share=0.6,
                       experienced=EXP21, importance=IMPORTANCE, seed=2,
                       municipalities=NAMES)  # fmt: skip
    return build_summary(now, participation_for(now, 1.3), survey, round_id=2, round_number=2,
                         previous=before, previous_number=1)  # fmt: skip


def test_excel_no_csv_has_semicolons_decimal_commas_bom_and_integer_counts(
    tmp_path: Path, summary: Summary, survey: Survey
) -> None:
    files = write_csv(summary, survey, tmp_path / "csv", "nb")
    raw = {p.name: p.read_bytes() for p in files}
    assert all(data.startswith(b"\xef\xbb\xbf") for data in raw.values())
    factors = raw["runde2_faktorer.csv"].decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(factors), delimiter=";"))
    assert rows[0][:4] == ["Faktor", "Opplevd", "Viktighet", "Gap"]
    shown = [r for r in rows[1:] if r[1]]
    assert shown, "some factor is shown"
    for row in shown:
        experienced, n = row[1], row[6]
        assert "," in experienced and "." not in experienced
        assert len(experienced.split(",")[1]) == 2  # rounded to two decimals
        assert n.isdigit()  # a count is an integer, not 17.0
    by_name = {r[0]: r for r in rows[1:]}
    first = summary.factors[0]
    label = rows[1][0]
    assert first.experienced is not None
    assert by_name[label][1] == f"{first.experienced:.2f}".replace(".", ",")
    overview = list(csv.reader(io.StringIO(raw["runde2_oversikt.csv"].decode("utf-8-sig")),
                               delimiter=";"))  # fmt: skip
    assert overview[1][1] == str(summary.invited)


def test_plain_csv_uses_commas_and_points(tmp_path: Path, summary: Summary, survey: Survey) -> None:
    files = write_csv(summary, survey, tmp_path / "plain", "en", dialect="plain")
    factors = next(p for p in files if p.name.endswith("factors.csv"))
    rows = list(csv.reader(io.StringIO(factors.read_text("utf-8-sig"))))
    assert rows[0][0] == "Factor"
    shown = [r for r in rows[1:] if r[1]]
    assert shown and all("." in r[1] and "," not in r[1] for r in shown)


def test_formula_text_stays_text_in_csv(tmp_path: Path, summary: Summary, survey: Survey) -> None:
    files = write_csv(summary, survey, tmp_path / "csv", "nb")
    participation = next(p for p in files if "deltakelse" in p.name)
    rows = list(csv.reader(io.StringIO(participation.read_text("utf-8-sig")), delimiter=";"))
    groups = [r[0] for r in rows[1:]]
    assert "'" + EVIL in groups and "'@team" in groups and "'-bodo" in groups
    assert not any(g.startswith(("=", "+", "-", "@", "\t", "\r")) for g in groups)


def test_workbook_has_formats_front_sheet_chart_and_no_formulas(
    tmp_path: Path, summary: Summary, survey: Survey
) -> None:
    path = tmp_path / "s.xlsx"
    opened = dt.datetime(2027, 1, 5, 8, 0, tzinfo=dt.UTC)
    closed = dt.datetime(2027, 1, 12, 8, 0, tzinfo=dt.UTC)
    write_xlsx(summary, survey, path, "nb", RoundInfo(opened, closed, closed),
               chart_png(summary, survey, "nb", dpi=60))  # fmt: skip
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == "om" and book.sheetnames[-1] == "diagram"
    front = [[c.value for c in row] for row in book["om"].iter_rows()]
    flat = " ".join(str(v) for row in front for v in row if v)
    assert "Pulsrunde 2" in flat and "05.01.2027" in flat and "12.01.2027" in flat
    assert ["Minste gruppe (k)", "5"] in front and "Tom betyr aldri null" in flat
    assert len(book["diagram"]._images) == 1  # the chart, embedded

    factors = book["faktorer"]
    assert factors["B2"].number_format == "0.00" and isinstance(factors["B2"].value, float)
    assert factors["G2"].number_format == "0" and isinstance(factors["G2"].value, int)
    assert factors.column_dimensions["A"].width >= len("Kommunikasjon med leder")
    overview = book["oversikt"]
    quit_row = next(r for r in overview.iter_rows(min_row=2) if r[0].value == "Vurdert å slutte")
    assert quit_row[1].number_format == "0.0%"
    assert summary.quit is not None and quit_row[1].value == pytest.approx(summary.quit.value)

    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    groups = [r[0].value for r in book["deltakelse"].iter_rows(min_row=2)]
    assert EVIL in groups and "@team" in groups  # shown as written, as text


def test_held_back_figures_are_empty_cells(survey: Survey) -> None:
    tiny = survey_round(survey, round_id=3, n=3, quit_share=0.4, position_share=0.6,
                        experienced=EXP19, importance=IMPORTANCE, seed=3)  # fmt: skip
    small = build_summary(tiny, participation_for(tiny), survey, round_id=3, round_number=3)
    factor_table = tables(small, survey, "nb")[1]
    assert all(row[1] is None and row[6] is None for row in factor_table.rows)


def _cli_database(tmp_path: Path, survey: Survey) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db = Database(url)
    db.upgrade()
    round_id = add_round(db, 1)
    store_frame(db, survey_round(survey, round_id=round_id, n=30, quit_share=0.4,
                                 position_share=0.6, experienced=EXP19,
                                 importance=IMPORTANCE, seed=1), round_id)  # fmt: skip
    db.dispose()
    return url


def test_cli_refuses_a_missing_folder_and_drops_the_hint_after_writing(
    tmp_path: Path, survey: Survey, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import app

    monkeypatch.setenv("BEHOLDE_DATABASE_URL", _cli_database(tmp_path, survey))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    missing = tmp_path / "nonexistent" / "x.xlsx"
    refused = runner.invoke(app, ["summary", "--xlsx", str(missing)])
    assert refused.exit_code == 2 and "Ikke skrevet:" in refused.output
    assert "lag den først" in refused.output
    assert not missing.parent.exists()
    for lang, words in (("nn", "Ikkje skrive:"), ("en", "create it first")):
        said = runner.invoke(app, ["summary", "--xlsx", str(missing), "--language", lang])
        assert said.exit_code == 2 and words in said.output.replace("\n", " ")
    refused_csv = runner.invoke(app, ["summary", "--csv", str(tmp_path / "no" / "csv")])
    assert refused_csv.exit_code == 2 and not (tmp_path / "no").exists()
    bad = runner.invoke(app, ["summary", "--csv", str(tmp_path / "c"), "--csv-dialect", "x"])
    assert bad.exit_code == 2 and not (tmp_path / "c").exists()

    printed = runner.invoke(app, ["summary"])
    assert printed.exit_code == 0 and "Regneark:" in printed.output
    path = tmp_path / "x.xlsx"
    written = runner.invoke(app, ["summary", "--xlsx", str(path), "--csv", str(tmp_path / "c"),
                                  "--csv-dialect", "plain"])  # fmt: skip
    assert written.exit_code == 0, written.output
    assert "Regneark:" not in written.output and path.exists()
    assert f"Skrev {path}" in written.output.replace("\n", "") and "CSV-filer til" in written.output
    frame = pd.read_csv(next((tmp_path / "c").glob("*faktorer.csv")), encoding="utf-8-sig")
    assert frame["n"].dtype.kind == "i"
