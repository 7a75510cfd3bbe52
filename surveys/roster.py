"""Roster files: validating people before anything is stored.

A roster is checked as a whole: every bad row is reported with its line number and
nothing is imported until the file is clean, so an import is never half done.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from surveys.definition import Survey, slug

ROLES = ("employee", "team_member", "union_rep", "leader", "steering")
LANGUAGES = ("nb", "en", "nn")
BACKGROUND_COLUMNS = ("age_band", "tenure_band", "position_band", "shifts")
MAX_NAME = 200
# No control characters either: a NUL would end in a database error on PostgreSQL.
_PART = r"[^@\s\x00-\x1f\x7f]"
_EMAIL = re.compile(rf"^{_PART}{{1,64}}@{_PART}{{1,255}}\.{_PART}{{2,63}}$")
_YES = {"1", "ja", "yes", "j", "y", "true"}
_NO = {"0", "nei", "no", "n", "false"}


@dataclass(frozen=True)
class RosterEntry:
    """One validated person from a roster file."""

    name: str
    email: str | None
    municipality: str | None
    profession: str | None
    role: str = "employee"
    team: str | None = None
    language: str = "nb"
    background: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """People are matched on e-mail when there is one, else on the name."""
        return self.email or f"name:{self.name.casefold()}"


@dataclass(frozen=True)
class RosterError:
    """A problem on one line, as a code and its values: the person importing reads it in
    their language from the text catalogue (bot/roster_errors.py renders it)."""

    line: int
    code: str
    params: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:  # for logs and tests; never shown to a person
        return f"line {self.line}: {self.code} {self.params}"


def clean_text(value: str, limit: int) -> str:
    """Strip control characters and normalise Unicode, so odd input cannot smuggle anything."""
    value = unicodedata.normalize("NFC", value)
    value = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C" or ch in "\n")
    return " ".join(value.split())[:limit] if limit else value.strip()


def _option(survey: Survey, scale_id: str, raw: str) -> str | None:
    """Match a value against a scale's options by id or by label in any language."""
    scale = survey.scales[scale_id]
    wanted = raw.strip().casefold()
    for option in scale.options:
        names = {option.value.casefold(), slug(option.value)} | {
            label.casefold() for label in option.label.values()
        }
        if wanted in names or slug(raw) == option.value:
            return option.value
    return None


# Column names as Norwegian and English rosters write them (compared without case, spaces,
# dashes and underscores) -> the field they fill.
HEADERS = {
    "name": ("name", "navn", "namn", "fulltnavn", "fulltnamn"),
    "email": ("email", "epost", "epostadresse", "mail", "emailaddress"),
    "municipality": ("municipality", "kommune"),
    "profession": ("profession", "yrke", "yrkesgruppe"),
    "role": ("role", "rolle"),
    "team": ("team", "lag"),
    "language": ("language", "språk", "sprak", "målform", "malform"),
    "age_band": ("ageband", "age", "alder", "aldersgruppe"),
    "tenure_band": ("tenureband", "tenure", "ansiennitet"),
    "position_band": ("positionband", "position", "stillingsprosent", "stillingsstørrelse"),
    "shifts": ("shifts", "turnus", "skift"),
}
ROLE_WORDS = {
    "employee": ("employee", "ansatt", "tilsett", "medarbeider", "medarbeidar"),
    "team_member": (
        "teammember",
        "teammedlem",
        "lagmedlem",
        "deltaker",
        "deltakar",
        "medlem",
        "medlemavkommuneteamet",
        "kommuneteam",
    ),
    "union_rep": (
        "unionrep",
        "tillitsvalgt",
        "tillitsvald",
        "tillitsvalt",
        "tillitsvalgtikommuneteamet",
        "tillitsvaldikommuneteamet",
    ),
    "leader": ("leader", "leder", "leiar", "prosjektleder", "prosjektleiar", "projectleader"),
    "steering": ("steering", "styring", "styringsgruppe", "steeringgroup", "styringsgruppemedlem"),
}
LANGUAGE_WORDS = {
    "nb": ("nb", "bokmål", "bokmal", "norsk", "no", "nob"),
    "nn": ("nn", "nynorsk", "nno"),
    "en": ("en", "english", "engelsk", "eng"),
}
MAX_FIELD = 1000  # no roster value is longer; a longer one is a broken row
MAX_EMAIL = 320
MAX_TEAM = 100


def _compact(value: str) -> str:
    return re.sub(r"[\s_\-]+", "", value.strip().casefold())


def _lookup(table: dict[str, tuple[str, ...]], raw: str) -> str | None:
    wanted = _compact(raw)
    return next((key for key, words in table.items() if wanted in words), None)


Problem = tuple[str, dict[str, object]]  # (code, values) of one problem


def _records(text: str, delimiter: str) -> list[tuple[int, int, list[str] | Problem]]:
    """(first line, last line, values or the reason the row cannot be read) per record."""
    lines = io.StringIO(text, newline="")
    reader = csv.reader(lines, delimiter=delimiter)
    out: list[tuple[int, int, list[str] | Problem]] = []
    first = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            reason: Problem = (
                ("csv_too_long", {"limit": csv.field_size_limit()})
                if "field larger" in str(error)
                else ("csv_unreadable", {"error": str(error)[:200]})
            )
            out.append((first, reader.line_num, reason))
            break  # the reader cannot find the next row reliably: stop here
        out.append((first, reader.line_num, values))
        first = reader.line_num + 1
    return out


def parse_roster(text: str, survey: Survey) -> tuple[list[RosterEntry], list[RosterError]]:
    """Validate a CSV roster; returns the entries and every error found (line numbers 1-based).

    Headers and values may be Norwegian (`navn;e-post;kommune;yrke;rolle;team;språk`,
    `ansatt`, `leder`, `styring`), separated by semicolons or commas, with or without a BOM.
    A row that swallowed the lines after it (a stray opening quote), has the wrong number of
    values or an over-long value is an error with its line number.
    """
    text = text.removeprefix("\ufeff")
    errors: list[RosterError] = []
    entries: list[RosterEntry] = []
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    records = _records(text, delimiter)
    if not records or isinstance(records[0][2], tuple):
        return [], [RosterError(1, "no_header")]
    raw_headers = records[0][2]
    headers: list[str] = []
    for raw in raw_headers:
        field_name = _lookup(HEADERS, raw)
        if field_name is None:
            known = ", ".join(
                words[1] if len(words) > 1 else words[0] for words in HEADERS.values()
            )
            errors.append(
                RosterError(1, "unknown_column", {"column": clean_text(raw, 60), "known": known})
            )
        elif field_name in headers:
            errors.append(RosterError(1, "column_twice", {"column": clean_text(raw, 60)}))
        headers.append(field_name or "")
    if "name" not in headers:
        errors.append(RosterError(1, "no_name_column"))
    if errors:
        return [], errors
    seen: dict[str, int] = {}
    for first, last, values in records[1:]:
        line = first
        if isinstance(values, tuple):
            errors.append(RosterError(line, *values))
            continue
        if not values or all(not v.strip() for v in values):
            continue  # an empty line
        problems = _row_problems(values, headers, first, last)
        if problems:
            errors.extend(RosterError(line, *p) for p in problems)
            continue
        get = {k: v.strip() for k, v in zip(headers, values, strict=True)}
        entry, problems = _entry(get, survey)
        if entry is not None and not problems:
            if entry.key in seen:
                problems.append(("same_person", {"line": seen[entry.key]}))
            seen[entry.key] = line
        if problems or entry is None:
            errors.extend(RosterError(line, *p) for p in problems)
        else:
            entries.append(entry)
    if not entries and not errors:
        errors.append(RosterError(1, "no_people"))
    return entries, errors


def _row_problems(values: list[str], headers: list[str], first: int, last: int) -> list[Problem]:
    """What makes a row unreadable as a whole: swallowed lines, wrong count, huge values."""
    problems: list[Problem] = []
    if last > first or any("\n" in v or "\r" in v for v in values):
        problems.append(("swallowed", {"last": last}))
    elif len(values) != len(headers):
        problems.append(("value_count", {"values": len(values), "columns": len(headers)}))
    for column, value in zip(headers, values, strict=False):
        if len(value) > MAX_FIELD:
            problems.append(
                ("field_too_long", {"column": column, "length": len(value), "limit": MAX_FIELD})
            )
    return problems


def _entry(get: dict[str, str], survey: Survey) -> tuple[RosterEntry | None, list[Problem]]:
    """One row's values checked and turned into an entry (None when a value is unusable)."""
    problems: list[Problem] = []
    raw_name = clean_text(get.get("name", ""), 0)
    name = clean_text(raw_name, MAX_NAME + 1)
    if not name:
        problems.append(("name_empty", {}))
    elif len(name) > MAX_NAME:
        problems.append(("name_too_long", {"limit": MAX_NAME}))
    email = get.get("email", "").lower() or None
    if email and len(email) > MAX_EMAIL:
        problems.append(("email_too_long", {"limit": MAX_EMAIL}))
    elif email and not _EMAIL.match(email):
        problems.append(("email_invalid", {"email": email}))
    municipality = None
    if get.get("municipality"):
        municipality = _option(survey, "municipality", get["municipality"])
        if municipality is None:
            known = ", ".join(o.label["nb"] for o in survey.scales["municipality"].options)
            problems.append(
                ("municipality_unknown", {"value": get["municipality"], "known": known})
            )
    profession = None
    if get.get("profession"):
        profession = _option(survey, "profession", get["profession"])
        if profession is None:
            known = ", ".join(o.value for o in survey.scales["profession"].options)
            problems.append(("profession_unknown", {"value": get["profession"], "known": known}))
    role = _lookup(ROLE_WORDS, get["role"]) if get.get("role") else "employee"
    if role is None:
        known = ", ".join(f"{words[1]} ({key})" for key, words in ROLE_WORDS.items())
        problems.append(("role_invalid", {"value": get["role"], "known": known}))
    language = _lookup(LANGUAGE_WORDS, get["language"]) if get.get("language") else "nb"
    if language is None:
        problems.append(
            ("language_invalid", {"value": get["language"], "known": ", ".join(LANGUAGES)})
        )
    background: dict[str, str] = {}
    for column in BACKGROUND_COLUMNS:
        raw = get.get(column, "")
        if not raw:
            continue
        if column == "shifts":
            low = raw.casefold()
            value = "1" if low in _YES else "0" if low in _NO else None
        else:
            value = _option(survey, column, raw)
        if value is None:
            problems.append(("background_unknown", {"column": column, "value": raw}))
        else:
            background[column] = value
    team = clean_text(get.get("team", ""), MAX_TEAM + 1) or None
    if team and len(team) > MAX_TEAM:
        problems.append(("team_too_long", {"limit": MAX_TEAM}))
    if problems or role is None or language is None:
        return None, problems
    return RosterEntry(name, email, municipality, profession, role, team, language, background), []
