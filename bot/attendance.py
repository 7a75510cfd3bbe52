""" "Kommer du?" — attendance at a gathering, asked in the reminder two days before.

Buttons Ja / Nei / Digitalt carry a one-time token (storage/prompts.py), so a forged or
replayed press changes nothing; a person changes their answer with a new press on a later
reminder or by typing `/kommer N ja|nei|digitalt`. Answers are kept per person only until
the gathering is held (then counts per team, see storage/attendance.py), and only the
project leader sees the counts — never the steering group: small counts per team are still
about colleagues' choices.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy.orm import Session

from bot.i18n import t
from bot.ports import Choice, OutgoingMessage
from storage import attendance as store
from storage import prompts
from storage.models import Person
from storage.network_models import Gathering
from surveys.network import LIVE_GATHERING

PURPOSE = "attend"
WORDS = {
    "yes": ("ja", "yes", "j", "kjem", "kommer"),
    "no": ("nei", "no", "n"),
    "online": ("digitalt", "digital", "online", "nett"),
}


def answer_word(text: str) -> str | None:
    """`ja`, `nei`, `digitalt` (and English) → yes | no | online."""
    word = text.strip().lower()
    return next((key for key, words in WORDS.items() if word in words), None)


def question(session: Session, g: Gathering, person: Person, now: dt.datetime) -> OutgoingMessage:
    """The question with its three buttons, tied to this version of the gathering."""
    lang = person.language
    token = prompts.create(session, person.id, PURPOSE, now, ref=f"{g.id}:v{g.version}")
    text = t(lang, "leader_attend_question", title=g.title, id=g.id)
    mine = store.answer_of(session, g.id, person.id)
    if mine:
        text += "\n" + t(lang, "leader_attend_current", answer=t(lang, f"leader_attend_{mine}"))
    return OutgoingMessage(
        text, tuple(Choice(t(lang, f"leader_attend_{a}"), f"{token}:{a}") for a in store.ANSWERS)
    )


def answer(
    session: Session, g: Gathering | None, person: Person, value: str, now: dt.datetime,
    version: int | None = None,
) -> str:  # fmt: skip
    """Store an answer, or say in one sentence why not (nothing changes then)."""
    lang = person.language
    if value not in store.ANSWERS:
        return t(lang, "leader_attend_how", id=g.id if g else "N")
    if g is None:
        return t(lang, "net_t_gone")
    if version is not None and version != g.version:
        return t(lang, "leader_attend_old", title=g.title)
    if g.status not in LIVE_GATHERING or g.starts_at <= now:
        return t(lang, "leader_attend_closed", title=g.title)
    if not person.team:
        return t(lang, "leader_no_team")
    store.set_answer(session, g.id, person.id, value, now)
    return t(
        lang,
        "leader_attend_saved",
        title=g.title,
        answer=t(lang, f"leader_attend_{value}"),
        id=g.id,
    )


def counts_line(counts: dict[str, Counter[str]], lang: str) -> str:
    """`Bodø: 3 ja, 1 nei, 1 digitalt · Fauske: …` (teams in name order)."""
    parts = []
    for team in sorted(counts, key=str.casefold):
        c = counts[team]
        text = t(
            lang, "leader_attend_team", team=team, yes=c["yes"], no=c["no"], online=c["online"]
        )
        if "came" in c:
            text += t(lang, "leader_attend_came", came=c["came"])
        parts.append(text)
    return " · ".join(parts)


def leader_counts(session: Session, g: Gathering) -> dict[str, Counter[str]]:
    """Counts per team for the leader: stored ones once held (or folded after it ended),
    live ones before."""
    return store.stored_counts(session, g.id) or store.live_counts(session, g.id)
