"""The summary as tables: one spreadsheet sheet (or CSV file) per table.

Only what the chat shows goes out — the same released `Summary`: hidden and held-back
figures are empty cells, never numbers, and a hidden factor carries no n either. Text that
came from people (comment themes are catalogue labels; group names come from the survey)
is written as text, never as a formula.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bot.summary_text import factor_label, group_label, held_back_lines, lang_of, text
from surveys.definition import Survey
from surveys.stats import Estimate
from surveys.summary import Summary
from surveys.themes import load_lexicon

COLUMN_KEYS = (
    "measure", "value", "low", "high", "n", "factor", "experienced", "importance", "gap",
    "priority", "change", "verdict", "group", "share", "invited", "answered", "rate", "theme",
    "count", "n_before", "n_now", "gap_change", "note",
)  # fmt: skip
SHEETS = ("overview", "factors", "changes", "quit", "participation", "themes", "by_municipality")
ROWS = ("invited", "answered", "submissions", "quit", "enps", "position", "comments")


def col(lang: str, key: str) -> str:
    return text(lang, f"col_{key}")


def _est(e: Estimate | None) -> tuple[float | None, float | None, float | None, int | None]:
    if e is None:
        return None, None, None, None
    return e.value, e.low, e.high, e.n


def tables(summary: Summary, survey: Survey, lang: str = "nb") -> dict[str, pd.DataFrame]:
    """Sheet name → table."""
    lang = lang_of(lang)
    c = {key: col(lang, key) for key in COLUMN_KEYS}
    c.update({key: text(lang, f"sheet_{key}") for key in SHEETS})
    m = [text(lang, f"row_{key}") for key in ROWS]
    overview: list[tuple[str, object, object, object, object]] = [
        (m[0], summary.invited, None, None, None),
        (m[1], summary.answered, None, None, None),
        (m[2], summary.submissions if summary.answered is not None else None, None, None, None),
        (m[3], *_est(summary.quit)),
        (m[4], *_est(summary.enps)),
        (m[5], *_est(summary.position_80)),
        (m[6], summary.comments if summary.themes is not None else None, None, None, None),
    ]
    # What the release path held back, and why: the same words as in the chat.
    overview += [
        (c["note"], line, None, None, None) for line in held_back_lines(summary, survey, lang)
    ]
    out = {
        c["overview"]: pd.DataFrame(
            overview, columns=[c["measure"], c["value"], c["low"], c["high"], c["n"]]
        ),
        c["factors"]: pd.DataFrame(
            [
                (
                    factor_label(survey, f.factor_id, lang),
                    f.experienced,
                    f.importance,
                    *_est(f.gap)[:3],
                    f.n if f.gap is not None else None,
                    (summary.priorities.index(f.factor_id) + 1)
                    if f.factor_id in summary.priorities
                    else None,
                )
                for f in summary.factors
            ],
            columns=[
                c["factor"],
                c["experienced"],
                c["importance"],
                c["gap"],
                c["low"],
                c["high"],
                c["n"],
                c["priority"],
            ],
        ),
        c["quit"]: pd.DataFrame(
            [
                (group_label(survey, "profession", g.group, lang), *_est(g.share))
                for g in summary.quit_by_profession
            ],
            columns=[c["group"], c["share"], c["low"], c["high"], c["n"]],
        ),
        c["participation"]: pd.DataFrame(
            [
                (group_label(survey, "municipality", p.group, lang), p.invited, p.answered, p.rate)
                for p in summary.participation
            ],
            columns=[c["group"], c["invited"], c["answered"], c["rate"]],
        ),
    }
    if any(g.n is not None for g in summary.factors_by_municipality):
        out[c["by_municipality"]] = pd.DataFrame(
            [
                (
                    factor_label(survey, g.factor_id, lang),
                    group_label(survey, "municipality", g.group, lang),
                    g.experienced,
                    g.importance,
                    g.gap,
                    g.n,
                )
                for g in summary.factors_by_municipality
            ],
            columns=[c["factor"], c["group"], c["experienced"], c["importance"], c["gap"], c["n"]],
        )
    if summary.changes:
        out[c["changes"]] = pd.DataFrame(
            [
                (
                    factor_label(survey, ch.factor_id, lang),
                    *_est(ch.experienced)[:3],
                    ch.n_before if ch.experienced else None,
                    ch.n_now if ch.experienced else None,
                    ch.gap_change,
                    text(lang, f"verdict_{ch.verdict}"),
                )
                for ch in summary.changes
            ],
            columns=[
                c["factor"],
                c["change"],
                c["low"],
                c["high"],
                c["n_before"],
                c["n_now"],
                c["gap_change"],
                c["verdict"],
            ],
        )
    if summary.themes is not None:
        lexicon = load_lexicon()
        out[c["themes"]] = pd.DataFrame(
            [(lexicon.label(t, lang), n) for t, n in summary.themes],
            columns=[c["theme"], c["count"]],
        )
    return out


def write_xlsx(summary: Summary, survey: Survey, path: Path, lang: str = "nb") -> None:
    """One sheet per table (openpyxl)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in tables(summary, survey, lang).items():
            table.to_excel(writer, sheet_name=name[:31], index=False)


def write_csv(summary: Summary, survey: Survey, folder: Path, lang: str = "nb") -> list[Path]:
    """One UTF-8 CSV (with BOM, so spreadsheet programs read æøå) per table."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in tables(summary, survey, lang).items():
        path = folder / f"runde{summary.round_number}_{name}.csv"
        table.to_csv(path, index=False, encoding="utf-8-sig")
        written.append(path)
    return written
