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
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,63}$")
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
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


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


def parse_roster(text: str, survey: Survey) -> tuple[list[RosterEntry], list[RosterError]]:
    """Validate a CSV roster; returns the entries and every error found (line numbers 1-based)."""
    errors: list[RosterError] = []
    entries: list[RosterEntry] = []
    sample = text[:2048]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "name" not in headers:
        return [], [RosterError(1, "the header must have a 'name' column")]
    reader.fieldnames = headers
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        problems: list[str] = []
        get = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if None in row:
            problems.append("more values than columns")
        name = clean_text(get.get("name", ""), MAX_NAME)
        if not name:
            problems.append("name is empty")
        email = get.get("email", "").lower() or None
        if email and not _EMAIL.match(email):
            problems.append(f"email {email!r} is not an e-mail address")
        municipality = None
        if get.get("municipality"):
            municipality = _option(survey, "municipality", get["municipality"])
            if municipality is None:
                known = ", ".join(o.label["nb"] for o in survey.scales["municipality"].options)
                problems.append(f"unknown municipality {get['municipality']!r} (known: {known})")
        profession = None
        if get.get("profession"):
            profession = _option(survey, "profession", get["profession"])
            if profession is None:
                known = ", ".join(o.value for o in survey.scales["profession"].options)
                problems.append(f"unknown profession {get['profession']!r} (known: {known})")
        role = get.get("role", "").lower() or "employee"
        if role not in ROLES:
            problems.append(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        language = get.get("language", "").lower() or "nb"
        if language not in LANGUAGES:
            problems.append(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
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
                problems.append(f"{column} {raw!r} is not a known value")
            else:
                background[column] = value
        team = clean_text(get.get("team", ""), 100) or None
        entry = RosterEntry(name, email, municipality, profession, role, team, language, background)
        if not problems:
            if entry.key in seen:
                problems.append(f"the same person as on line {seen[entry.key]}")
            seen[entry.key] = line
        if problems:
            errors.extend(RosterError(line, p) for p in problems)
        else:
            entries.append(entry)
    if not entries and not errors:
        errors.append(RosterError(1, "the file has no people"))
    return entries, errors
