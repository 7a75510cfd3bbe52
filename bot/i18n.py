"""The text catalogue: every string a person sees, in bokmål, nynorsk and English.

Texts live in `bot/texts/`: `<lang>.yaml` holds the chat's core texts and
`<area>.<lang>.yaml` one area each (summary, network, cli, ...), so that a translator finds
an area's texts together and two areas never edit the same file. A key lives in exactly one
area; the same key in two files is an error, not an override. The survey's own wording
(questions, scale labels) lives in the survey file.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("nb", "nn", "en")
# Nynorsk still falls back to bokmål until the nynorsk catalogue is complete (issue 10).
FALLBACK = {"nn": "nb"}


@cache
def catalogue(lang: str) -> dict[str, str]:
    """All texts of one language, merged from its core file and its area files."""
    folder = resources.files("bot.texts")
    merged: dict[str, str] = {}
    names = sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name == f"{lang}.yaml" or entry.name.endswith(f".{lang}.yaml")
    )
    for name in names:
        data = yaml.safe_load(folder.joinpath(name).read_text("utf-8")) or {}
        for key, value in data.items():
            if str(key) in merged:
                raise ValueError(f"text {key!r} is defined twice (again in bot/texts/{name})")
            merged[str(key)] = str(value).rstrip("\n")
    return merged


def t(lang: str, key: str, **values: Any) -> str:
    """The text `key` in `lang`, formatted with `values`."""
    for candidate in (lang, FALLBACK.get(lang, "nb"), "nb"):
        text = catalogue(candidate).get(key)
        if text is not None:
            return text.format(**values) if values else text
    raise KeyError(f"no text {key!r}")


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
