"""The summary as plain chat text in bokmål, nynorsk or English (platform-neutral).

Every word comes from the text catalogue (bot/texts/summary.<lang>.yaml). What it renders is
a `Summary` that has already been through the release path (surveys/disclosure.py via
storage/releases.py): held-back and hidden figures are absent, never printed.

Two parts: a headline short enough for a picture caption (Telegram allows 1024 characters),
and a body that stays under Slack's 3000-character section limit (and so under Telegram's
4096). Transports build their own markup from plain text; nothing here is platform-specific.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from bot.i18n import LANGUAGES, t
from surveys.definition import Survey
from surveys.stats import Estimate
from surveys.summary import FEW, UNKNOWN, FactorChange, FactorStat, ParticipationRow, Summary
from surveys.themes import Lexicon, load_lexicon

if TYPE_CHECKING:
    from storage.dashboard import FactorTask

CAPTION_LIMIT = 1024
BODY_LIMIT = 3000

# The Salten pilot's 2019 survey: 40 % had considered quitting (the seeds' report, 308 answers).
SALTEN_QUIT_2019 = 0.40

MARKS = {"[navn]": "[name]", "[e-post]": "[e-mail]", "[telefon]": "[phone]"}


def lang_of(lang: str) -> str:
    return lang if lang in LANGUAGES else "nb"


def text(lang: str, key: str, **values: object) -> str:
    """A summary text (`summary_<key>` in the catalogue)."""
    return t(lang_of(lang), f"summary_{key}", **values)


def num(value: float, lang: str, digits: int = 1, sign: bool = False) -> str:
    """1,5 in bokmål, 1.5 in English; a real minus sign, never "−0,0"."""
    value = round(value, digits) + 0.0  # -0.0 + 0.0 is 0.0
    out = f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"
    out = out.replace("-", "−")
    return out if lang_of(lang) == "en" else out.replace(".", ",")


def pct(value: float, lang: str) -> str:
    return f"{num(100 * value, lang, 0)} %"


def factor_label(survey: Survey, factor_id: str, lang: str) -> str:
    try:
        short = survey.factor(factor_id).short
    except KeyError:
        return factor_id
    return short.get(lang) or short.get("nb") or factor_id


def group_label(survey: Survey, scale_id: str, value: str, lang: str) -> str:
    if value == UNKNOWN:
        return text(lang, "unknown")
    scale = survey.scales.get(scale_id)
    if scale is None:
        return value
    try:
        return scale.label(value, lang)
    except (KeyError, ValueError):
        return value


def headline(summary: Summary, survey: Survey, lang: str = "nb") -> str:
    """Participation, the biggest gap and the biggest change: the picture's caption."""
    lines = []
    if summary.invited and summary.answered is None and summary.invited < summary.k:
        lines.append(
            t(lang_of(lang), "walk_title_few_invited", number=summary.round_number,
              k=summary.k, invited=summary.invited)
        )  # fmt: skip
    elif summary.invited and summary.answered is None:
        lines.append(
            text(lang, "title_few", number=summary.round_number, k=summary.k,
                 invited=summary.invited)
        )  # fmt: skip
    elif summary.invited and summary.answered is not None:
        rate = pct(summary.answered / summary.invited, lang)
        lines.append(
            text(
                lang,
                "title",
                number=summary.round_number,
                answered=summary.answered,
                invited=summary.invited,
                rate=rate,
            )
        )
    else:
        lines.append(
            text(lang, "title_no_invited", number=summary.round_number,
                 answered=summary.answered if summary.answered is not None else 0)
        )  # fmt: skip
    if "too_few" in summary.notes:
        lines.append(text(lang, "too_few", k=summary.k))
        return "\n".join(lines)
    partial = partial_count(summary)
    if partial:
        lines[-1] += " " + text(lang, "title_partial", partial=partial)
    gap = summary.biggest_gap
    if gap is not None and gap.importance is not None and gap.experienced is not None:
        lines.append(
            text(
                lang,
                "biggest_gap",
                factor=factor_label(survey, gap.factor_id, lang),
                imp=num(gap.importance, lang),
                exp=num(gap.experienced, lang),
            )
        )
    if summary.previous is not None:
        change = summary.biggest_change
        if change is not None and change.experienced is not None:
            lines.append(
                text(
                    lang,
                    "biggest_change",
                    before=summary.previous.round_number,
                    factor=factor_label(survey, change.factor_id, lang),
                    dir=text(lang, change.verdict),
                    diff=num(abs(change.experienced.value), lang),
                )
            )
        elif summary.changes:
            lines.append(text(lang, "no_clear_change", before=summary.previous.round_number))
    return "\n".join(lines)[:CAPTION_LIMIT]


def partial_count(summary: Summary) -> int:
    """Pulses begun but not finished before the round closed (their answers are counted).

    The title counts finished pulses; figures that every submission carries (the position)
    rest on more. Said in the title, so that "90 svarte" and "98 oppga stillingen" agree."""
    if summary.answered is None:
        return 0
    return max(summary.submissions - summary.answered, 0)


def _share(e: Estimate, lang: str) -> dict[str, str]:
    return {"share": pct(e.value, lang), "low": pct(e.low, lang), "high": pct(e.high, lang)}


def body_sections(
    summary: Summary,
    survey: Survey,
    lang: str = "nb",
    lexicon: Lexicon | None = None,
    participation: bool = True,
    export_hint: bool = True,
    tasks: Mapping[str, Sequence[FactorTask]] | None = None,
) -> list[list[str]]:
    """The bullets, as sections of lines, most important first."""
    lexicon = lexicon or load_lexicon()
    k = summary.k
    held = text(lang, "held")
    hidden = text(lang, "not_shown")  # under k, or hidden so that no small group can be derived
    sections: list[list[str]] = []
    if "too_few" in summary.notes:
        return [[text(lang, "footer", k=k, number=summary.round_number)]]

    prio = [text(lang, "priorities")]
    for rank, factor_id in enumerate(summary.priorities, start=1):
        f = summary.factor(factor_id)
        assert f.gap is not None and f.importance is not None and f.experienced is not None
        prio.append(
            text(
                lang,
                "priority",
                rank=rank,
                factor=factor_label(survey, factor_id, lang),
                imp=num(f.importance, lang),
                exp=num(f.experienced, lang),
                gap=num(f.gap.value, lang),
                low=num(f.gap.low, lang),
                high=num(f.gap.high, lang),
                n=f.n,
            )
        )
    if not summary.priorities:
        prio = [text(lang, "no_priorities")]
    sections.append(prio)

    if summary.previous is not None and summary.changes:
        sections.append(change_lines(summary, survey, lang))
    if tasks:
        sections.append(task_lines(summary, survey, lang, tasks))

    quit_lines = []
    if summary.quit is not None:
        line = text(lang, "quit", n=summary.quit.n, **_share(summary.quit, lang))
        if summary.previous is not None and summary.previous.quit is not None:
            line += text(
                lang,
                "quit_before",
                before=summary.previous.round_number,
                share=pct(summary.previous.quit.value, lang),
                verdict=text(lang, f"quit_{quit_word(summary)}"),
            )
        line += text(lang, "quit_baseline", share=pct(SALTEN_QUIT_2019, lang))
        quit_lines.append(line)
        groups = []
        for g in summary.quit_by_profession:
            name = group_label(survey, "profession", g.group, lang)
            if g.share is None:
                why = held if "quit:profession" in summary.withheld else hidden
                groups.append(f"{name}: {why}")
            else:
                groups.append(f"{name} {pct(g.share.value, lang)} (n={g.share.n})")
        if len(groups) > 1:
            quit_lines.append(text(lang, "by_profession", groups="; ".join(groups)))
    elif "quit" in summary.withheld:
        quit_lines.append(text(lang, "quit_held"))
    else:
        quit_lines.append(text(lang, "quit_hidden", k=k))
    if summary.enps is not None:
        e = summary.enps
        quit_lines.append(
            text(
                lang,
                "enps",
                value=num(e.value, lang, 0, sign=True),
                low=num(e.low, lang, 0, sign=True),
                high=num(e.high, lang, 0, sign=True),
                n=e.n,
            )
        )
    elif "enps" not in summary.withheld:
        quit_lines.append(text(lang, "enps_hidden", k=k))
    if summary.position_80 is not None:
        position = summary.position_80
        answered = summary.answered if summary.answered is not None else position.n
        key = "position_partial" if position.n > answered else "position"
        quit_lines.append(text(lang, key, share=pct(position.value, lang), n=position.n))
    sections.append(quit_lines)

    comment_lines = []
    if summary.themes is not None:
        themes = ", ".join(
            f"{lexicon.label(theme_id, lang)} {count}"
            for theme_id, count in summary.themes
            if count
        )
        comment_lines.append(text(lang, "themes", n=summary.comments, themes=themes))
        for _theme, quote in summary.quotes:
            if lang_of(lang) == "en":
                for nb_mark, en_mark in MARKS.items():
                    quote = quote.replace(nb_mark, en_mark)
            comment_lines.append("  " + t(lang_of(lang), "walk_quoted", text=quote))
    elif summary.comments is not None:
        comment_lines.append(
            text(lang, "themes_hidden", n=summary.comments, threshold=summary.comment_threshold)
        )
    if comment_lines:
        sections.append(comment_lines)

    factor_lines = [text(lang, "factors")]
    for f in sorted(summary.factors, key=lambda f: -(f.gap.value if f.gap else -99)):
        name = factor_label(survey, f.factor_id, lang)
        if f.gap is None or f.experienced is None or f.importance is None:
            key = "held_factor" if f.held else "hidden_factor"
            factor_lines.append(text(lang, key, factor=name, k=k))
        else:
            factor_lines.append(
                f"{name}: {num(f.experienced, lang)} / {num(f.importance, lang)} / "
                f"{num(f.gap.value, lang, sign=True)} (n={f.n})"
            )
    sections.append(factor_lines)

    if summary.participation and participation:
        groups = []
        for p in summary.participation:
            name = group_label(survey, "municipality", p.group, lang)
            if p.answered is None:
                groups.append(f"{name}: {held if p.held else hidden}")
            else:
                groups.append(f"{name} {p.answered}/{p.invited}")
        sections.append([text(lang, "participation", groups="; ".join(groups))])
    sections.append([explanation(lang)])
    footer = [*held_back_lines(summary, survey, lang)]
    footer.append(text(lang, "footer", k=k, number=summary.round_number))
    if export_hint:
        footer.append(text(lang, "export_hint", number=summary.round_number))
    sections.append(footer)
    return sections


def change_word(change: FactorChange) -> str:
    """A change in the steering group's words: better, worse, same or too_few (to say)."""
    if change.verdict == "up":
        return "better"
    if change.verdict == "down":
        return "worse"
    return "too_few" if change.few else "same"


def quit_word(summary: Summary) -> str:
    """The quitting share against last round: lower, higher, same or too_few (to say)."""
    change, before = summary.quit_change, summary.previous
    if change is None or before is None or before.quit is None or summary.quit is None:
        return "too_few"
    if change.low > 0:
        return "higher"
    if change.high < 0:
        return "lower"
    return "too_few" if min(before.quit.n, summary.quit.n) < FEW else "same"


def change_lines(summary: Summary, survey: Survey, lang: str) -> list[str]:
    """What changed since last round, grouped by how sure we can be."""
    assert summary.previous is not None
    groups: dict[str, list[str]] = {"better": [], "worse": [], "same": [], "too_few": []}
    shown = [c for c in summary.changes if c.verdict != "hidden"]
    shown.sort(key=lambda c: -abs(c.experienced.value if c.experienced else 0))
    for c in shown:
        word = change_word(c)
        name = factor_label(survey, c.factor_id, lang)
        now = summary.factor(c.factor_id).experienced
        if word in ("better", "worse") and c.experienced is not None and now is not None:
            item = text(lang, "change_item", factor=name, before=num(now - c.experienced.value,
                        lang), now=num(now, lang))  # fmt: skip
        elif word == "too_few":
            item = text(lang, "change_few_item", factor=name, n_before=c.n_before, n_now=c.n_now)
        else:
            item = name
        groups[word].append(item)
    lines = [text(lang, "changes", before=summary.previous.round_number)]
    for word, items in groups.items():
        if items:
            lines.append(text(lang, f"change_{word}", factors="; ".join(items)))
    return lines


def task_lines(
    summary: Summary, survey: Survey, lang: str, tasks: Mapping[str, Sequence[FactorTask]]
) -> list[str]:
    """The learning network's tasks per factor, beside that factor's experienced trend."""
    lines = [text(lang, "tasks")]
    for f in summary.factors:
        for task in tasks.get(f.factor_id, ()):
            if task.cancelled:  # never counted as open (bot/texts/board.<lang>.yaml)
                lines.append(text(lang, "task_cancelled", title=task.title, done=task.done) + ".")
                continue
            name = factor_label(survey, f.factor_id, lang)
            line = text(lang, "task", title=task.title, done=task.done, teams=task.teams)
            trend = task_trend(task, f, summary.round_number)
            if trend is not None:
                line += text(lang, "task_trend", factor=name.lower(), before=num(trend[1], lang),
                             before_round=trend[0], now=num(trend[2], lang),
                             now_round=summary.round_number)  # fmt: skip
            elif f.experienced is not None and f.gap is not None:
                line += text(lang, "task_now", factor=name.lower(), now=num(f.experienced, lang))
            lines.append(line + ".")
    return lines if len(lines) > 1 else []


def task_trend(
    task: FactorTask, now: FactorStat, now_round: int
) -> tuple[int, float, float] | None:
    """(round before the task, experienced then, experienced now) when both were released
    and the task is older than the latest round; None otherwise (no trend to tell yet)."""
    if task.baseline is None or now.gap is None or now.experienced is None:
        return None
    before_round, before = task.baseline
    if before is None or before_round >= now_round:
        return None
    return before_round, before, now.experienced


def explanation(lang: str) -> str:
    """How to read an interval, a gap and the recommendation score: said once, plainly."""
    return text(lang, "explain")


def withheld_name(measure: str, survey: Survey, lang: str) -> str:
    """A held-back measure in the steering group's words."""
    kind, _, rest = measure.partition(":")
    if kind == "factor":
        return factor_label(survey, rest, lang)
    if kind == "change":
        if rest == "quit":
            return text(lang, "m_change_quit")
        return text(lang, "m_change", factor=factor_label(survey, rest, lang))
    names = {
        "quit": "m_quit",
        "quit:profession": "m_quit_profession",
        "enps": "m_enps",
        "position_80": "m_position",
        "comments": "m_comments",
        "participation": "m_participation",
    }
    return text(lang, names.get(measure, "held"))


def held_back_lines(summary: Summary, survey: Survey, lang: str) -> list[str]:
    """What the release ledger held back, and why — one sentence per reason."""
    now = [m for m in summary.withheld if not m.startswith("before:")]
    now.sort(key=lambda m: (m.startswith("change:"), not m.startswith("factor:"), m))
    before = [m.removeprefix("before:") for m in summary.withheld if m.startswith("before:")]
    lines = []
    if now:
        what = ", ".join(withheld_name(m, survey, lang) for m in now)
        lines.append(text(lang, "held_back", what=what, k=summary.k))
    if before and summary.previous is not None:
        what = ", ".join(withheld_name(m, survey, lang) for m in sorted(before))
        lines.append(text(lang, "held_before", what=what, before=summary.previous.round_number))
    return lines


def participation_lines(summary: Summary, survey: Survey, lang: str = "nb") -> list[str]:
    """The participation table: `summary`, `round close`, `round status` and `demo` print it."""
    return participation_table_lines(
        summary.round_number,
        summary.k,
        summary.participation,
        summary.answered,
        summary.invited,
        survey,
        lang,
    )


def participation_table_lines(
    round_number: int,
    k: int,
    participation: Sequence[ParticipationRow],
    answered: int | None,
    invited: int,
    survey: Survey,
    lang: str = "nb",
) -> list[str]:
    """The participation table from released rows (`round status` has no whole summary)."""
    lines = [text(lang, "table_title", number=round_number)]
    for p in participation:
        name = group_label(survey, "municipality", p.group, lang)
        if p.answered is not None:
            rate = pct(p.answered / p.invited, lang) if p.invited else "–"
            lines.append(
                text(lang, "table_row", name=name, answered=p.answered, invited=p.invited,
                     rate=rate)
            )  # fmt: skip
        elif p.held:
            lines.append(text(lang, "table_row_held", name=name, invited=p.invited))
        else:
            lines.append(text(lang, "table_row_few", name=name, invited=p.invited))
    if answered is None and invited < k:  # not "færre enn 5 av 4"
        lines.append(t(lang_of(lang), "walk_total_few_invited", invited=invited, k=k))
    elif answered is None:
        lines.append(text(lang, "table_total_few", k=k, invited=invited))
    else:
        rate = pct(answered / invited, lang) if invited else "–"
        lines.append(text(lang, "table_total", answered=answered, invited=invited, rate=rate))
    if any(p.held for p in participation):
        lines.append(text(lang, "table_held", k=k))
    elif any(p.answered is None for p in participation):
        lines.append(text(lang, "table_note", k=k))
    return lines


def body(
    summary: Summary,
    survey: Survey,
    lang: str = "nb",
    limit: int = BODY_LIMIT,
    lexicon: Lexicon | None = None,
    participation: bool = True,
    export_hint: bool = True,
    tasks: Mapping[str, Sequence[FactorTask]] | None = None,
) -> str:
    """The bullets as one text within `limit` characters (later sections give way first)."""
    sections = body_sections(summary, survey, lang, lexicon, participation, export_hint, tasks)
    sections = [s for s in sections if s]
    footer = sections.pop()
    while sections:
        out = "\n\n".join("\n".join(s) for s in [*sections, footer])
        if len(out) <= limit:
            return out
        sections.pop(-1 if len(sections) > 1 else 0)
    return "\n".join(footer)[:limit]


def full_text(
    summary: Summary,
    survey: Survey,
    lang: str = "nb",
    export_hint: bool = True,
    tasks: Mapping[str, Sequence[FactorTask]] | None = None,
) -> str:
    """Headline, body and the participation table (for the terminal and text-only channels).

    `export_hint=False` once the spreadsheet has been written: no advice to do it again."""
    table = "\n".join(participation_lines(summary, survey, lang))
    text_ = body(summary, survey, lang, participation=False, export_hint=export_hint, tasks=tasks)
    return headline(summary, survey, lang) + "\n\n" + text_ + "\n\n" + table


Formatter = Callable[[Summary, Survey, str], str]
