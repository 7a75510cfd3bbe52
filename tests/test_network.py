"""The learning network: gatherings, tasks, reminders and their buttons, on both databases.

Time is a FakeClock; "the scheduler" here is `queue_due_reminders` called as the clock moves,
which is exactly what the APScheduler job does.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import network as net
from bot.conversation import Conversation
from bot.ports import Address, ChoicePressed, Command, OutgoingMessage
from storage.models import OutboxMessage, Person
from storage.network_models import Gathering, Reminder, Task, TaskTeam
from tests.conftest import FakeClock, add_person

OSLO = ZoneInfo("Europe/Oslo")


def oslo(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=OSLO).astimezone(dt.UTC)


@pytest.fixture
def team(engine: Conversation) -> dict[str, Address]:
    """A leader, two in Bodø (one is the union representative) and one in Fauske."""
    people = {}
    for name, team_name, role in [
        ("Christel Kjerran", None, "leader"),
        ("Ingrid Hansen", "Bodø", "team_member"),
        ("Elin Nedregaard", "Bodø", "union_rep"),
        ("Kari Berg", "Fauske", "team_member"),
    ]:
        fields = {"role": role}
        if team_name:
            fields["team"] = team_name
        _, address = add_person(engine, name, **fields)
        people[name.split()[0]] = address
    return people


def say(engine: Conversation, address: Address, line: str) -> list[str]:
    name, *args = line.split()
    reply = engine.handle(Command(address, name, tuple(args)))
    return [m.text for m in reply.messages]


def outbox_rows(engine: Conversation, prefix: str = "") -> list[OutboxMessage]:
    with engine.db.transaction() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if prefix:
            query = query.where(OutboxMessage.dedupe_key.like(prefix + "%"))
        rows = list(session.scalars(query))
        session.expunge_all()
    return rows


def last_id(engine: Conversation, model: type) -> int:
    """The newest row's id (PostgreSQL sequences are not reset between tests)."""
    with engine.db.transaction() as session:
        return max(session.scalars(select(model.id)))


def person_id(engine: Conversation, name: str) -> int:
    with engine.db.transaction() as session:
        return session.scalars(select(Person.id).where(Person.name == name)).one()


def tick(engine: Conversation, clock: FakeClock) -> int:
    with engine.db.transaction() as session:
        return net.queue_due_reminders(session, OSLO, clock.now)[1]


def run_until(engine: Conversation, clock: FakeClock, until: dt.datetime, step: dt.timedelta):
    """Move the clock in steps, ticking each time; returns {chat: [(local time, text)]}."""
    seen: dict[str, list[tuple[dt.datetime, str]]] = {}
    done = {row.id for row in outbox_rows(engine, "rem:")}  # only what comes from now on
    while clock.now < until:
        clock.now = min(clock.now + step, until)
        tick(engine, clock)
        for row in outbox_rows(engine, "rem:"):
            if row.id not in done and row.dedupe_key.endswith(":0") and row.status != "dropped":
                done.add(row.id)
                seen.setdefault(row.chat_id, []).append(
                    (clock.now.astimezone(OSLO), row.payload["text"])
                )
    return seen


def test_leader_plans_a_gathering_and_the_whole_reminder_plan_follows(
    engine: Conversation, clock: FakeClock, team: dict[str, Address]
) -> None:
    reply = say(
        engine, team["Christel"], 'samling ny "Samling 3: Fagutvikling" 12.03.2027 09:00 Gildeskål'
    )
    number = last_id(engine, Gathering)
    assert (
        f"Samling {number} «Samling 3" in reply[0] and "fredag 12. mars 2027 kl. 09:00" in reply[0]
    )
    assert "9 påminnelser" in reply[0]  # 3 team members × (14 days, 2 days, the morning)
    with engine.db.transaction() as session:
        g = session.scalars(select(Gathering)).one()
        assert g.starts_at == oslo(2027, 3, 12, 9, 0)
        fires = sorted({(r.step, r.fire_at) for r in session.scalars(select(Reminder))})
    assert fires == [
        ("d0", oslo(2027, 3, 12, 8, 0)),  # the morning, at the start of working hours
        ("d14", oslo(2027, 2, 26, 9, 0)),
        ("d2", oslo(2027, 3, 10, 9, 0)),
    ]
    seen = run_until(engine, clock, oslo(2027, 3, 13, 0, 0), dt.timedelta(hours=1))
    ingrid = seen["Ingrid Hansen"]
    assert [when.strftime("%d.%m %H:%M") for when, _ in ingrid] == [
        "26.02 09:00",
        "10.03 09:00",
        "12.03 08:00",
    ]
    assert "om 14 dager" in ingrid[0][1] and "Gildeskål" in ingrid[0][1]
    assert "i dag" in ingrid[2][1]


def test_gathering_reminder_lists_the_teams_open_tasks_with_buttons(
    engine: Conversation, clock: FakeClock, team: dict[str, Address]
) -> None:
    say(engine, team["Christel"], "samling ny Samling 3 12.03.2027 09:00 Gildeskål")
    reply = say(engine, team["Christel"], 'oppgave ny "Forbered innlegg" frist 05.03.2027 Bodø')
    assert f"Oppgave {last_id(engine, Task)} «Forbered" in reply[0] and "Bodø" in reply[0]
    clock.now = oslo(2027, 2, 26, 9, 0)
    tick(engine, clock)
    rows = [r for r in outbox_rows(engine, "rem:") if r.chat_id == "Ingrid Hansen"]
    texts = [r.payload["text"] for r in rows]
    assert any("Forbered innlegg" in t for t in texts)
    task_row = next(r for r in rows if "Forbered innlegg" in r.payload["text"])
    labels = [label for label, _ in task_row.payload["choices"]]
    assert labels == ["Ferdig", "Utsett"]
    kari = [r.payload["text"] for r in outbox_rows(engine, "rem:") if r.chat_id == "Kari Berg"]
    assert kari and not any("Forbered innlegg" in t for t in kari)  # not Fauske's task


def test_moving_a_gathering_replans_and_tells_each_member_once(
    engine: Conversation, clock: FakeClock, team: dict[str, Address]
) -> None:
    say(engine, team["Christel"], "samling ny Samling 3 12.03.2027 09:00 Bodø")
    g = last_id(engine, Gathering)
    reply = say(engine, team["Christel"], f"samling flytt {g} 26.03.2027")
    assert "26. mars 2027 kl. 09:00" in reply[0] and "3 har fått beskjed" in reply[0]
    again = say(engine, team["Christel"], f"samling flytt {g} 26.03.2027")  # the same twice
    assert "ingenting er endret" in again[0]
    moved = [r for r in outbox_rows(engine, f"g:{g}:moved:")]
    assert len(moved) == 3
    with engine.db.transaction() as session:
        old = session.scalars(select(Reminder).where(Reminder.key.like(f"g:{g}:v1:%"))).all()
        new = session.scalars(select(Reminder).where(Reminder.key.like(f"g:{g}:v2:%"))).all()
        assert {r.status for r in old} == {"cancelled"}
        assert {r.status for r in new} == {"planned"}
        assert min(r.fire_at for r in new) == oslo(2027, 3, 12, 9, 0)
    clock.now = oslo(2027, 3, 1, 0, 0)
    seen = run_until(engine, clock, oslo(2027, 3, 27), dt.timedelta(hours=1))
    times = [w.strftime("%d.%m %H:%M") for w, _ in seen["Ingrid Hansen"]]
    assert times == ["12.03 09:00", "24.03 09:00", "26.03 08:00"]  # nothing from the old date


def test_cancelling_withdraws_reminders_and_a_queued_unsent_one(
    engine: Conversation, clock: FakeClock, team: dict[str, Address]
) -> None:
    say(engine, team["Christel"], "samling ny Samling 3 12.03.2027 09:00 Bodø")
    clock.now = oslo(2027, 2, 26, 9, 0)
    tick(engine, clock)
    assert {r.status for r in outbox_rows(engine, "rem:")} == {"pending"}
    g = last_id(engine, Gathering)
    reply = say(engine, team["Christel"], f"samling avlys {g}")
    assert "avlyst" in reply[0]
    assert {r.status for r in outbox_rows(engine, "rem:")} == {"dropped"}
    assert len(outbox_rows(engine, f"g:{g}:cancelled")) == 3
    seen = run_until(engine, clock, oslo(2027, 3, 13), dt.timedelta(hours=6))
    assert seen == {}


def test_webinar_keeps_reminders_and_shows_the_link(
    engine: Conversation, clock: FakeClock, team: dict[str, Address]
) -> None:
    say(engine, team["Christel"], "samling ny Samling 3 12.03.2027 09:00 Gildeskål")
    g = last_id(engine, Gathering)
    reply = say(engine, team["Christel"], f"samling webinar {g} https://example.no/webinar")
    assert "webinar" in reply[0]
    clock.now = oslo(2027, 3, 10, 9, 0)
    tick(engine, clock)
    texts = [r.payload["text"] for r in outbox_rows(engine, "rem:")]
    assert texts and all("https://example.no/webinar" in t for t in texts)


def press(engine: Conversation, chat: str, row: OutboxMessage, label: str):
    data = next(d for lab, d in row.payload["choices"] if lab == label)
    return engine.handle(ChoicePressed(Address("test", chat), data))


def test_done_stops_the_tasks_reminders_for_the_whole_team_and_tells_the_team(
    engine: Conversation, clock: FakeClock, team: dict[str, Address]
) -> None:
    say(engine, team["Christel"], 'oppgave ny "Forbered innlegg" frist 05.03.2027 alle')
    clock.now = oslo(2027, 2, 26, 9, 0)
    tick(engine, clock)
    ingrid_row = next(r for r in outbox_rows(engine, "rem:") if r.chat_id == "Ingrid Hansen")
    reply = press(engine, "Ingrid Hansen", ingrid_row, "Ferdig")
    assert reply.edit is not None and "ferdig for Bodø" in reply.edit.text
    told = outbox_rows(engine, f"t:{last_id(engine, Task)}:done:")
    assert [r.chat_id for r in told] == ["Elin Nedregaard"]
    assert "Ingrid markerte oppgaven «Forbered innlegg» som ferdig" in told[0].payload["text"]
    # Elin's pending reminder is withdrawn; Fauske's is not.
    statuses = {r.chat_id: r.status for r in outbox_rows(engine, "rem:")}
    assert statuses["Elin Nedregaard"] == "dropped" and statuses["Kari Berg"] == "pending"
    again = press(engine, "Ingrid Hansen", ingrid_row, "Utsett")
    assert again.notice  # the same message's buttons are used up
    seen = run_until(engine, clock, oslo(2027, 3, 6), dt.timedelta(hours=3))
    assert "Ingrid Hansen" not in seen and "Elin Nedregaard" not in seen
    assert len(seen["Kari Berg"]) == 2  # the day before and on the day
    status = say(engine, team["Christel"], f"oppgave status {last_id(engine, Task)}")[0]
    assert "Bodø: ✅ Ingrid Hansen" in status and "Fauske: åpen" in status


def test_snooze_reminds_again_a_day_later(
    engine: Conversation, clock: FakeClock, team: dict[str, Address]
) -> None:
    say(engine, team["Christel"], 'oppgave ny "Les rapporten" frist 05.03.2027 Fauske')
    clock.now = oslo(2027, 2, 26, 9, 0)
    tick(engine, clock)
    row = next(r for r in outbox_rows(engine, "rem:") if r.chat_id == "Kari Berg")
    reply = press(engine, "Kari Berg", row, "Utsett")
    assert reply.edit is not None and "lørdag 27. februar 2027 kl. 09:00" in reply.edit.text
    seen = run_until(engine, clock, oslo(2027, 2, 28), dt.timedelta(minutes=30))
    assert [w.strftime("%d.%m %H:%M") for w, _ in seen["Kari Berg"]] == ["27.02 09:00"]


def test_no_reminders_at_night_and_shift_workers_get_their_own_hours(
    engine: Conversation, clock: FakeClock, team: dict[str, Address]
) -> None:
    reply = say(engine, team["Kari"], "arbeidstid 14:00-22:00")
    assert "fra 14:00 til 22:00" in reply[0]
    assert "06:00 og 23:00" in say(engine, team["Kari"], "arbeidstid 22:00-06:00")[0]
    say(engine, team["Christel"], "samling ny Samling 3 12.03.2027 09:00 Bodø")
    with engine.db.transaction() as session:
        kari_id = session.scalars(select(Person.id).where(Person.name == "Kari Berg")).one()
        kari = {
            r.step: r.fire_at for r in session.scalars(select(Reminder)) if r.person_id == kari_id
        }
    assert kari["d14"] == oslo(2027, 2, 26, 14, 0)
    assert kari["d2"] == oslo(2027, 3, 10, 14, 0)
    assert "d0" not in kari  # her hours start after the gathering does
    # The service was down from the evening; it comes back at 02:00: nothing goes at night.
    clock.now = oslo(2027, 2, 27, 2, 0)
    tick(engine, clock)
    assert outbox_rows(engine, "rem:") == []
    seen = run_until(engine, clock, oslo(2027, 2, 28), dt.timedelta(minutes=15))
    for chat, items in seen.items():
        for when, _ in items:
            assert dt.time(8) <= when.time() < dt.time(20), (chat, when)


def test_missed_reminders_are_sent_once_while_relevant_and_passed_ones_dropped(
    engine: Conversation, clock: FakeClock, team: dict[str, Address]
) -> None:
    say(engine, team["Christel"], "samling ny Samling 3 12.03.2027 09:00 Bodø")
    clock.now = oslo(2027, 3, 11, 10, 0)  # down since before the 14-day and 2-day reminders
    tick(engine, clock)
    tick(engine, clock)
    rows = outbox_rows(engine, "rem:")
    per_person = {}
    for r in rows:
        per_person.setdefault(r.chat_id, set()).add(r.dedupe_key.rsplit(":", 1)[0])
    assert all(len(keys) == 1 for keys in per_person.values()) and len(per_person) == 3
    assert all("i morgen" in r.payload["text"] for r in rows if r.dedupe_key.endswith(":0"))
    clock.now = oslo(2027, 3, 13, 10, 0)  # down over the gathering: the morning one is dropped
    tick(engine, clock)
    with engine.db.transaction() as session:
        statuses = {r.step: r.status for r in session.scalars(select(Reminder))}
    assert statuses == {"d14": "dropped", "d2": "queued", "d0": "dropped"}


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Spring forward 2027-03-28: the 2-day reminder is winter time, the gathering summer.
        ((2027, 3, 29, 9, 0), ["15.03 09:00", "27.03 09:00", "29.03 08:00"]),
        # Fall back 2027-10-31.
        ((2027, 11, 1, 9, 0), ["18.10 09:00", "30.10 09:00", "01.11 08:00"]),
    ],
)
def test_daylight_saving_neither_skips_nor_doubles_a_reminder(
    engine: Conversation,
    clock: FakeClock,
    team: dict[str, Address],
    start: tuple[int, ...],
    expected: list[str],
) -> None:
    clock.now = oslo(*start) - dt.timedelta(days=20)
    when = dt.datetime(*start).strftime("%d.%m.%Y %H:%M")
    say(engine, team["Christel"], f"samling ny Samling {when} Bodø")
    seen = run_until(engine, clock, oslo(*start), dt.timedelta(minutes=20))
    got = [w.strftime("%d.%m %H:%M") for w, _ in seen["Ingrid Hansen"]]
    assert got == expected


def test_task_reminders_across_dst_are_at_nine_local(
    engine: Conversation, clock: FakeClock, team: dict[str, Address]
) -> None:
    clock.now = oslo(2027, 3, 20, 12, 0)
    say(engine, team["Christel"], 'oppgave ny "Innlegg" frist 29.03.2027 Fauske')
    seen = run_until(engine, clock, oslo(2027, 3, 30), dt.timedelta(minutes=30))
    assert [w.strftime("%d.%m %H:%M") for w, _ in seen["Kari Berg"]] == [
        "22.03 09:00",
        "28.03 09:00",
        "29.03 09:00",
    ]


def test_remind_now_says_how_many_got_it(
    engine: Conversation, clock: FakeClock, team: dict[str, Address]
) -> None:
    say(engine, team["Christel"], 'oppgave ny "Innlegg" frist 05.03.2027 alle')
    t = last_id(engine, Task)
    assert "sendt til 2 personer" in say(engine, team["Christel"], f"påminn oppgave {t} Bodø")[0]
    clock.advance(minutes=1)
    assert "sendt til 3 personer" in say(engine, team["Christel"], f"paminn oppgave {t}")[0]
    assert "Fant ingen" in say(engine, team["Christel"], "påminn samling 999999")[0]
    clock.now = oslo(2027, 1, 12, 21, 30)
    reply = say(engine, team["Christel"], f"remind task {t} Fauske")[0]
    assert "0 personer" in reply and "1 får den når arbeidstiden" in reply
    late = outbox_rows(engine, f"t:{t}:now:20270112203000")
    assert [r.not_before for r in late] == [oslo(2027, 1, 13, 8, 0)]


def test_bad_input_gets_an_example_and_changes_nothing(
    engine: Conversation, team: dict[str, Address]
) -> None:
    reply = say(engine, team["Christel"], "samling ny Samling 3 32.13.2027 09:00 Bodø")
    assert "«32.13.2027» er ingen dag i kalenderen" in reply[0]
    reply = say(engine, team["Christel"], "samling ny Samling 3 Bodø")
    assert "12.03.2027 09:00" in reply[0]
    assert (
        "Kjenner ikke laget"
        in say(engine, team["Christel"], "oppgave ny X frist 05.03.2027 Oslo")[0]
    )
    assert "Fant ingen samling" in say(engine, team["Christel"], "samling avlys 999999")[0]
    with engine.db.transaction() as session:
        assert session.scalars(select(Gathering)).all() == []
        assert session.scalars(select(TaskTeam)).all() == []


def test_team_members_are_refused_leader_commands(
    engine: Conversation, team: dict[str, Address]
) -> None:
    reply = say(engine, team["Ingrid"], "samling ny Samling 3 12.03.2027 09:00 Bodø")
    assert "bare for prosjektleder" in reply[0]
    assert "bare for prosjektleder" in say(engine, team["Ingrid"], "påminn oppgave 1")[0]


def test_norwegian_and_iso_dates(engine: Conversation, clock: FakeClock, team) -> None:
    reply = say(engine, team["Christel"], "samling ny Nettmøte i morgen 14:00 https://meet.example")
    assert "onsdag 13. januar 2027 kl. 14:00" in reply[0]
    reply = say(engine, team["Christel"], "gathering new Webinar 2027-02-03T10:00 Teams")
    assert "3. februar 2027 kl. 10:00" in reply[0]
    listed = say(engine, team["Christel"], "samling liste")[0]
    assert "https://meet.example" in listed and "Teams" in listed


def test_outgoing_messages_fit_the_port(engine: Conversation, clock: FakeClock, team) -> None:
    say(engine, team["Christel"], 'oppgave ny "Innlegg" frist 05.03.2027 alle')
    say(engine, team["Christel"], f"påminn oppgave {last_id(engine, Task)}")
    for row in outbox_rows(engine):
        message = OutgoingMessage.from_payload(row.payload)
        assert all(len(c.data) <= 40 and c.data.isascii() for c in message.choices)


def test_a_cancelled_gathering_gets_no_reminder_and_vis_shows_one_gathering(
    engine: Conversation, clock: FakeClock, team: dict[str, Address]
) -> None:
    leader = team["Christel"]
    say(engine, leader, 'samling ny "Samling 1: Oppstart" 12.03.2027 09:00 Bodø')
    first = last_id(engine, Gathering)
    say(engine, leader, 'samling ny "Samling 2: Turnus" 16.04.2027 09:00 Fauske')
    second = last_id(engine, Gathering)
    shown = say(engine, leader, f"samling vis {first}")
    assert len(shown) == 1 and "Samling 1: Oppstart" in shown[0]
    assert "Samling 2" not in shown[0]  # one gathering, not the list
    say(engine, leader, f"samling avlys {second}")
    before = len(outbox_rows(engine, ""))
    refused = say(engine, leader, f"påminn samling {second}")[0]
    assert f"Samling {second} er avlyst" in refused and "ikke sendt" in refused
    assert len(outbox_rows(engine, "")) == before  # nothing queued for anybody
    assert "Fant ingen samling" in say(engine, leader, "samling vis 999999")[0]
