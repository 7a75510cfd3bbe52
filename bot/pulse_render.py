"""How a question looks in the chat: its text, the scale's ends, the buttons, the counter.

Pure functions of the survey and the language (no database): the same question renders the
same on every platform, and a test can render one without an engine.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.engine_base import SKIP
from bot.i18n import t
from bot.ports import Choice, OutgoingMessage
from surveys.definition import Question, Survey


def scale_text(question: Question, lang: str) -> str:
    """ "1 = svært lite · 6 = svært mye" under a numeric scale whose ends have labels."""
    scale = question.scale
    if scale is None or scale.kind != "numeric":
        return ""
    lo, hi = scale.labels.get(scale.min), scale.labels.get(scale.max)
    if not lo or not hi:
        return ""
    return "\n" + t(
        lang, "scale_ends", lo=scale.min, lo_label=lo[lang], hi=scale.max, hi_label=hi[lang]
    )


def question_text(
    question: Question, lang: str, position: int | None = None, total: int | None = None
) -> str:
    """The question with its counter ("(3 av 7)"), its context and, for free text, a hint."""
    head = f"({t(lang, 'progress', n=position, total=total)}) " if position and total else ""
    lines = []
    if question.context:
        lines.append(head + t(lang, "walk_quoted", text=question.context[lang]))
        lines.append(question.text[lang])
    else:
        lines.append(f"{head}{question.text[lang]}")
    if question.is_free_text:
        lines.append(t(lang, "text_hint"))
    return "\n".join(lines) + scale_text(question, lang)


def choices(question: Question, token: str, lang: str, skippable: bool) -> tuple[Choice, ...]:
    """One button per scale value (a numeric scale shows the value itself), then "Hopp over"."""
    out: list[Choice] = []
    if question.scale is not None:
        numeric = question.scale.kind == "numeric"
        for value in question.scale.values():
            label = value if numeric else question.scale.label(value, lang)
            out.append(Choice(label, f"{token}:{value}"))
    if skippable:
        out.append(Choice(t(lang, "skip"), f"{token}:{SKIP}"))
    return tuple(out)


def pulse_question(
    question: Question, token: str, lang: str, position: int | None, total: int | None
) -> OutgoingMessage:
    """A pulse question; only a free-text one can be skipped (and answered by typing)."""
    return OutgoingMessage(
        question_text(question, lang, position, total),
        choices(question, token, lang, skippable=question.is_free_text),
        free_text=question.is_free_text,
    )


def background_question(question: Question, token: str, lang: str) -> OutgoingMessage:
    """A background question: every one can be skipped."""
    return OutgoingMessage(question.text[lang], choices(question, token, lang, skippable=True))


def answered(
    question: Question,
    lang: str,
    label: str,
    position: int | None = None,
    total: int | None = None,
    background: bool = False,
) -> OutgoingMessage:
    """The pressed message after the answer: the question and what was chosen, no buttons."""
    head = question.text[lang] if background else question_text(question, lang, position, total)
    return OutgoingMessage(head + "\n" + label)


def counter(plan: list[str], qid: str) -> tuple[int | None, int | None]:
    """ "(3 av 7)" counts the planned questions only: a follow-up ("Hva skal til ...?")
    has no number, so the total never jumps from "7 av 7" to "8 av 8"."""
    return (plan.index(qid) + 1, len(plan)) if qid in plan else (None, None)


def expanded(survey: Survey, plan: list[str], answered_values: Mapping[str, object]) -> list[str]:
    """The plan with each follow-up inserted where the answer so far asks for it."""
    out: list[str] = []
    for qid in plan:
        out.append(qid)
        follow = survey.follow_up_for(qid)
        if follow and qid in answered_values and str(answered_values[qid]) == follow.when_value:
            out.append(follow.id)
    return out


def pulse_intro(survey: Survey, sequence: list[str], lang: str) -> OutgoingMessage:
    """ "Ny puls: 3 tema, 7 trykk" before the first question."""
    factors = len({q.split(".")[0] for q in sequence if "." in q})
    taps = sum(1 for q in sequence if not survey.question(q).is_free_text)
    return OutgoingMessage(t(lang, "pulse_intro", factors=factors, taps=taps))
