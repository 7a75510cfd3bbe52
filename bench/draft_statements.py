"""Statements one typed text costs: an employee's comment, a leader's comment (no draft), and
one step of the leader's draft. Count-based, so load does not move it.

    .venv/bin/python bench/draft_statements.py
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import event

from bot.app import assemble
from bot.conversation import EngineConfig
from bot.ports import Address, Command, TextReceived
from storage import people
from storage.db import Database
from surveys.definition import load_survey

OSLO = ZoneInfo("Europe/Oslo")


def main() -> None:
    now = dt.datetime(2027, 1, 12, 8, 0, tzinfo=dt.UTC)
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{Path(folder) / 'b.db'}")
        db.upgrade()
        engine = assemble(db, load_survey(), EngineConfig(k=5, tz=OSLO), lambda: now)
        with db.transaction() as session:
            for name, role in (("Emp", "team_member"), ("Lead", "leader")):
                person = people.create_person(session, name, now, role=role, team="Bodø",
                    municipality="bodo", profession="sykepleier")  # fmt: skip
                person.onboarded_at = now
                people.bind_address(session, person, "test", name, now)
        counted = [0]
        event.listen(
            db.engine, "before_cursor_execute", lambda *a: counted.__setitem__(0, counted[0] + 1)
        )

        def cost(address: Address, text: str) -> int:
            counted[0] = 0
            engine.handle(TextReceived(address, text))
            return counted[0]

        emp, lead = Address("test", "Emp"), Address("test", "Lead")
        print("employee typed text (nothing open):", cost(emp, "hei"))
        print("leader typed text (no draft):", cost(lead, "hei"))
        if engine.commands.get("samling") is not None and hasattr(engine.routing, "drafts"):
            engine.handle(Command(lead, "samling", ("ny",)))
            print("leader draft step (title):", cost(lead, "Samling 2"))
            print("leader draft step (date):", cost(lead, "12.03.2027 09:00 Bodø"))


if __name__ == "__main__":
    main()
