"""Roster problems in the importing person's language: surveys/roster.py finds them as codes
with values, this turns each into a line from the text catalogue (`roster_err_<code>`)."""

from __future__ import annotations

from bot.i18n import t
from surveys.roster import RosterError


def render(error: RosterError, lang: str) -> str:
    """`linje 4: e-postadressen «x» er ikke en e-postadresse` (values quoted as written)."""
    return t(
        lang,
        "roster_err_line",
        line=error.line,
        problem=t(lang, f"roster_err_{error.code}", **error.params),
    )
