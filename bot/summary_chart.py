"""The summary chart: experienced against importance per factor, gap highlighted (PNG).

Drawn with matplotlib's object API on an Agg canvas (no pyplot state, safe in threads),
tall and large-fonted so that it reads on a phone held upright.
"""

from __future__ import annotations

import io
import textwrap

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.summary_colours import EXPERIENCED, GAP, IMPORTANCE, SURPLUS
from bot.summary_text import factor_label, num, text
from surveys.definition import Survey
from surveys.summary import FactorStat, Summary

HIDDEN = "#999999"


def gap_colour(gap: float) -> str:
    """Red where importance exceeds experience, green where experience exceeds importance."""
    return GAP if gap >= 0 else SURPLUS


def row_label(summary: Summary, f: FactorStat, survey: Survey, lang: str) -> str:
    """The factor's name, then its n and its change since the previous round."""
    label = "\n".join(textwrap.wrap(factor_label(survey, f.factor_id, lang), 22))
    detail = [f"n={f.n}"] if f.gap is not None else []
    change = summary.change(f.factor_id)
    if change is not None and change.experienced is not None and summary.previous:
        diff = num(change.experienced.value, lang, sign=True)
        detail.append(text(lang, "chart_change", diff=diff, before=summary.previous.round_number))
    return label + ("\n" + ", ".join(detail) if detail else "")


def chart_png(summary: Summary, survey: Survey, lang: str = "nb", dpi: int = 150) -> bytes:
    """The chart as PNG bytes (see `chart_figure`)."""
    buffer = io.BytesIO()
    chart_figure(summary, survey, lang, dpi).savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def chart_figure(summary: Summary, survey: Survey, lang: str = "nb", dpi: int = 150) -> Figure:
    """The chart as a figure (tests read its words). Factors under k get a grey "fewer than
    k" instead of dots,
    held-back ones "held back"; each label carries its n and, after a previous round, the
    change in experienced ("+0,5 siden runde 1"). The title counts finished answers, the
    same figure the text gives, never stored submissions."""
    factors = sorted(summary.factors, key=lambda f: f.gap.value if f.gap else -99)
    rows = len(factors)
    figure = Figure(figsize=(7.4, 1.9 + 0.75 * rows), dpi=dpi)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot(1, 1, 1)
    labels = []
    for y, f in enumerate(factors):
        labels.append(row_label(summary, f, survey, lang))
        if f.gap is None or f.experienced is None or f.importance is None:
            words = text(lang, "chart_held") if f.held else text(lang, "chart_hidden", k=summary.k)
            ax.text(1.1, y, words, va="center",
                    color=HIDDEN, fontsize=11, style="italic")  # fmt: skip
            continue
        colour = gap_colour(f.gap.value)
        ax.plot([f.experienced, f.importance], [y, y], color=colour, linewidth=5, alpha=0.35,
                solid_capstyle="round", zorder=1)  # fmt: skip
        ax.scatter([f.experienced], [y], s=110, color=EXPERIENCED, zorder=3)
        ax.scatter([f.importance], [y], s=110, color=IMPORTANCE, marker="D", zorder=3)
        ax.text(6.35, y, num(f.gap.value, lang, sign=True), va="center", ha="left",
                fontsize=12, color=colour, fontweight="bold")  # fmt: skip
    ax.set_yticks(range(rows))
    ax.set_yticklabels(labels, fontsize=11)
    ax.set_xlim(0.8, 6.2)
    ax.set_ylim(-0.7, rows - 0.3)
    ax.set_xticks(range(1, 7))
    ax.tick_params(axis="x", labelsize=12)
    ax.grid(axis="x", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.text(6.35, rows - 0.45, text(lang, "gap"), ha="left", fontsize=11, color=GAP)
    if summary.answered is not None:
        title = text(lang, "chart_title", number=summary.round_number, n=summary.answered)
    else:
        title = text(lang, "chart_title_plain", number=summary.round_number)
    ax.set_title("\n".join(textwrap.wrap(title, 44)), fontsize=14, loc="left")
    handles = [
        ax.scatter([], [], s=110, color=EXPERIENCED, label=text(lang, "experienced")),
        ax.scatter([], [], s=110, color=IMPORTANCE, marker="D", label=text(lang, "importance")),
    ]
    figure.legend(handles=handles, loc="lower center", ncol=2, fontsize=12, frameon=False)
    figure.tight_layout(rect=(0, 0.06, 0.93, 1))
    return figure
