"""The weekly steering-group digest: per-team task status, gatherings, participation — no names."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot import network
from bot.conversation import Conversation
from bot.digest import digest_text, queue_if_due, render_digest
from bot.ports import Command
from storage.models import OutboxMessage, Person
from surveys.digest import DigestData, RoundLine
from tests.conftest import OSLO, add_person
from tests.pulse_helpers import answer_all

TARGETS = {"slack": "C-STEER", "telegram": "-100"}
MONDAY_8 = dt.time(8, 0)


def plan_network(engine: Conversation) -> None:
    """Two teams, a gathering, a task for all teams that Bodø's Ingrid marked done."""
    for name, team in (("Ingrid Hansen", "Bodø"), ("Ola Nilsen", "Bodø"), ("Kari Berg", "Fauske")):
        add_person(engine, name, role="team_member", team=team)
    now = engine.clock()
    with engine.db.transaction() as session:
        start = dt.datetime(2027, 3, 12, 9, 0, tzinfo=OSLO)
        network.add_gathering(
            session,
            OSLO,
            now,
            "Samling 3: Fagutvikling",
            start,
            start + dt.timedelta(hours=6),
            place="Gildeskål",
        )
        task, _ = network.add_task(
            session, OSLO, now, "Forbered innlegg", dt.date(2027, 3, 5), None, None
        )
        ingrid = session.scalar(select(Person).where(Person.name == "Ingrid Hansen"))
        bodo = next(r for r in network.task_rows(session, task.id) if r.team == "Bodø")
        network.mark_done(session, now, bodo, task, ingrid)


def test_the_digest_shows_task_status_per_team_and_the_next_gathering_without_names(
    engine: Conversation, clock
) -> None:
    clock.now = dt.datetime(2027, 3, 1, 8, 0, tzinfo=OSLO).astimezone(dt.UTC)
    plan_network(engine)
    with engine.db.transaction() as session:
        text = digest_text(session, engine.survey, clock(), OSLO, "nb", 5)
    assert text.startswith("Ukeoversikt, uke 9")  # as people say it (not "2027-W09")
    assert "• Forbered innlegg (frist 05.03.2027): 1 av 2 ferdig — åpen hos Fauske" in text
    assert "Neste samling: Samling 3: Fagutvikling, 12.03.2027 09:00, Gildeskål." in text
    for name in ("Ingrid", "Ola", "Kari", "Hansen"):
        assert name not in text


def test_small_municipalities_are_not_shown_one_by_one(engine: Conversation) -> None:
    addresses = [add_person(engine, f"B{i}", municipality="bodo")[1] for i in range(8)]
    addresses += [add_person(engine, f"S{i}", municipality="steigen")[1] for i in range(6)]
    addresses += [add_person(engine, f"Be{i}", municipality="beiarn")[1] for i in range(2)]
    engine.open_round()
    for address in addresses[:7] + addresses[8:13] + addresses[14:15]:
        answer_all(engine, address, engine.handle(Command(address, "puls")).messages)
    with engine.db.transaction() as session:
        text = digest_text(session, engine.survey, engine.clock(), OSLO, "nb", 5)
    assert "• Runde 1: 13 av 16 (81 %) — pågår" in text
    assert "Per kommune (svart/invitert): Bodø 7/8." in text
    # Beiarn (1) alone is under 5; Steigen (5) is hidden too, or Beiarn = total − Bodø − Steigen.
    assert "vises ikke hver for seg: Beiarn, Steigen." in text


def test_a_round_with_few_answers_shows_no_count() -> None:
    data = DigestData(week="2027-W10", rounds=(RoundLine(2, 12, 3, True),))
    text = render_digest(data, "en", 5, {})
    assert "• Round 2: fewer than 5 of 12 (–) — ongoing" in text
    assert " 3 " not in text


def test_the_weekly_digest_is_queued_once_per_week_on_every_steering_channel(
    engine: Conversation, clock
) -> None:
    plan_network(engine)

    def run(local: dt.datetime) -> int:
        with engine.db.transaction() as session:
            return queue_if_due(
                session,
                engine.survey,
                TARGETS,
                local.astimezone(dt.UTC),
                OSLO,
                "nb",
                5,
                0,
                MONDAY_8,
            )

    assert run(dt.datetime(2027, 3, 1, 7, 59, tzinfo=OSLO)) == 0  # Monday, before 08:00
    assert run(dt.datetime(2027, 3, 1, 8, 0, tzinfo=OSLO)) == 2
    assert run(dt.datetime(2027, 3, 1, 8, 0, 30, tzinfo=OSLO)) == 0  # the job runs again
    assert run(dt.datetime(2027, 3, 4, 15, 0, tzinfo=OSLO)) == 0  # a restart later that week
    # Across the spring daylight-saving change the next post still comes at 08:00 Oslo time.
    assert run(dt.datetime(2027, 3, 29, 7, 59, tzinfo=OSLO)) == 0
    assert run(dt.datetime(2027, 3, 29, 8, 0, tzinfo=OSLO)) == 2
    with engine.db.transaction() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like("digest:%"))
        ).all()
    assert sorted(r.dedupe_key for r in rows) == [
        "digest:2027-W09:slack:0",
        "digest:2027-W09:telegram:0",
        "digest:2027-W13:slack:0",
        "digest:2027-W13:telegram:0",
    ]
    assert all(r.kind == "steering" and r.person_id is None for r in rows)
    assert {r.chat_id for r in rows} == {"C-STEER", "-100"}
