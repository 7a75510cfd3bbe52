"""Short labels for a person's background in `/meg`: "Alder 40–49 · Ansiennitet 2–5 år".

The questions themselves ("Hvor gammel er du?") are for asking; what is stored is shown with
a short label from the text catalogue, falling back to the question for a survey's own extras.
"""

from __future__ import annotations

from bot.i18n import catalogue, t
from storage.models import Person
from surveys.definition import Survey

SEPARATOR = " · "
SKIPPED = ("municipality", "profession")  # shown on their own lines in /meg


def _known(lang: str, key: str) -> bool:
    return key in catalogue(lang) or key in catalogue("nb")


def background_line(survey: Survey, person: Person, lang: str) -> str:
    """What /meg shows as the background, or "" when none is stored."""
    parts: list[str] = []
    for question in survey.background:
        value = getattr(person, question.id, None)
        if question.id in SKIPPED or question.scale is None or not value:
            continue
        whole = f"day_bg_{question.id}_{value}"
        if _known(lang, whole):  # a yes/no answer reads better as one phrase
            parts.append(t(lang, whole))
            continue
        try:
            shown = question.scale.label(value, lang)
        except KeyError:
            shown = value
        key = f"day_bg_{question.id}"
        if _known(lang, key):  # "Alder under 30", not "Alder Under 30"
            label = t(lang, key)
            shown = shown[:1].lower() + shown[1:] if shown[1:2].islower() else shown
        else:
            label = question.text[lang].rstrip("?")
        parts.append(f"{label} {shown}")
    return SEPARATOR.join(parts)
