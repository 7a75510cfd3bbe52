"""The buttons under a posted summary: "Lag oppgave fra prioritet 1/2/3" for the project
leader, through the engine (here) and through Telegram's fake Bot API (below)."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from bot import network as net
from bot.conversation import Conversation
from bot.dashboard.priority_buttons import offer_message
from bot.ports import Address, ChoicePressed, OutgoingMessage
from bot.summaries import SummaryOptions, compose, queue_summary
from storage.models import OutboxMessage, Person, Prompt, Round
from storage.network_models import Task, TaskTeam
from surveys.definition import Survey
from tests.conftest import OSLO, FakeClock, add_person
from tests.dashboard_support import seed_rounds
from tests.fakes.telegram_api import FakeTelegram, buttons
from tests.telegram_support import fake as fake  # the fixture


def post_round_two(engine: Conversation) -> None:
    with engine.db.transaction() as session:
        round_ = session.scalars(select(Round).where(Round.number == 2)).one()
        result = queue_summary(session, engine.survey, round_, {"console": "console"},
                               SummaryOptions(k=5), engine.clock(), "post")  # fmt: skip
    assert result.status == "queued"


def offers(engine: Conversation, chat_id: str) -> list[OutgoingMessage]:
    """The messages with priority buttons queued for one chat."""
    with engine.db.transaction() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id)
        ).all()
        out = [OutgoingMessage.from_payload(r.payload) for r in rows]
    return [m for m in out if m.choices]


def tasks(engine: Conversation) -> list[Task]:
    with engine.db.transaction() as session:
        rows = session.scalars(select(Task).order_by(Task.id)).all()
        session.expunge_all()
        return list(rows)


def press(engine: Conversation, address: Address, data: str) -> tuple[list[str], str | None]:
    reply = engine.handle(ChoicePressed(address, data))
    return [m.text for m in reply.messages], reply.notice


def leader_and_teams(engine: Conversation) -> tuple[Address, Address]:
    _, leader = add_person(engine, "Christel Kjerran", role="leader")
    _, steering = add_person(engine, "Stig Styring", role="steering")
    add_person(engine, "Ingrid Hansen", role="team_member", team="Bodø")
    add_person(engine, "Kari Berg", role="team_member", team="Fauske")
    return leader, steering


def test_the_leader_gets_one_button_per_priority_and_each_makes_one_task(
    engine: Conversation, survey: Survey, clock: FakeClock
) -> None:
    seed_rounds(engine, survey)
    leader, steering = leader_and_teams(engine)
    post_round_two(engine)

    assert offers(engine, steering.chat_id) == []  # only the leader is offered buttons
    [offer] = offers(engine, leader.chat_id)
    assert [c.label for c in offer.choices] == [
        f"Lag oppgave fra prioritet {i}" for i in range(1, len(offer.choices) + 1)
    ]
    assert len(offer.choices) >= 2
    assert "1. " in offer.text and "dagen før neste samling" in offer.text

    # No gathering planned: due in 14 days, and the leader is told why.
    first = offer.choices[0].data
    lines, notice = press(engine, leader, first)
    [task] = tasks(engine)
    assert task.due_on == dt.date(2027, 1, 26) and task.team is None
    assert task.factor_id is not None
    label = survey.factor(task.factor_id).short["nb"]
    assert task.title == f"Ta tak i {label}"
    assert f"Knyttet til prioriteten {label} fra runde 2" in lines[1]
    assert "Fristen er satt til 26.01.2027, om 14 dager" in lines[-1]
    assert notice and "Oppgave" in notice
    with engine.db.transaction() as session:
        assert session.scalars(select(TaskTeam.team).where(TaskTeam.task_id == task.id)).all()

    # The same press again, a replay, a forged token and a foreign press: nothing new.
    assert press(engine, leader, first)[1] == "Det spørsmålet har du allerede svart på."
    press(engine, leader, "AAAAAAAAAAAAAAAA:make")
    press(engine, leader, offer.choices[1].data.replace(":make", ":x"))  # own token, odd value
    press(engine, steering, first)
    press(engine, steering, offer.choices[1].data)  # not his token
    assert len(tasks(engine)) == 1

    # A gathering is planned: the second priority's task is due the day before it.
    with engine.db.transaction() as session:
        starts = dt.datetime(2027, 2, 10, 9, 0, tzinfo=OSLO).astimezone(dt.UTC)
        net.add_gathering(session, OSLO, clock(), "Samling 3", starts,
                          starts + dt.timedelta(hours=6), "Bodø", None)  # fmt: skip
    lines, _ = press(engine, leader, offer.choices[1].data)
    second = tasks(engine)[1]
    assert second.due_on == dt.date(2027, 2, 9) and second.factor_id != task.factor_id
    assert "Fristen er satt til 09.02.2027, dagen før samlingen «Samling 3»." in lines[-1]


def test_a_press_by_someone_no_longer_leader_is_refused_and_changes_nothing(
    engine: Conversation, survey: Survey
) -> None:
    seed_rounds(engine, survey)
    leader, _ = leader_and_teams(engine)
    post_round_two(engine)
    [offer] = offers(engine, leader.chat_id)
    data = offer.choices[0].data
    with engine.db.transaction() as session:
        person = session.scalars(select(Person).where(Person.name == "Christel Kjerran")).one()
        person.role = "steering"
    lines, notice = press(engine, leader, data)
    refusal = "Bare prosjektlederen kan lage oppgaver fra prioritetene. Ingenting er endret."
    assert lines == [refusal]
    assert notice == lines[0]
    assert tasks(engine) == []
    token = data.split(":")[0]
    with engine.db.transaction() as session:
        assert session.scalar(select(Prompt.used_at).where(Prompt.token == token)) is None
        person = session.scalars(select(Person).where(Person.name == "Christel Kjerran")).one()
        person.role = "leader"
    press(engine, leader, data)  # leader again: the same button still works
    assert len(tasks(engine)) == 1


def test_a_repeat_post_does_not_give_a_second_task_for_the_same_priority(
    engine: Conversation, survey: Survey, clock: FakeClock
) -> None:
    seed_rounds(engine, survey)
    leader, _ = leader_and_teams(engine)
    post_round_two(engine)
    [offer] = offers(engine, leader.chat_id)
    press(engine, leader, offer.choices[0].data)
    # The same round offered again (as a later post would): its first button finds the task.
    with engine.db.transaction() as session:
        round_ = session.scalars(select(Round).where(Round.number == 2)).one()
        summary = compose(session, engine.survey, round_, SummaryOptions(k=5), "post", clock())
        leader_person = session.scalars(select(Person).where(Person.role == "leader")).one()
        message = offer_message(session, engine.survey, summary, leader_person, clock())
    lines, _ = press(engine, leader, message.choices[0].data)
    assert "Det finnes allerede en oppgave for" in lines[0]
    assert len(tasks(engine)) == 1


def test_no_teams_yet_leaves_the_button_usable(engine: Conversation, survey: Survey) -> None:
    seed_rounds(engine, survey)
    _, leader = add_person(engine, "Christel Kjerran", role="leader")
    post_round_two(engine)
    [offer] = offers(engine, leader.chat_id)
    lines, _ = press(engine, leader, offer.choices[0].data)
    assert tasks(engine) == [] and lines
    add_person(engine, "Ingrid Hansen", role="team_member", team="Bodø")
    press(engine, leader, offer.choices[0].data)
    assert len(tasks(engine)) == 1


# --------------------------------------------------------------------------- Telegram


async def test_the_buttons_through_telegram(
    engine: Conversation, survey: Survey, fake: FakeTelegram, clock: FakeClock
) -> None:
    from bot.outbox import deliver_due
    from tests.telegram_support import roundtrip, start_bot

    seed_rounds(engine, survey)
    from storage import people

    add_person(engine, "Ingrid Hansen", role="team_member", team="Bodø")
    chat = "5001"
    with engine.db.transaction() as session:
        person = people.create_person(session, "Christel Kjerran", clock(), role="leader")
        person.onboarded_at = clock()
        people.bind_address(session, person, "telegram", chat, clock())
    bot = await start_bot(fake, engine)
    try:
        with engine.db.transaction() as session:
            round_ = session.scalars(select(Round).where(Round.number == 2)).one()
            queue_summary(session, engine.survey, round_, {"telegram": "-100777"},
                          SummaryOptions(k=5), clock(), "post")  # fmt: skip
        for _ in range(5):
            await deliver_due(engine.db, {"telegram": bot.transport}, clock(), "test")
        offer = fake.with_button(chat)
        assert offer is not None
        keys = buttons(offer)
        assert keys[0]["text"] == "Lag oppgave fra prioritet 1"
        assert fake.ok_calls("sendPhoto", "-100777")  # the summary itself went to the group
        update = fake.callback_update(chat, keys[0]["callback_data"], offer["message_id"])
        await roundtrip(bot, lambda: fake.push(update))
        await roundtrip(bot, lambda: fake.push(dict(update, update_id=update["update_id"] + 9)))
        again = fake.callback_update(chat, keys[0]["callback_data"])
        await roundtrip(bot, lambda: fake.push(again))
        assert len(tasks(engine)) == 1
        sent = [str(c.params.get("text")) for c in fake.ok_calls("sendMessage", chat)]
        assert any("Knyttet til prioriteten" in s for s in sent)
        assert any("Fristen er satt til 26.01.2027" in s for s in sent)
    finally:
        await bot.stop()


def test_the_offer_names_a_command_that_works_for_choosing_the_date(
    engine: Conversation, survey: Survey
) -> None:
    from bot.ports import Command

    seed_rounds(engine, survey)
    _, leader = add_person(engine, "Chris Leader", role="leader", language="en")
    add_person(engine, "Ingrid Hansen", role="team_member", team="Bodø")
    post_round_two(engine)
    [offer] = offers(engine, leader.chat_id)
    assert offer.choices[0].label == "Make a task from priority 1"
    typed = re.search(r"type (/task new from priority 1 due 12\.02 all) instead", offer.text)
    assert typed is not None
    name, *args = typed[1].lstrip("/").split()
    engine.handle(Command(leader, name, tuple(args)))
    [task] = tasks(engine)
    assert task.due_on == dt.date(2027, 2, 12) and task.factor_id is not None
