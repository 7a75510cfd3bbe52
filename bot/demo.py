"""`beholde demo`: the whole loop in seconds, on SQLite, without any tokens.

Synthetic employees across the nine Salten municipalities get a round through the outbox,
answer it by pressing buttons through the real conversation engine, the round closes,
and the anonymous summary is printed through the one release path, as `beholde summary`
prints it — groups under k and their complements hidden.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from dataclasses import dataclass, field, replace

from bot.conversation import Conversation
from bot.outbox import deliver_due
from bot.ports import Address, ChoicePressed, OutgoingMessage, TextReceived
from storage import people
from storage.models import Person
from surveys.definition import Survey

PLATFORM = "demo"
# Staff answering, per municipality: Beiarn is small on purpose (its figures stay hidden).
SIZES = {
    "bodo": 38,
    "fauske": 18,
    "meloy": 14,
    "saltdal": 12,
    "steigen": 9,
    "sorfold": 8,
    "hamaroy": 8,
    "gildeskal": 7,
    "beiarn": 4,
}
PROFESSIONS = [
    ("sykepleier", 0.35),
    ("helsefagarbeider", 0.4),
    ("vernepleier", 0.08),
    ("assistent", 0.12),
    ("annet", 0.05),
]
FIRST = [
    "Ingrid",
    "Kari",
    "Nora",
    "Emma",
    "Ida",
    "Sara",
    "Maja",
    "Hanne",
    "Silje",
    "Marte",
    "Ole",
    "Lars",
    "Jonas",
    "Erik",
    "Anders",
    "Sofie",
    "Mona",
    "Trine",
    "Elin",
    "Geir",
]
LAST = [
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Berg",
    "Eilertsen",
    "Solås",
    "Rotmo",
    "Ågnes",
    "Kjerran",
]
# (experienced, importance) centres per factor: the gaps the pilot found, roughly.
PROFILE = {
    "F01": (3.6, 5.4),
    "F02": (4.2, 4.6),
    "F03": (3.7, 5.0),
    "F04": (3.0, 4.6),
    "F05": (3.8, 5.0),
    "F06": (3.1, 4.7),
    "F07": (3.3, 4.9),
    "F08": (3.4, 5.3),
    "F09": (4.8, 4.4),
    "F10": (4.4, 5.5),
}
COMMENTS = [
    "Bedre turnus og mulighet for større stilling.",
    "En leder som har tid til å snakke med oss.",
    "At kompetansen min blir brukt, jeg har videreutdanning som ingen spør etter.",
    "Mer faglig påfyll og kurs.",
    "Mer innflytelse på egen arbeidshverdag.",
]


@dataclass
class Inbox:
    """Captures what the outbox sends, per chat, like a phone would."""

    platform: str = PLATFORM
    messages: dict[str, list[OutgoingMessage]] = field(default_factory=dict)

    async def send(self, address: Address, message: OutgoingMessage) -> str:
        self.messages.setdefault(address.chat_id, []).append(message)
        return str(sum(len(m) for m in self.messages.values()))

    async def post_to_channel(self, message: OutgoingMessage) -> str:
        return "0"


def make_roster(engine: Conversation, rng: random.Random, now: dt.datetime) -> list[Person]:
    survey = engine.survey
    bands = {q.id: q.scale.values() for q in survey.background if q.scale}
    created = []
    with engine.db.transaction() as session:
        i = 0
        for municipality, size in SIZES.items():
            for _ in range(size):
                i += 1
                profession = rng.choices([p for p, _ in PROFESSIONS], [w for _, w in PROFESSIONS])[
                    0
                ]
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}"
                person = people.create_person(
                    session,
                    name,
                    now,
                    key=f"demo:{i}",
                    municipality=municipality,
                    profession=profession,
                    age_band=rng.choice(bands["age_band"]),
                    tenure_band=rng.choice(bands["tenure_band"]),
                    position_band=rng.choices(bands["position_band"], [1, 3, 3, 4])[0],
                    shifts=rng.choice(["1", "1", "0"]),
                    language="nb",
                )
                people.bind_address(session, person, PLATFORM, str(i), now)
                created.append(person)
    return created


def answer_for(
    message: OutgoingMessage, survey: Survey, rng: random.Random, quitter: bool
) -> ChoicePressed | TextReceived | None:
    """A plausible answer to a question: a button press, or a typed comment."""
    address = Address(PLATFORM, "")
    if message.free_text:
        if rng.random() < 0.6:
            return TextReceived(address, rng.choice(COMMENTS))
        return ChoicePressed(address, message.choices[-1].data)  # "Hopp over"
    if {c.data.rsplit(":", 1)[-1] for c in message.choices} == {"yes", "no"}:
        return _press(message, "yes" if rng.random() < 0.5 else "no")  # may we quote you?
    text = message.text
    if "slutte" in text:
        return _press(message, "1" if quitter else "0")
    if "anbefale" in text:
        return _press(message, str(min(10, max(0, round(rng.gauss(6.5, 2.2))))))
    which = 1 if "viktig" in text else 0
    centre = next((PROFILE[f.id][which] for f in survey.factors if f.text["nb"] in text), 4.0)
    return _press(message, str(min(6, max(1, round(rng.gauss(centre, 1.0))))))


def _press(message: OutgoingMessage, value: str) -> ChoicePressed:
    data = next(
        (c.data for c in message.choices if c.data.endswith(":" + value)), message.choices[0].data
    )
    return ChoicePressed(Address(PLATFORM, ""), data)


def run_demo(engine: Conversation, seed: int = 7) -> dict[str, int]:
    """Run one synthetic round end to end; returns counts for the caller to report."""
    rng = random.Random(seed)
    now = engine.clock()
    roster = make_roster(engine, rng, now)
    engine.open_round(now)
    inbox = Inbox()
    while asyncio.run(deliver_due(engine.db, {PLATFORM: inbox}, now, "demo", limit=1000)).handled:
        pass
    finished = partial = 0
    for person in roster:
        chat = str(person.key.split(":")[1])
        address = Address(PLATFORM, chat)
        roll = rng.random()
        if roll < 0.15:
            continue  # did not answer this round
        stop_after = rng.randint(1, 4) if roll < 0.22 else None
        quitter = rng.random() < (0.45 if person.profession == "sykepleier" else 0.35)
        queue = list(inbox.messages.get(chat, []))
        presses = 0
        while queue:
            message = queue.pop(0)
            if not message.choices:
                continue
            if stop_after is not None and presses >= stop_after:
                break
            action = answer_for(message, engine.survey, rng, quitter)
            if action is None:
                break
            reply = engine.handle(replace(action, address=address))
            presses += 1
            queue.extend(reply.messages)
        if stop_after is None:
            finished += 1
        else:
            partial += 1
    return {"people": len(roster), "finished": finished, "partial": partial}
