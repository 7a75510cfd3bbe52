"""The dashboard as one server-rendered HTML page: no script, no CDN, inline SVG and CSS.

Everything people or rosters wrote (municipality names, task titles) is escaped; every word
comes from the text catalogue (bot/texts/dashboard.<lang>.yaml). Only released figures are
drawn (bot/dashboard/figures.py).
"""

from __future__ import annotations

from html import escape

from bot.dashboard.figures import DashboardData, trend
from bot.i18n import t
from bot.summary_colours import EXPERIENCED, GAP, IMPORTANCE, SURPLUS
from bot.summary_text import factor_label, group_label, lang_of, num, pct, task_trend
from storage.dashboard import FactorTask
from surveys.definition import Survey
from surveys.grid import GridCell
from surveys.summary import FactorStat

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;
background:#f6f6f4;line-height:1.4}
header{background:#1f3b57;color:#fff;padding:12px 16px}header h1{margin:0;font-size:1.3em}
main{padding:8px 12px;max-width:1100px;margin:auto}
section{background:#fff;border-radius:8px;padding:12px;margin:12px 0;box-shadow:0 1px 2px #0002}
h2{font-size:1.1em;margin:0 0 8px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:10px}
.card{border:1px solid #ddd;border-radius:6px;padding:8px}.card h3{font-size:1em;margin:0}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.95em}
th,td{padding:4px 6px;border-bottom:1px solid #eee;text-align:left;white-space:nowrap}
td.num{text-align:right}.heat td.cell{text-align:center;min-width:4em;font-weight:600}
.muted{color:#777;font-style:italic;font-weight:400}
.legend span{display:inline-block;margin-right:12px}.task{font-size:.9em;margin-top:4px}
.bar{height:10px;background:#1f77b4;border-radius:3px;display:inline-block}
.note{font-size:.9em;color:#555}
"""


def _t(lang: str, key: str, **values: object) -> str:
    return escape(t(lang_of(lang), f"dashboard_{key}", **values))


def trend_svg(points: list[tuple[int, float | None, float | None]], lang: str) -> str:
    """Experienced and importance over rounds on the 1–6 scale."""
    width, height, left, top, bottom = 260, 120, 26, 10, 22
    rounds = [r for r, _, _ in points]
    if not rounds:
        return ""
    span = max(1, len(rounds) - 1)

    def x(i: int) -> float:
        return left + (width - left - 12) * (i / span if len(rounds) > 1 else 0.5)

    def y(v: float) -> float:
        return top + (height - top - bottom) * (6 - v) / 5

    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img">']
    for v in (1, 3.5, 6):
        parts.append(f'<line x1="{left}" x2="{width - 8}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                     f'stroke="#e5e5e5"/><text x="2" y="{y(v) + 4:.1f}" font-size="10" '
                     f'fill="#777">{escape(num(v, lang, int(v != int(v))))}</text>')  # fmt: skip
    for i, r in enumerate(rounds):
        parts.append(f'<text x="{x(i):.1f}" y="{height - 6}" font-size="10" fill="#555" '
                     f'text-anchor="middle">{r}</text>')  # fmt: skip
    for index, colour, kind in ((1, EXPERIENCED, "exp"), (2, IMPORTANCE, "imp")):
        shown: list[tuple[int, float]] = [
            (i, float(value)) for i, p in enumerate(points) if (value := p[index]) is not None
        ]
        if len(shown) > 1:
            line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in shown)
            dash = ' stroke-dasharray="4 3"' if kind == "imp" else ""
            parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"{dash}/>')  # fmt: skip
        for i, v in shown:
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}" '
                         f'data-kind="{kind}" data-round="{rounds[i]}" data-value="{v:.1f}">'
                         f"<title>{escape(num(v, lang))}</title></circle>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def task_line(task: FactorTask, now: FactorStat, now_round: int, name: str, lang: str) -> str:
    """«3 av 5 team har gjort oppgaven; opplevd anerkjennelse 2,8 → 3,3 (runde 2, før
    oppgaven → runde 3)»: the round before the task against the newest, both released."""
    due = task.due_on.strftime("%d.%m.%Y")
    if task.cancelled:  # not open: its teams no longer have it to do
        line = _t(lang, "task_cancelled", title=task.title, done=task.done, due=due)
        return (f'<div class="task" data-testid="task-{task.task_id}" data-state="cancelled">'
                f"{line}</div>")  # fmt: skip
    line = _t(lang, "task_status", title=task.title, done=task.done, teams=task.teams, due=due)
    trend = task_trend(task, now, now_round)
    if trend is not None:
        line += _t(lang, "task_trend", factor=name.lower(), before=num(trend[1], lang),
                   before_round=trend[0], now=num(trend[2], lang),
                   now_round=now_round)  # fmt: skip
    return f'<div class="task" data-testid="task-{task.task_id}">{line}</div>'


def heat_cell(group: str, cell: GridCell | None, k: int, lang: str) -> str:
    """One heatmap cell: the gap coloured by size and direction, or why it is empty."""
    where = f'data-group="{escape(group)}"'
    if cell is None:
        return f'<td class="cell muted" {where}>–</td>'
    if cell.gap is None:
        # Under k: "færre enn 5"; hidden so that a small group cannot be worked out from
        # the total: "vises ikke" (it has k or more, so "færre enn 5" would be untrue).
        words = (_t(lang, "held") if cell.held else _t(lang, "fewer", k=k) if cell.few
                 else _t(lang, "not_shown"))  # fmt: skip
        state = "held" if cell.held else "hidden"
        return f'<td class="cell muted" {where} data-state="{state}">{words}</td>'
    strength = min(1.0, abs(cell.gap) / 2.5)
    base = (214, 39, 40) if cell.gap >= 0 else (44, 160, 44)
    alpha = 0.15 + 0.7 * strength
    colour = f"rgba({base[0]},{base[1]},{base[2]},{alpha:.2f})"
    return (f'<td class="cell" {where} data-state="shown" data-gap="{cell.gap:.2f}" '
            f'data-n="{cell.n}" style="background:{colour}" title="n={cell.n}">'
            f"{escape(num(cell.gap, lang, sign=True))}</td>")  # fmt: skip


def render(data: DashboardData, survey: Survey, lang: str, who: str) -> str:
    """The whole page."""
    lang = lang_of(lang)
    body: list[str] = []
    newest = data.newest
    if newest is None:
        body.append(f"<section><p>{_t(lang, 'no_rounds')}</p></section>")
        return _page(lang, who, "".join(body))
    k = newest.k
    order = sorted(newest.factors, key=lambda f: -(f.gap.value if f.gap else -99))

    cards = []
    for f in order:
        name = factor_label(survey, f.factor_id, lang)
        points = trend(data, f.factor_id)
        last = (_t(lang, "last", exp=num(f.experienced, lang), imp=num(f.importance, lang),
                   n=f.n) if f.gap is not None and f.experienced is not None
                and f.importance is not None else _t(lang, "not_shown"))  # fmt: skip
        tasks = "".join(
            task_line(task, f, newest.round_number, name, lang)
            for task in data.tasks.get(f.factor_id, [])
        )
        prio = ""
        if f.factor_id in newest.priorities:
            rank = newest.priorities.index(f.factor_id) + 1
            prio = f' <span style="color:{GAP}">{_t(lang, "priority", rank=rank)}</span>'
        cards.append(f'<div class="card" data-testid="trend-{f.factor_id}"><h3>{escape(name)}'
                     f'{prio}</h3>{trend_svg(points, lang)}<div class="note">{last}</div>'
                     f"{tasks}</div>")  # fmt: skip
    legend = (f'<p class="legend"><span style="color:{EXPERIENCED}">● {_t(lang, "experienced")}'
              f'</span><span>◆ {_t(lang, "importance")} ({_t(lang, "dashed")})</span>'
              f'<span class="note">{_t(lang, "rounds_axis")}</span></p>')  # fmt: skip
    body.append(f"<section><h2>{_t(lang, 'trends')}</h2>{legend}"
                f'<div class="cards">{"".join(cards)}</div></section>')  # fmt: skip

    if data.grid:
        groups = sorted({c.group for row in data.grid.values() for c in row.cells})
        head = "".join(
            f"<th>{escape(group_label(survey, 'municipality', g, lang))}</th>" for g in groups
        )
        rows = []
        for f in order:
            row = data.grid.get(f.factor_id)
            by_group = {c.group: c for c in row.cells} if row else {}
            cells = "".join(heat_cell(g, by_group.get(g), k, lang) for g in groups)
            label = escape(factor_label(survey, f.factor_id, lang))
            rows.append(f'<tr data-testid="heat-{f.factor_id}"><th>{label}</th>{cells}</tr>')
        body.append(
            f"<section><h2>{_t(lang, 'heatmap', number=newest.round_number)}</h2>"
            f'<p class="note">{_t(lang, "heatmap_note", k=k)} '
            f'<span style="color:{GAP}">■</span> {_t(lang, "gap_positive")} '
            f'<span style="color:{SURPLUS}">■</span> {_t(lang, "gap_negative")}</p>'
            f'<div class="scroll"><table class="heat" data-testid="heatmap"><tr><th></th>{head}'
            f"</tr>{''.join(rows)}</table></div></section>"
        )

    part_rows, quit_rows = [], []
    for s in data.rounds:
        if s.answered is not None and s.invited:
            rate = s.answered / s.invited
            answered = _t(lang, "answered_of", answered=s.answered, invited=s.invited)
            bar = f'<span class="bar" style="width:{100 * rate:.0f}px"></span> {pct(rate, lang)}'
        else:
            answered, bar = _t(lang, "fewer_of", k=k, invited=s.invited), ""
        cells = f"<td>{s.round_number}</td><td>{answered}</td><td>{bar}</td>"
        part_rows.append(f'<tr data-testid="participation-{s.round_number}">{cells}</tr>')
        if s.quit is not None:
            q = s.quit
            share = _t(lang, "share_interval", share=pct(q.value, lang), low=pct(q.low, lang),
                       high=pct(q.high, lang), n=q.n)  # fmt: skip
        else:
            share = _t(lang, "not_shown")
        quit_rows.append(f'<tr data-testid="quit-{s.round_number}"><td>{s.round_number}</td>'
                         f"<td>{share}</td></tr>")  # fmt: skip
    body.append(f"<section><h2>{_t(lang, 'participation')}</h2><div class='scroll'><table>"
                f"<tr><th>{_t(lang, 'round')}</th><th>{_t(lang, 'answered')}</th><th></th></tr>"
                f"{''.join(part_rows)}</table></div></section>")  # fmt: skip
    body.append(f"<section><h2>{_t(lang, 'quit')}</h2><p class='note'>"
                f"{_t(lang, 'quit_note', share=pct(0.40, lang))}</p><div class='scroll'><table>"
                f"<tr><th>{_t(lang, 'round')}</th><th>{_t(lang, 'share')}</th></tr>"
                f"{''.join(quit_rows)}</table></div></section>")  # fmt: skip
    body.append(f'<section class="note">{_t(lang, "footer", k=k)}</section>')
    return _page(lang, who, "".join(body))


def _page(lang: str, who: str, body: str) -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{_t(lang, 'title')}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{_t(lang, 'title')}</h1><div>{_t(lang, 'for', name=who)}</div>"
            f"</header><main>{body}</main></body></html>")  # fmt: skip


def message_page(lang: str, title_key: str, text_key: str, form: str = "") -> str:
    """A short page: refused, signed out, or the button that spends a link."""
    lang = lang_of(lang)
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{_t(lang, title_key)}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{_t(lang, 'title')}</h1></header><main><section>"
            f"<h2>{_t(lang, title_key)}</h2><p>{_t(lang, text_key)}</p>{form}</section>"
            "</main></body></html>")  # fmt: skip
