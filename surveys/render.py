"""The summary as plain chat text in bokmål or English (platform-neutral).

Two parts: a headline short enough for a picture caption (Telegram allows 1024 characters),
and a body that stays under Slack's 3000-character section limit (and so under Telegram's
4096). Transports build their own markup from plain text; nothing here is platform-specific.
"""

from __future__ import annotations

from collections.abc import Callable

from surveys.definition import Survey
from surveys.stats import Estimate
from surveys.summary import UNKNOWN, Summary
from surveys.themes import Lexicon, load_lexicon

CAPTION_LIMIT = 1024
BODY_LIMIT = 3000

TEXTS: dict[str, dict[str, str]] = {
    "nb": {
        "title": "📊 Pulsrunde {number}: {answered} av {invited} svarte ({rate}).",
        "title_no_invited": "📊 Pulsrunde {number}: {answered} svar.",
        "too_few": (
            "For få svar til å vise tall (færre enn {k}). Resultatene kommer når flere har svart."
        ),
        "biggest_gap": "Størst gap: {factor} (viktighet {imp} mot opplevd {exp}).",
        "biggest_change": "Størst endring siden runde {before}: {factor} {dir} {diff}.",
        "no_clear_change": "Ingen sikker endring siden runde {before}.",
        "up": "opp",
        "down": "ned",
        "factors": "Opplevd / viktighet / gap (1–6, n):",
        "hidden_factor": "{factor}: færre enn {k} svar",
        "held_factor": "{factor}: holdt tilbake",
        "held_back": (
            "Noen tall er holdt tilbake: de ville skilt seg fra forrige "
            "oppsummering av runden med færre enn {k} svar, og da kunne enkeltsvar "
            "leses av forskjellen."
        ),
        "priorities": "Prioriteringer (viktig, men svakt opplevd):",
        "priority": "{factor}: gap {gap} (95 % KI {low}–{high}, n={n})",
        "no_priorities": "Ingen faktor skiller seg sikkert ut som viktig, men svakt opplevd.",
        "changes": "Endring i opplevd siden runde {before} (95 % KI):",
        "unclear": "Øvrige endringer er så små at de kan skyldes tilfeldigheter.",
        "few": "Få svar (under {few}) i en av rundene: les endringene med forsiktighet.",
        "quit": "Har vurdert å slutte: {share} (95 % KI {low}–{high}, n={n}).",
        "quit_before": " Runde {before}: {share}.",
        "quit_hidden": "Har vurdert å slutte: færre enn {k} svar.",
        "by_profession": "Etter yrke: {groups}.",
        "fewer": "færre enn {k} svar",
        "enps": "Anbefaler kommunen som arbeidsplass (eNPS, % 9–10 minus % 0–6): {value} "
        "(95 % KI {low} til {high}, n={n}).",
        "enps_hidden": "Anbefaler kommunen (eNPS): færre enn {k} svar.",
        "position": "Stilling 80 % eller mer: {share} (n={n}).",
        "themes": "Kommentarer ({n}), etter tema: {themes}.",
        "themes_hidden": "Kommentarer: {n} — vises som tema fra {threshold} kommentarer.",
        "participation": "Deltakelse per kommune: {groups}.",
        "unknown": "ikke oppgitt",
        "footer": (
            "Grupper under {k} svar vises ikke. Regneark: beholde summary --round "
            "{number} --xlsx fil.xlsx"
        ),
        "chart_title": "Runde {number}: opplevd mot viktighet (n={n})",
        "experienced": "Opplevd",
        "importance": "Viktighet",
        "gap": "Gap",
        "chart_hidden": "færre enn {k} svar",
    },
    "en": {
        "title": "📊 Pulse round {number}: {answered} of {invited} answered ({rate}).",
        "title_no_invited": "📊 Pulse round {number}: {answered} answers.",
        "too_few": (
            "Too few answers to show figures (fewer than {k}). Results follow when "
            "more have answered."
        ),
        "biggest_gap": "Biggest gap: {factor} (importance {imp} against experienced {exp}).",
        "biggest_change": "Biggest change since round {before}: {factor} {dir} {diff}.",
        "no_clear_change": "No clear change since round {before}.",
        "up": "up",
        "down": "down",
        "factors": "Experienced / importance / gap (1–6, n):",
        "hidden_factor": "{factor}: fewer than {k} answers",
        "held_factor": "{factor}: held back",
        "held_back": (
            "Some figures are held back: they would differ from the previous "
            "summary of this round by fewer than {k} answers, and single answers "
            "could be read from the difference."
        ),
        "priorities": "Priorities (important, but weakly experienced):",
        "priority": "{factor}: gap {gap} (95 % CI {low}–{high}, n={n})",
        "no_priorities": "No factor stands out clearly as important but weakly experienced.",
        "changes": "Change in experienced since round {before} (95 % CI):",
        "unclear": "Other changes are small enough to be chance.",
        "few": "Few answers (under {few}) in one of the rounds: read the changes with care.",
        "quit": "Have considered quitting: {share} (95 % CI {low}–{high}, n={n}).",
        "quit_before": " Round {before}: {share}.",
        "quit_hidden": "Have considered quitting: fewer than {k} answers.",
        "by_profession": "By profession: {groups}.",
        "fewer": "fewer than {k} answers",
        "enps": "Would recommend the municipality as a workplace (eNPS, % 9–10 minus % 0–6): "
        "{value} (95 % CI {low} to {high}, n={n}).",
        "enps_hidden": "Would recommend (eNPS): fewer than {k} answers.",
        "position": "Position of 80 % or more: {share} (n={n}).",
        "themes": "Comments ({n}), by theme: {themes}.",
        "themes_hidden": "Comments: {n} — shown as themes from {threshold} comments.",
        "participation": "Participation per municipality: {groups}.",
        "unknown": "not given",
        "footer": (
            "Groups under {k} answers are not shown. Spreadsheet: beholde summary "
            "--round {number} --xlsx file.xlsx"
        ),
        "chart_title": "Round {number}: experienced against importance (n={n})",
        "experienced": "Experienced",
        "importance": "Importance",
        "gap": "Gap",
        "chart_hidden": "fewer than {k} answers",
    },
}
MARKS = {"[navn]": "[name]", "[e-post]": "[e-mail]", "[telefon]": "[phone]"}


def lang_of(lang: str) -> str:
    return lang if lang in TEXTS else "nb"


def text(lang: str, key: str, **values: object) -> str:
    return TEXTS[lang_of(lang)][key].format(**values)


def num(value: float, lang: str, digits: int = 1, sign: bool = False) -> str:
    """1,5 in bokmål, 1.5 in English; a real minus sign."""
    out = f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"
    out = out.replace("-", "−")
    return out.replace(".", ",") if lang_of(lang) == "nb" else out


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
    if summary.invited:
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
            text(lang, "title_no_invited", number=summary.round_number, answered=summary.answered)
        )
    if "too_few" in summary.notes:
        lines.append(text(lang, "too_few", k=summary.k))
        return "\n".join(lines)
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


def _share(e: Estimate, lang: str) -> dict[str, str]:
    return {"share": pct(e.value, lang), "low": pct(e.low, lang), "high": pct(e.high, lang)}


def body_sections(
    summary: Summary, survey: Survey, lang: str = "nb", lexicon: Lexicon | None = None
) -> list[list[str]]:
    """The bullets, as sections of lines, most important first."""
    lexicon = lexicon or load_lexicon()
    k = summary.k
    fewer = text(lang, "fewer", k=k)
    sections: list[list[str]] = []
    if "too_few" in summary.notes:
        return [[text(lang, "footer", k=k, number=summary.round_number)]]

    prio = [text(lang, "priorities")]
    for factor_id in summary.priorities:
        f = summary.factor(factor_id)
        assert f.gap is not None
        prio.append(
            "• "
            + text(
                lang,
                "priority",
                factor=factor_label(survey, factor_id, lang),
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
        lines = [text(lang, "changes", before=summary.previous.round_number)]
        clear = [c for c in summary.changes if c.verdict in ("up", "down") and c.experienced]
        clear.sort(key=lambda c: -abs(c.experienced.value if c.experienced else 0))
        for c in clear:
            assert c.experienced is not None
            arrow = "↑" if c.verdict == "up" else "↓"
            lines.append(
                f"{arrow} {factor_label(survey, c.factor_id, lang)} "
                f"{num(c.experienced.value, lang, sign=True)} "
                f"({num(c.experienced.low, lang, sign=True)} – "
                f"{num(c.experienced.high, lang, sign=True)})"
            )
        if any(c.verdict == "unclear" for c in summary.changes):
            lines.append(text(lang, "unclear"))
        if any(c.few for c in summary.changes if c.verdict != "hidden"):
            lines.append(text(lang, "few", few=30))
        sections.append(lines)

    quit_lines = []
    if summary.quit is not None:
        line = text(lang, "quit", n=summary.quit.n, **_share(summary.quit, lang))
        if summary.previous is not None and summary.previous.quit is not None:
            line += text(
                lang,
                "quit_before",
                before=summary.previous.round_number,
                share=pct(summary.previous.quit.value, lang),
            )
        quit_lines.append(line)
        groups = []
        for g in summary.quit_by_profession:
            name = group_label(survey, "profession", g.group, lang)
            if g.share is None:
                groups.append(f"{name}: {fewer}")
            else:
                groups.append(f"{name} {pct(g.share.value, lang)} (n={g.share.n})")
        if len(groups) > 1:
            quit_lines.append(text(lang, "by_profession", groups="; ".join(groups)))
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
    else:
        quit_lines.append(text(lang, "enps_hidden", k=k))
    if summary.position_80 is not None:
        quit_lines.append(
            text(
                lang,
                "position",
                share=pct(summary.position_80.value, lang),
                n=summary.position_80.n,
            )
        )
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
            comment_lines.append(f"  «{quote}»")
    elif summary.comments:
        comment_lines.append(
            text(lang, "themes_hidden", n=summary.comments, threshold=summary.comment_threshold)
        )
    if comment_lines:
        sections.append(comment_lines)

    factor_lines = [text(lang, "factors")]
    for f in sorted(summary.factors, key=lambda f: -(f.gap.value if f.gap else -99)):
        name = factor_label(survey, f.factor_id, lang)
        if f.gap is None or f.experienced is None or f.importance is None:
            key = "held_factor" if f.n >= k else "hidden_factor"
            factor_lines.append(text(lang, key, factor=name, k=k))
        else:
            factor_lines.append(
                f"{name}: {num(f.experienced, lang)} / {num(f.importance, lang)} / "
                f"{num(f.gap.value, lang, sign=True)} (n={f.n})"
            )
    sections.append(factor_lines)

    if summary.participation:
        groups = []
        for p in summary.participation:
            name = group_label(survey, "municipality", p.group, lang)
            if p.answered is None:
                groups.append(f"{name}: {fewer}")
            else:
                groups.append(f"{name} {p.answered}/{p.invited}")
        sections.append([text(lang, "participation", groups="; ".join(groups))])
    footer = [text(lang, "footer", k=k, number=summary.round_number)]
    if "held_back" in summary.notes:
        footer.insert(0, text(lang, "held_back", k=k))
    sections.append(footer)
    return sections


def body(
    summary: Summary,
    survey: Survey,
    lang: str = "nb",
    limit: int = BODY_LIMIT,
    lexicon: Lexicon | None = None,
) -> str:
    """The bullets as one text within `limit` characters (later sections give way first)."""
    sections = body_sections(summary, survey, lang, lexicon)
    footer = sections.pop()
    while sections:
        out = "\n\n".join("\n".join(s) for s in [*sections, footer])
        if len(out) <= limit:
            return out
        sections.pop(-1 if len(sections) > 1 else 0)
    return "\n".join(footer)[:limit]


def full_text(summary: Summary, survey: Survey, lang: str = "nb") -> str:
    """Headline and body together (for the terminal and for text-only channels)."""
    return headline(summary, survey, lang) + "\n\n" + body(summary, survey, lang)


Formatter = Callable[[Summary, Survey, str], str]
