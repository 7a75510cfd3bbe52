"""The summary chart: experienced against importance per factor, gap highlighted (PNG).

Drawn with matplotlib's object API on an Agg canvas (no pyplot state, safe in threads),
tall and large-fonted so that it reads on a phone held upright.
"""

from __future__ import annotations

import io
import textwrap

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.summary_text import factor_label, num, text
from surveys.definition import Survey
from surveys.summary import Summary

EXPERIENCED = "#1f77b4"
IMPORTANCE = "#222222"
GAP = "#d62728"
HIDDEN = "#999999"


def chart_png(summary: Summary, survey: Survey, lang: str = "nb", dpi: int = 150) -> bytes:
    """The chart as PNG bytes. Factors under k get a grey "fewer than k" instead of dots."""
    factors = sorted(summary.factors, key=lambda f: f.gap.value if f.gap else -99)
    rows = len(factors)
    figure = Figure(figsize=(7.0, 1.9 + 0.62 * rows), dpi=dpi)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot(1, 1, 1)
    labels = []
    for y, f in enumerate(factors):
        labels.append("\n".join(textwrap.wrap(factor_label(survey, f.factor_id, lang), 22)))
        if f.gap is None or f.experienced is None or f.importance is None:
            words = text(lang, "chart_held") if f.held else text(lang, "chart_hidden", k=summary.k)
            ax.text(1.1, y, words, va="center",
                    color=HIDDEN, fontsize=11, style="italic")  # fmt: skip
            continue
        ax.plot([f.experienced, f.importance], [y, y], color=GAP, linewidth=5, alpha=0.35,
                solid_capstyle="round", zorder=1)  # fmt: skip
        ax.scatter([f.experienced], [y], s=110, color=EXPERIENCED, zorder=3)
        ax.scatter([f.importance], [y], s=110, color=IMPORTANCE, marker="D", zorder=3)
        ax.text(6.35, y, num(f.gap.value, lang, sign=True), va="center", ha="left",
                fontsize=12, color=GAP, fontweight="bold")  # fmt: skip
    ax.set_yticks(range(rows))
    ax.set_yticklabels(labels, fontsize=12)
    ax.set_xlim(0.8, 6.2)
    ax.set_ylim(-0.7, rows - 0.3)
    ax.set_xticks(range(1, 7))
    ax.tick_params(axis="x", labelsize=12)
    ax.grid(axis="x", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.text(6.35, rows - 0.45, text(lang, "gap"), ha="left", fontsize=11, color=GAP)
    title = text(lang, "chart_title", number=summary.round_number, n=summary.submissions)
    ax.set_title("\n".join(textwrap.wrap(title, 44)), fontsize=14, loc="left")
    handles = [
        ax.scatter([], [], s=110, color=EXPERIENCED, label=text(lang, "experienced")),
        ax.scatter([], [], s=110, color=IMPORTANCE, marker="D", label=text(lang, "importance")),
    ]
    figure.legend(handles=handles, loc="lower center", ncol=2, fontsize=12, frameon=False)
    figure.tight_layout(rect=(0, 0.06, 0.93, 1))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
