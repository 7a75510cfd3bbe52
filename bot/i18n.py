"""Chat texts in bokmål and English (nynorsk falls back to bokmål for bot texts).

Texts live in `bot/texts/*.yaml`; the survey's own wording lives in the survey file.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("nb", "en", "nn")
FALLBACK = {"nn": "nb"}


@cache
def catalogue(lang: str) -> dict[str, str]:
    path = resources.files("bot.texts").joinpath(f"{lang}.yaml")
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text("utf-8")) or {}
    return {str(k): str(v).rstrip("\n") for k, v in data.items()}


def t(lang: str, key: str, **values: Any) -> str:
    """The text `key` in `lang`, formatted with `values`; falls back to bokmål."""
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
