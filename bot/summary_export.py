"""The summary as tables: one spreadsheet sheet (or CSV file) per table.

Only what the chat shows goes out — the same released `Summary`: hidden and held-back
figures are empty cells, never numbers, and a hidden factor carries no n either.

Each column has a kind (text, count, mean, share, score) so that every output formats it the
same way: the workbook with real number and percent formats, the CSV for Norwegian Excel
(semicolon, decimal comma, UTF-8 with BOM) or plain (comma, decimal point). Text — group
names can come from a roster — that starts with `=`, `+`, `-`, `@`, tab or CR is written as
text, never as a formula: a quote mark in front in CSV, a string cell in the workbook.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.i18n import t
from bot.summary_text import factor_label, group_label, held_back_lines, lang_of, num, text
from surveys.definition import Survey
from surveys.stats import Estimate
from surveys.summary import Summary
from surveys.themes import load_lexicon

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell

# openpyxl (≈ 0.1 s, 10 MB) loads only when a workbook is written: `beholde summary` that
# prints, or writes CSV, needs none of it.

SHEETS = ("overview", "factors", "changes", "quit", "participation", "themes", "by_municipality")
ROWS = ("invited", "answered", "submissions", "quit", "enps", "position", "comments")
DIALECTS = ("excel-no", "plain")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MEAN_DIGITS = 2
SHARE_DIGITS = 3  # as a fraction: 0.353 is 35.3 %
XLSX_FORMATS = {"count": "0", "mean": "0.00", "share": "0.0%", "score": "+0;-0;0"}


@dataclass(frozen=True)
class RoundInfo:
    """What the front sheet says about the round besides its figures."""

    opened: dt.datetime | None = None
    closes: dt.datetime | None = None
    closed: dt.datetime | None = None


@dataclass
class Table:
    """One sheet: headings, rows of values, one kind per column (or per cell via `kinds`)."""

    name: str
    headings: list[str]
    columns: list[str]  # text | count | mean | share | score
    rows: list[list[object]] = field(default_factory=list)
    kinds: list[list[str]] | None = None  # per-cell kinds when rows differ (the overview)

    def kind(self, row: int, column: int) -> str:
        return self.kinds[row][column] if self.kinds else self.columns[column]


def defused(value: str) -> str:
    """Text that a spreadsheet would read as a formula gets a quote mark in front."""
    return "'" + value if value.startswith(FORMULA_START) else value


def col(lang: str, key: str) -> str:
    return text(lang, f"col_{key}")


def _est(e: Estimate | None) -> list[object]:
    if e is None:
        return [None, None, None, None]
    return [e.value, e.low, e.high, e.n]


def tables(summary: Summary, survey: Survey, lang: str = "nb") -> list[Table]:
    """The released summary as tables, in sheet order."""
    lang = lang_of(lang)
    c = {key: col(lang, key) for key in _COLUMN_KEYS}
    s = {key: text(lang, f"sheet_{key}") for key in SHEETS}
    m = [text(lang, f"row_{key}") for key in ROWS]
    answered = summary.answered is not None
    overview = Table(s["overview"], [c["measure"], c["value"], c["low"], c["high"], c["n"]],
                     ["text", "count", "share", "share", "count"])  # fmt: skip
    counts = ["text", "count", "count", "count", "count"]
    overview.rows = [
        [m[0], summary.invited, None, None, None],
        [m[1], summary.answered, None, None, None],
        [m[2], summary.submissions if answered else None, None, None, None],
        [m[3], *_est(summary.quit)],
        [m[4], *_est(summary.enps)],
        [m[5], *_est(summary.position_80)],
        [m[6], summary.comments if summary.themes is not None else None, None, None, None],
    ]
    share = ["text", "share", "share", "share", "count"]
    score = ["text", "score", "score", "score", "count"]
    overview.kinds = [counts, counts, counts, share, score, share, counts]
    # What the release path held back, and why: the same words as in the chat.
    for line in held_back_lines(summary, survey, lang):
        overview.rows.append([c["note"], line, None, None, None])
        overview.kinds.append(["text", "text", "text", "text", "text"])
    factors = Table(
        s["factors"],
        [c[k] for k in ("factor", "experienced", "importance", "gap", "low", "high", "n",
                        "priority")],
        ["text", "mean", "mean", "mean", "mean", "mean", "count", "count"],
    )  # fmt: skip
    for f in summary.factors:
        factors.rows.append(
            [
                factor_label(survey, f.factor_id, lang),
                f.experienced,
                f.importance,
                *_est(f.gap)[:3],
                f.n if f.gap is not None else None,
                (summary.priorities.index(f.factor_id) + 1)
                if f.factor_id in summary.priorities
                else None,
            ]
        )
    out = [overview, factors]
    if summary.changes:
        changes = Table(
            s["changes"],
            [c[k] for k in ("factor", "change", "low", "high", "n_before", "n_now",
                            "gap_change", "verdict")],
            ["text", "mean", "mean", "mean", "count", "count", "mean", "text"],
        )  # fmt: skip
        for ch in summary.changes:
            changes.rows.append(
                [
                    factor_label(survey, ch.factor_id, lang),
                    *_est(ch.experienced)[:3],
                    ch.n_before if ch.experienced else None,
                    ch.n_now if ch.experienced else None,
                    ch.gap_change,
                    text(lang, f"verdict_{ch.verdict}"),
                ]
            )
        out.append(changes)
    quit_ = Table(s["quit"], [c["group"], c["share"], c["low"], c["high"], c["n"]], share)
    quit_.rows = [
        [group_label(survey, "profession", g.group, lang), *_est(g.share)]
        for g in summary.quit_by_profession
    ]
    participation = Table(
        s["participation"],
        [c["group"], c["invited"], c["answered"], c["rate"]],
        ["text", "count", "count", "share"],
    )
    participation.rows = [
        [group_label(survey, "municipality", p.group, lang), p.invited, p.answered, p.rate]
        for p in summary.participation
    ]
    out += [quit_, participation]
    if any(g.n is not None for g in summary.factors_by_municipality):
        by_municipality = Table(
            s["by_municipality"],
            [c[k] for k in ("factor", "group", "experienced", "importance", "gap", "n")],
            ["text", "text", "mean", "mean", "mean", "count"],
        )
        by_municipality.rows = [
            [
                factor_label(survey, g.factor_id, lang),
                group_label(survey, "municipality", g.group, lang),
                g.experienced,
                g.importance,
                g.gap,
                g.n,
            ]
            for g in summary.factors_by_municipality
        ]
        out.append(by_municipality)
    if summary.themes is not None:
        lexicon = load_lexicon()
        themes = Table(s["themes"], [c["theme"], c["count"]], ["text", "count"])
        themes.rows = [[lexicon.label(t, lang), n] for t, n in summary.themes]
        out.append(themes)
    return out


_COLUMN_KEYS = (
    "measure", "value", "low", "high", "n", "factor", "experienced", "importance", "gap",
    "priority", "change", "verdict", "group", "share", "invited", "answered", "rate", "theme",
    "count", "n_before", "n_now", "gap_change", "note",
)  # fmt: skip


# --------------------------------------------------------------------------- CSV


def csv_value(value: object, kind: str, dialect: str) -> str:
    """One cell as CSV text: rounded, counts as integers, shares as fractions."""
    if value is None:
        return ""
    if kind == "text" or isinstance(value, str):
        return defused(str(value))
    number = float(value)  # type: ignore[arg-type]
    if kind in ("count", "score"):
        out = str(round(number))
    else:
        digits = SHARE_DIGITS if kind == "share" else MEAN_DIGITS
        out = f"{round(number, digits):.{digits}f}"
    return out.replace(".", ",") if dialect == "excel-no" else out


def csv_text(table: Table, dialect: str = "excel-no") -> str:
    """A table as CSV text (without the BOM, which `write_csv` adds)."""
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=";" if dialect == "excel-no" else ",", lineterminator="\r\n"
    )
    writer.writerow([defused(h) for h in table.headings])
    for r, row in enumerate(table.rows):
        writer.writerow([csv_value(v, table.kind(r, i), dialect) for i, v in enumerate(row)])
    return buffer.getvalue()


def write_csv(
    summary: Summary,
    survey: Survey,
    folder: Path,
    lang: str = "nb",
    dialect: str = "excel-no",
) -> list[Path]:
    """One CSV per table, UTF-8 with BOM so that spreadsheet programs read æøå."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown CSV dialect {dialect!r}")
    folder.mkdir(exist_ok=True)  # its parent must exist: checked by `writable_folder`
    written = []
    for table in tables(summary, survey, lang):
        path = folder / t(lang_of(lang), "steer_csv_file", number=summary.round_number,
                          name=table.name)  # fmt: skip
        path.write_text(csv_text(table, dialect), encoding="utf-8-sig", newline="")
        written.append(path)
    return written


# --------------------------------------------------------------------------- XLSX


def _put(cell: Cell, value: object, kind: str) -> None:
    """A value into a cell: text always as a string cell, numbers with their format."""
    if value is None:
        return
    if kind == "text" or isinstance(value, str):
        cell.value = str(value)
        cell.data_type = "s"  # openpyxl reads a leading "=" as a formula otherwise
        return
    cell.value = value
    cell.number_format = XLSX_FORMATS.get(kind, "General")


def _date(value: dt.datetime | None, lang: str) -> str:
    if value is None:
        return "–"
    return value.strftime("%Y-%m-%d" if lang_of(lang) == "en" else "%d.%m.%Y")


def _front_sheet(
    book: Workbook, summary: Summary, lang: str, info: RoundInfo, sheets: Sequence[str]
) -> None:
    from openpyxl.styles import Alignment, Font

    sheet = book.active
    assert sheet is not None
    sheet.title = text(lang, "sheet_about")[:31]
    lines: list[tuple[str, str]] = [
        (text(lang, "about_round"), str(summary.round_number)),
        (text(lang, "about_opened"), _date(info.opened, lang)),
        (text(lang, "about_closed"), _date(info.closed or info.closes, lang)),
        (text(lang, "about_k"), str(summary.k)),
        (text(lang, "about_empty"), text(lang, "about_empty_means", k=summary.k)),
        (text(lang, "about_sheets"), ", ".join(sheets)),
    ]
    sheet.append([text(lang, "about_title", number=summary.round_number)])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in lines:
        sheet.append([None, None])
        row = sheet.max_row
        _put(sheet.cell(row, 1), label, "text")
        _put(sheet.cell(row, 2), value, "text")
        sheet.cell(row, 1).font = Font(bold=True)
        sheet.cell(row, 2).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 70


def _width(value: object, kind: str) -> int:
    if value is None:
        return 0
    if kind == "text" or isinstance(value, str):
        return len(str(value))
    return len(num(float(value), "en", MEAN_DIGITS)) + 2  # type: ignore[arg-type]


def write_xlsx(
    summary: Summary,
    survey: Survey,
    path: Path,
    lang: str = "nb",
    info: RoundInfo | None = None,
    chart: bytes | None = None,
) -> None:
    """A front sheet (round, dates, k, what an empty cell means), one sheet per table, and
    the chart on its own sheet. The folder must exist (checked by `writable_file`)."""
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    lang = lang_of(lang)
    book = Workbook()
    all_tables = tables(summary, survey, lang)
    names = [t.name[:31] for t in all_tables]
    if chart is not None:
        names.append(text(lang, "sheet_chart")[:31])
    _front_sheet(book, summary, lang, info or RoundInfo(), names)
    for table in all_tables:
        sheet = book.create_sheet(table.name[:31])
        for i, heading in enumerate(table.headings, start=1):
            _put(sheet.cell(1, i), heading, "text")
            sheet.cell(1, i).font = Font(bold=True)
        for r, row in enumerate(table.rows):
            for i, value in enumerate(row):
                _put(sheet.cell(r + 2, i + 1), value, table.kind(r, i))
        for i, heading in enumerate(table.headings):
            longest = max(
                [len(heading)]
                + [_width(row[i], table.kind(r, i)) for r, row in enumerate(table.rows)]
            )
            sheet.column_dimensions[get_column_letter(i + 1)].width = min(60, longest + 2)
        sheet.freeze_panes = "B2"
    if chart is not None:
        sheet = book.create_sheet(text(lang, "sheet_chart")[:31])
        image = Image(io.BytesIO(chart))
        image.width, image.height = image.width * 0.5, image.height * 0.5
        sheet.add_image(image, "A1")
    book.save(path)


# --------------------------------------------------------------------------- paths


def writable_file(path: Path, lang: str = "nb") -> str | None:
    """Why a file cannot be written there (None when it can): nothing is created."""
    if path.is_dir():
        return t(lang_of(lang), "steer_cli_is_folder", path=path)
    if not path.parent.is_dir():
        return t(lang_of(lang), "steer_cli_no_folder", folder=path.parent)
    return None


def writable_folder(path: Path, lang: str = "nb") -> str | None:
    """Why CSV files cannot go into this folder; its parent must exist."""
    if path.exists() and not path.is_dir():
        return t(lang_of(lang), "steer_cli_is_file", path=path)
    if not path.exists() and not path.parent.is_dir():
        return t(lang_of(lang), "steer_cli_no_folder", folder=path.parent)
    return None
