"""Free-text comments as themes: a keyword lexicon kept as data, and scrubbed quotes.

Comments are never shown as such to the steering group: they are counted per theme (the
themes of the Salten report), and at most a few quotes are shown, only from a large enough
group, with names, phone numbers and e-mail addresses removed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

DEFAULT_LEXICON = "themes.yaml"
MAX_QUOTE_CHARS = 180

_NON_WORD = re.compile(r"[^\w\s-]+|_", re.UNICODE)
_SPACES = re.compile(r"\s+")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Eight or more digits, optionally with +/00 country code and spaces, dots or dashes between.
PHONE = re.compile(r"(?<!\w)(?:\+|00)?\d(?:[\s.\-()]*\d){7,}(?!\w)")
_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ][\w'’-]*", re.UNICODE)

# Capitalised words that are not names even in the middle of a sentence.
_NOT_NAMES = {
    "i", "covid", "korona", "corona", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "january", "february", "march", "april", "may", "june", "july",
    "august", "september", "october", "november", "december", "english", "norwegian",
    "norsk", "norway", "norge", "kommune", "kommunen", "salten", "nordland",
}  # fmt: skip


@dataclass(frozen=True)
class Theme:
    id: str
    label: Mapping[str, str]
    words: tuple[str, ...]
    parts: tuple[str, ...]
    unless: tuple[str, ...] = ()  # phrases taken out before this theme is matched


@dataclass(frozen=True)
class Lexicon:
    themes: tuple[Theme, ...]
    fallback: str

    def label(self, theme_id: str, lang: str) -> str:
        for theme in self.themes:
            if theme.id == theme_id:
                return theme.label.get(lang) or theme.label.get("nb") or theme_id
        return theme_id

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]


def normalise(text: str) -> str:
    """Lower case, letters/digits only, single spaces, padded: what the lexicon is matched on."""
    cleaned = _NON_WORD.sub(" ", text.lower())
    return " " + _SPACES.sub(" ", cleaned).strip() + " "


@lru_cache(maxsize=8)
def load_lexicon(path: str | None = None) -> Lexicon:
    """The theme lexicon (surveys/data/themes.yaml unless another file is given)."""
    if path is None:
        raw_text = resources.files("surveys.data").joinpath(DEFAULT_LEXICON).read_text("utf-8")
    else:
        raw_text = Path(path).read_text("utf-8")
    raw = yaml.safe_load(raw_text)
    themes = tuple(
        Theme(
            str(t["id"]),
            dict(t["label"]),
            tuple(normalise(str(w)).strip() for w in t.get("words") or ()),
            tuple(normalise(str(p)).strip() for p in t.get("parts") or ()),
            tuple(normalise(str(p)).strip() for p in t.get("except") or ()),
        )
        for t in raw["themes"]
    )
    fallback = str(raw.get("fallback", "annet"))
    if fallback not in {t.id for t in themes}:
        raise ValueError(f"themes: the fallback theme {fallback!r} is not defined")
    return Lexicon(themes, fallback)


def classify(text: str, lexicon: Lexicon) -> list[str]:
    """The themes one comment touches (the fallback theme when none)."""
    found = []
    for theme in lexicon.themes:
        if theme.id == lexicon.fallback:
            continue
        norm = normalise(text)
        for phrase in theme.unless:
            norm = norm.replace(phrase, " ")
        tokens = norm.split()
        hit = any(p and p in norm for p in theme.parts) or any(
            w and tok.startswith(w) for w in theme.words for tok in tokens
        )
        if hit:
            found.append(theme.id)
    return found or [lexicon.fallback]


def theme_counts(texts: Iterable[str], lexicon: Lexicon) -> dict[str, int]:
    """How many comments touch each theme (a comment may count for several)."""
    counts = dict.fromkeys(lexicon.ids, 0)
    for text in texts:
        for theme_id in classify(text, lexicon):
            counts[theme_id] += 1
    return counts


def name_tokens(names: Iterable[str]) -> frozenset[str]:
    """Lower-cased words of roster names (no link to any answer is needed or made)."""
    out = set()
    for name in names:
        for word in _WORD.findall(name or ""):
            if len(word) >= 2:
                out.add(word.lower())
    return frozenset(out)


def scrub(
    text: str,
    names: frozenset[str] = frozenset(),
    keep: frozenset[str] = frozenset(),
    lang: str = "nb",
) -> str:
    """Remove e-mail addresses, phone numbers and names (roster names and mid-sentence
    capitalised words that are not on the `keep` list) from a comment."""
    marks = {
        "nb": ("[e-post]", "[telefon]", "[navn]"),
        "en": ("[e-mail]", "[phone]", "[name]"),
    }.get(lang, ("[e-post]", "[telefon]", "[navn]"))
    text = EMAIL.sub(marks[0], text)
    text = PHONE.sub(marks[1], text)
    keep_lower = {w.lower() for w in keep} | _NOT_NAMES
    out: list[str] = []
    last = 0
    sentence_start = True
    for match in _WORD.finditer(text):
        between = text[last : match.start()]
        if re.search(r"[.!?:\n]", between):
            sentence_start = True
        word = match.group(0)
        lower = word.lower()
        is_roster_name = lower in names
        looks_like_name = (
            not sentence_start
            and word[0].isupper()
            and not word.isupper()
            and lower not in keep_lower
            and len(word) > 1
        )
        out.append(between)
        out.append(marks[2] if is_roster_name or looks_like_name else word)
        last = match.end()
        sentence_start = False
    out.append(text[last:])
    return "".join(out)


def shorten(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """One line, at most `limit` characters, cut at a word boundary."""
    text = _SPACES.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:") + "…"


def pick_quotes(
    texts: list[str],
    lexicon: Lexicon,
    counts: Mapping[str, int],
    max_quotes: int,
    seed: str,
    names: frozenset[str] = frozenset(),
    keep: frozenset[str] = frozenset(),
    lang: str = "nb",
) -> list[tuple[str, str]]:
    """Up to `max_quotes` (theme, scrubbed quote) pairs, one per most frequent theme.

    The choice inside a theme is a stable pseudo-random order (a hash with the round's seed),
    so reposting the same summary shows the same quotes and no order of arrival leaks.
    """
    if max_quotes <= 0:
        return []

    def order(text: str) -> str:
        return hashlib.sha256(f"{seed}\x00{text}".encode()).hexdigest()

    ranked = sorted(
        (t for t in lexicon.ids if t != lexicon.fallback and counts.get(t, 0) > 0),
        key=lambda t: (-counts.get(t, 0), lexicon.ids.index(t)),
    )
    chosen: list[tuple[str, str]] = []
    used: set[str] = set()
    for theme_id in ranked:
        candidates = sorted(
            (t for t in texts if theme_id in classify(t, lexicon) and t not in used), key=order
        )
        for text in candidates:
            quote = shorten(scrub(text, names, keep, lang))
            if len(quote) >= 15:
                chosen.append((theme_id, quote))
                used.add(text)
                break
        if len(chosen) >= max_quotes:
            break
    return chosen
