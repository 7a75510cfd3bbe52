"""Dates as Norwegians (and the English-speaking) write them in a chat, free of any clock.

`read_date(words, today)` reads a date from the start of a list of words and says how many
words it used, so that the caller can read a time and a place after it:

    12. januar · 12. jan 2027 · 12 January · January 12 · 12.1. · 12/1 · 12.03.2027 ·
    2027-03-12 · i dag · i morgen (i morgon) · i overmorgen · fredag · neste tirsdag
    (neste tysdag, next tuesday) · om 3 dager · om to uker (om to veker, in two weeks)

A weekday means the first such day after today, with or without "neste"/"next"; a date
without a year is the next such day from today on. A form that is a date but names no day
on the calendar ("31.02") is read as a date with a problem, so the caller can say why
instead of treating the words as a title. `check_range` refuses dates before today and
more than two years ahead — so `31.12.9999` gets a sentence, never an OverflowError.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_YEARS_AHEAD = 2

# Why a date cannot be used; the chat turns each into a sentence from the text catalogue.
NO_SUCH_DAY = "no_such_day"
PAST = "past"
TOO_FAR = "too_far"

MONTHS = {
    "januar": 1, "jan": 1, "january": 1,
    "februar": 2, "feb": 2, "february": 2,
    "mars": 3, "mar": 3, "march": 3,
    "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7,
    "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "october": 10, "oct": 10,
    "november": 11, "nov": 11,
    "desember": 12, "des": 12, "december": 12, "dec": 12,
}  # fmt: skip
WEEKDAYS = {
    "mandag": 0,
    "måndag": 0,
    "monday": 0,
    "tirsdag": 1,
    "tysdag": 1,
    "tuesday": 1,
    "onsdag": 2,
    "wednesday": 2,
    "torsdag": 3,
    "thursday": 3,
    "fredag": 4,
    "friday": 4,
    "lørdag": 5,
    "laurdag": 5,
    "saturday": 5,
    "søndag": 6,
    "sundag": 6,
    "sunday": 6,
}  # fmt: skip  (no abbreviations: "man", "tor" and "fre" are also words in a title)
NUMBER_WORDS = {
    "en": 1, "ett": 1, "ei": 1, "eitt": 1, "one": 1, "a": 1, "an": 1,
    "to": 2, "two": 2, "tre": 3, "three": 3, "fire": 4, "four": 4, "fem": 5, "five": 5,
    "seks": 6, "six": 6, "sju": 7, "syv": 7, "seven": 7, "åtte": 8, "eight": 8,
    "ni": 9, "nine": 9, "ti": 10, "ten": 10, "elleve": 11, "tolv": 12, "fjorten": 14,
}  # fmt: skip
DAY_WORDS = {
    "i dag": 0, "idag": 0, "today": 0,
    "i morgen": 1, "imorgen": 1, "i morgon": 1, "imorgon": 1, "tomorrow": 1,
    "i overmorgen": 2, "iovermorgen": 2, "i overmorgon": 2, "iovermorgon": 2,
    "overmorgen": 2, "overmorgon": 2, "the day after tomorrow": 2,
    # Past days are read too, so that "i går" is told it has passed instead of not understood.
    "i går": -1, "igår": -1, "yesterday": -1, "i forgårs": -2, "iforgårs": -2,
}  # fmt: skip
UNIT_DAYS = {
    "dag": 1, "dager": 1, "dagar": 1, "døgn": 1, "day": 1, "days": 1,
    "uke": 7, "uker": 7, "uka": 7, "veke": 7, "veker": 7, "veka": 7, "week": 7, "weeks": 7,
}  # fmt: skip

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_NUMBER = r"\d{1,3}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_UNIT = "|".join(sorted(UNIT_DAYS, key=len, reverse=True))
_YEAR = r"(?P<year>\d{4})"  # four digits after a month name: "12. januar 10" is 10 o'clock
_END = r"(?=[\s,]|$)"  # a date ends where a word ends

_RELATIVE = re.compile(r"(?P<words>" + "|".join(map(re.escape, DAY_WORDS)) + ")" + _END)
_IN = re.compile(rf"(?:om|in)\s+(?P<n>{_NUMBER})\s+(?P<unit>{_UNIT}){_END}")
_WEEKDAY_RE = re.compile(
    rf"(?:(?:neste|på|next|on|this|kommende|førstkommende)\s+)?(?P<wd>{_WEEKDAY})\.?{_END}"
)
_NUMERIC = re.compile(
    r"(?P<day>\d{1,2})\s?(?P<sep>[./])\s?(?P<month>\d{1,2})"
    r"(?:(?P=sep)(?:(?P<year>\d{4}|\d{2})|(?=[\s,]|$)))?\.?" + _END
)
_ISO = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})" + _END)
_DAY_MONTH = re.compile(
    rf"(?P<day>\d{{1,2}})(?:\.|st|nd|rd|th)?\s*(?:of\s+)?(?P<month>{_MONTH})\.?"
    rf"(?:,?\s+{_YEAR})?{_END}"
)
_MONTH_DAY = re.compile(
    rf"(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+{_YEAR})?{_END}"
)


@dataclass(frozen=True)
class ReadDate:
    """A date read from the start of some words: the day (None when it names no real day,
    see `problem`) and how many words it took."""

    day: dt.date | None
    used: int
    problem: str | None = None


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    return int(text) + (2000 if len(text) == 2 else 0)


def _calendar_day(year: int | None, month: int, day: int, today: dt.date) -> dt.date | None:
    """The day, or None when the calendar has no such day; no year means the next one."""
    try:
        if year is not None:
            return dt.date(year, month, day)
        this_year = dt.date(today.year, month, day) if _exists(today.year, month, day) else None
        if this_year is not None and this_year >= today:
            return this_year
        for ahead in range(1, 9):  # 29 February may be up to eight years away
            if _exists(today.year + ahead, month, day):
                return dt.date(today.year + ahead, month, day)
        return None
    except (ValueError, OverflowError):
        return None


def _exists(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def _used(matched: str) -> int:
    return len(matched.split())


def read_date(words: Sequence[str], today: dt.date) -> ReadDate | None:
    """Read a date from the start of `words`; None when they do not start with a date."""
    text = " ".join(" ".join(words[:6]).split()).lower()
    if not text:
        return None
    if match := _RELATIVE.match(text):
        offset = DAY_WORDS[match.group("words")]
        return ReadDate(today + dt.timedelta(days=offset), _used(match.group(0)))
    if match := _IN.match(text):
        raw = match.group("n")
        count = int(raw) if raw.isdigit() else NUMBER_WORDS[raw]
        days = count * UNIT_DAYS[match.group("unit")]
        return ReadDate(today + dt.timedelta(days=days), _used(match.group(0)))
    if match := _WEEKDAY_RE.match(text):
        ahead = (WEEKDAYS[match.group("wd")] - today.weekday()) % 7 or 7
        return ReadDate(today + dt.timedelta(days=ahead), _used(match.group(0)))
    for pattern in (_ISO, _NUMERIC, _DAY_MONTH, _MONTH_DAY):
        if match := pattern.match(text):
            month_text = match.group("month")
            month = int(month_text) if month_text.isdigit() else MONTHS[month_text]
            day_number = int(match.group("day"))
            year = _year(match.group("year"))
            used = _used(match.group(0))
            in_range = 1 <= month <= 12 and 1 <= day_number <= 31
            if pattern is _NUMERIC and year is None and not in_range:
                return None  # "10.30" or "2.5" is not a date at all; "32.13.2027" is one
            if not 1 <= month <= 12 or not 1 <= day_number <= 31:
                return ReadDate(None, used, NO_SUCH_DAY)
            day = _calendar_day(year, month, day_number, today)
            return ReadDate(day, used, None if day else NO_SUCH_DAY)
    return None


def latest_day(today: dt.date) -> dt.date:
    """The last day a date may be set to: two years from today."""
    try:
        return today.replace(year=today.year + MAX_YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + MAX_YEARS_AHEAD, day=28)


def check_range(day: dt.date, today: dt.date) -> str | None:
    """Why `day` cannot be planned for (PAST, TOO_FAR), or None when it can."""
    if day < today:
        return PAST
    if day > latest_day(today):
        return TOO_FAR
    return None


def parse_date(text: str, today: dt.date) -> dt.date:
    """A whole text as one date in the allowed range; ValueError with a reason code if not."""
    words = text.split()
    read = read_date(words, today)
    if read is None or read.used != len(words):
        raise ValueError("not_a_date")
    if read.day is None:
        raise ValueError(read.problem or NO_SUCH_DAY)
    problem = check_range(read.day, today)
    if problem:
        raise ValueError(problem)
    return read.day
