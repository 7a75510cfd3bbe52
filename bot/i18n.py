"""The text catalogue: every string a person sees, in bokmål, nynorsk and English.

Texts live in `bot/texts/`: `<lang>.yaml` holds the chat's core texts and
`<area>.<lang>.yaml` one area each (summary, network, cli, ...), so that a translator finds
an area's texts together and two areas never edit the same file. A key lives in exactly one
area; the same key in two files is an error, not an override. The survey's own wording
(questions, scale labels) lives in the survey file.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("nb", "nn", "en")
# libyaml's safe loader when present (ten times faster than the pure-Python one).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# A top-level key as the text files write it: at the start of a line, before a colon.
_TOP_KEY = re.compile(r"^([A-Za-z0-9_.-]+):(?:[ \t]|$)", re.MULTILINE)


@cache
def _files(lang: str) -> dict[str, Any]:
    """Each text file of one language (not yet read) by its area ("" for the core texts)."""
    out: dict[str, Any] = {}
    for entry in sorted(resources.files("bot.texts").iterdir(), key=lambda e: e.name):
        if entry.name == f"{lang}.yaml":
            out[""] = entry
        elif entry.name.endswith(f".{lang}.yaml"):
            out[entry.name.removesuffix(f".{lang}.yaml")] = entry
    return out


@cache
def area_texts(lang: str, area: str) -> dict[str, str]:
    """One text file, parsed when one of its texts is first needed."""
    data = yaml.load(_files(lang)[area].read_text("utf-8"), Loader=SAFE_LOADER) or {}
    return {str(key): str(value).rstrip("\n") for key, value in data.items()}


@cache
def area_of(lang: str) -> dict[str, str | None]:
    """Which area holds each key (None: more than one, which `catalogue` refuses). The keys
    are found by a plain scan of each file's top-level lines, so that a service that only
    ever says a few things never parses or keeps the texts of the other areas (issue 13)."""
    index: dict[str, str | None] = {}
    for area, entry in _files(lang).items():
        for key in _TOP_KEY.findall(entry.read_text("utf-8")):
            index[key] = None if key in index else area
    return index


@cache
def area_files(lang: str) -> dict[str, dict[str, str]]:
    """Each text file of one language, parsed, by its area ("" for the core chat texts)."""
    return {area: area_texts(lang, area) for area in _files(lang)}


@cache
def catalogue(lang: str) -> dict[str, str]:
    """All texts of one language, merged from its core file and its area files."""
    merged: dict[str, str] = {}
    for area, data in area_files(lang).items():
        name = f"{area}.{lang}.yaml" if area else f"{lang}.yaml"
        for key, value in data.items():
            if str(key) in merged:
                raise ValueError(f"text {key!r} is defined twice (again in bot/texts/{name})")
            merged[key] = value
    return merged


def text_of(lang: str, key: str) -> str | None:
    """The raw text `key` in `lang`, from its own area only; None when there is none."""
    area = area_of(lang).get(key)
    found = area_texts(lang, area).get(key) if area is not None else None
    # Not where the scan placed it (a key the scan cannot read, or one defined twice):
    # the whole catalogue decides, and refuses a key defined twice.
    return found if found is not None else catalogue(lang).get(key)


def t(lang: str, key: str, **values: Any) -> str:
    """The text `key` in `lang`, formatted with `values`.

    There is no fallback to another language: a missing text is a bug that the catalogue test
    (tests/test_texts.py) finds, not something a nynorsk or English reader should see as bokmål.
    """
    text = text_of(lang, key)
    if text is None:
        raise KeyError(f"no text {key!r} in {lang!r}")
    return singular(lang, text.format(**values)) if values else text


# A count of exactly one takes the singular: "1 påminnelse", not "1 påminnelser". The
# catalogue writes the plural (the usual case); these are the nouns counted in it.
SINGULAR = {
    "nb": {"nye påminnelser": "ny påminnelse", "påminnelser": "påminnelse",
           "personer": "person", "dager": "dag", "lenker": "lenke"},
    "nn": {"nye påminningar": "ny påminning", "påminningar": "påminning",
           "personar": "person", "dagar": "dag", "inviterte": "invitert", "lenkjer": "lenkje"},
    "en": {"new reminders are": "new reminder is", "reminders are": "reminder is",
           "people in the database are": "person in the database is", "were told": "was told",
           "new reminders": "new reminder", "reminders": "reminder", "people": "person",
           "days": "day", "answers": "answer", "characters": "character", "teams": "team",
           "weeks": "week", "links": "link"},
}  # fmt: skip
_ONE = {
    lang: re.compile(
        r"(?<![\d.,])1 (" + "|".join(map(re.escape, sorted(words, key=len, reverse=True))) + r")\b"
    )
    for lang, words in SINGULAR.items()
}


def singular(lang: str, text: str) -> str:
    """ "1 påminnelser" → "1 påminnelse" (and "1 nye påminnelser" → "1 ny påminnelse")."""
    pattern = _ONE.get(lang)
    if pattern is None or "1 " not in text:
        return text
    return pattern.sub(lambda m: "1 " + SINGULAR[lang][m.group(1)], text)


def normalise_language(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().lower()
    aliases = {
        "no": "nb",
        "norsk": "nb",
        "bokmål": "nb",
        "bokmal": "nb",
        "english": "en",
        "engelsk": "en",
        "nynorsk": "nn",
    }
    value = aliases.get(value, value)
    return value if value in LANGUAGES else None
