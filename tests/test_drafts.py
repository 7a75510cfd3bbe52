"""The guided form: `/samling ny` and `/oppgave ny` asked step by step, on both databases.

Nothing is stored as a gathering or task before «Lagre»; bad input gets the one-liner's own
sentence and the question again; the draft survives a restart, expires after a day, and its
buttons are one-time and the leader's own.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from bot import network as net
from bot.app import assemble
from bot.conversation import Conversation, EngineConfig
from bot.i18n import t
from bot.ports import Address, ChoicePressed, Command, OutgoingMessage, Reply, TextReceived
from storage.db import Database
from storage.network_models import Draft, Gathering, Task
from surveys.dates import latest_day
from surveys.definition import Survey
from tests.conftest import OSLO, FakeClock, add_person
from tests.pulse_helpers import last_with_choices, press


def leader(engine: Conversation, lang: str = "nb", platform: str = "test") -> Address:
    add_person(engine, "Ingrid Hansen", role="team_member", team="Bodø")
    add_person(engine, "Kari Berg", role="team_member", team="Fauske")
    _, address = add_person(
        engine, "Christel Kjerran", role="leader", language=lang, platform=platform
    )
    return address


def command(engine: Conversation, address: Address, line: str) -> Reply:
    name, *args = line.split()
    return engine.handle(Command(address, name.lstrip("/"), tuple(args)))


def say(engine: Conversation, address: Address, text: str) -> Reply:
    return engine.handle(TextReceived(address, text))


def texts(reply: Reply) -> list[str]:
    return [m.text for m in reply.messages]


def asked(reply: Reply) -> OutgoingMessage:
    """The question the reply ends with (it always carries at least «Avbryt»)."""
    message = last_with_choices(reply.messages)
    assert message is not None, texts(reply)
    return message


def count(engine: Conversation, model: type) -> int:
    with engine.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def gatherings(engine: Conversation) -> list[Gathering]:
    with engine.db.transaction() as session:
        rows = list(session.scalars(select(Gathering)))
        session.expunge_all()
    return rows


def tasks(engine: Conversation) -> list[Task]:
    with engine.db.transaction() as session:
        rows = list(session.scalars(select(Task)))
        session.expunge_all()
    return rows


def test_a_gathering_step_by_step_with_every_slip_answered(engine: Conversation) -> None:
    me = leader(engine)
    first = command(engine, me, "/samling ny")
    assert texts(first)[0] == t("nb", "draft_g_start")
    assert asked(first).text == t("nb", "draft_g_ask_title")
    assert [c.label for c in asked(first).choices] == ["Avbryt"]
    too_long = say(engine, me, "x" * 201)
    assert texts(too_long)[0] == t("nb", "ops.title_bad", max=200)
    assert asked(too_long).text == t("nb", "draft_g_ask_title")  # asked again
    assert "Når er den?" in asked(say(engine, me, "Samling 2: Turnus")).text
    no_day = say(engine, me, "31.02")
    latest = net.fmt_day(latest_day(dt.date(2027, 1, 12)), "nb")
    assert texts(no_day)[0] == t("nb", "day_date_no_such_day", got="31.02", latest=latest)
    assert "31.02" in texts(no_day)[0] and "Når er den?" in asked(no_day).text
    past = say(engine, me, "01.01.2027 09:00")
    assert "01.01.2027" in texts(past)[0] and "Når er den?" in asked(past).text
    no_time = say(engine, me, "12. mars")
    assert texts(no_time)[0] == t("nb", "day_time_missing", got="12. mars")
    typo = say(engine, me, "nesten tirsdag 10")
    assert texts(typo)[0].startswith("Jeg forstod ikke datoen")
    assert asked(say(engine, me, "neste tirsdag 10:00-14:00")).text == t("nb", "draft_g_ask_place")
    assert count(engine, Gathering) == 0
    theme = asked(say(engine, me, "Bodø rådhus"))
    assert [c.label for c in theme.choices] == ["Hopp over", "Avbryt"]
    programme = asked(press(engine, me, theme, "skip"))
    assert programme.text == t("nb", "draft_g_ask_programme")
    card = asked(say(engine, me, "09:00 Velkommen\n10:00 Turnus i praksis"))
    assert "«Samling 2: Turnus»" in card.text and "Bodø rådhus" in card.text
    assert "tirsdag 19. januar 2027" in card.text and "14:00" in card.text
    assert [c.label for c in card.choices] == ["Lagre", "Avbryt"]
    assert count(engine, Gathering) == 0  # nothing before «Lagre»
    saved = press(engine, me, card, "save")
    assert saved.edit is not None and saved.edit.text.endswith("→ Lagre")
    assert texts(saved)[0].startswith("Samling 1 «Samling 2: Turnus» er lagt inn tirsdag 19.")
    (g,) = gatherings(engine)
    assert (g.place, g.theme, g.end_given) == ("Bodø rådhus", None, True)
    assert g.programme == "09:00 Velkommen 10:00 Turnus i praksis"
    assert count(engine, Draft) == 0
    assert texts(say(engine, me, "ja")) == [t("nb", "nothing_to_do")]  # the form is over


def test_a_title_given_with_the_command_and_the_place_with_the_date(engine: Conversation) -> None:
    me = leader(engine)
    reply = command(engine, me, "/samling ny Samling 3")
    assert "Når er den?" in asked(reply).text
    theme = asked(say(engine, me, "12.03.2027 09:00 Bodø"))  # the place came along
    assert theme.text == t("nb", "draft_g_ask_theme")
    assert asked(say(engine, me, "Turnus")).text == t("nb", "draft_g_ask_programme")
    card = asked(say(engine, me, "hopp over"))
    assert "Tema: Turnus" in card.text and "Bodø" in card.text
    assert texts(say(engine, me, "kanskje"))[0] == t("nb", "draft_confirm_how")
    assert texts(say(engine, me, "ja"))[0].startswith("Samling 1 «Samling 3» er lagt inn")
    (g,) = gatherings(engine)
    assert (g.title, g.place, g.theme, g.end_given) == ("Samling 3", "Bodø", "Turnus", False)
    # The one-liner is unchanged.
    one = command(engine, me, '/samling ny "Samling 4" 13.03.2027 09:00 Fauske')
    assert texts(one)[0].startswith("Samling 2 «Samling 4» er lagt inn")
    assert count(engine, Draft) == 0


def test_cancel_at_any_step_stores_nothing(engine: Conversation) -> None:
    me = leader(engine)
    for steps in (
        [],
        ["Samling"],
        ["Samling", "i morgen 10:00"],
        ["Samling", "i morgen 10:00", "Bodø"],
    ):
        command(engine, me, "/samling ny")
        for line in steps:
            say(engine, me, line)
        assert texts(say(engine, me, "Avbryt")) == [t("nb", "draft_cancelled")]
        assert count(engine, Draft) == 0
    command(engine, me, "/samling ny Samling")
    card = asked(say(engine, me, "i morgen 10:00 Bodø"))
    card = asked(press(engine, me, card, "skip"))
    card = asked(press(engine, me, card, "skip"))
    assert texts(press(engine, me, card, "cancel")) == [t("nb", "draft_cancelled")]
    command(engine, me, "/samling ny Samling")
    no = say(engine, me, "nei")  # only the card's "nei" cancels; here it is no date
    assert texts(no)[0].startswith("Jeg forstod ikke datoen «nei»")
    assert "Når er den?" in asked(no).text and count(engine, Draft) == 1
    assert count(engine, Gathering) == 0


def test_the_draft_survives_a_restart_and_expires_after_a_day(
    db: Database, survey: Survey, clock: FakeClock
) -> None:
    engine = assemble(db, survey, EngineConfig(k=5, tz=OSLO), clock)
    me = leader(engine)
    command(engine, me, "/samling ny Samling 5")
    restarted = assemble(db, survey, EngineConfig(k=5, tz=OSLO), clock)
    assert asked(say(restarted, me, "i morgen 10:00")).text == t("nb", "draft_g_ask_place")
    clock.advance(hours=25)
    assert texts(say(restarted, me, "Bodø")) == [t("nb", "nothing_to_do")]
    assert count(restarted, Draft) == 0


def test_a_new_draft_replaces_the_old_and_old_buttons_change_nothing(
    engine: Conversation,
) -> None:
    me = leader(engine)
    command(engine, me, "/samling ny Samling 6")
    old = asked(say(engine, me, "i morgen 10:00 Bodø"))
    again = command(engine, me, "/samling ny")
    assert texts(again)[0] == t("nb", "draft_replaced", title="Samling 6")
    assert press(engine, me, old, "skip").notice == t("nb", "already_answered")
    assert asked(say(engine, me, "Samling 7")).text.startswith("Når er den?")


def test_forged_foreign_and_replayed_presses_change_nothing(engine: Conversation) -> None:
    me = leader(engine)
    _, other = add_person(engine, "Leder To", role="leader")
    command(engine, me, "/samling ny Samling 8")
    card = asked(say(engine, me, "i morgen 10:00 Bodø"))
    card = asked(say(engine, me, "-"))
    card = asked(say(engine, me, "-"))
    save = next(c.data for c in card.choices if c.data.endswith(":save"))
    token = save.partition(":")[0]
    assert engine.handle(ChoicePressed(other, save)).notice == t("nb", "stale_button")
    assert engine.handle(ChoicePressed(me, "x" * 16 + ":save")).notice == t("nb", "stale_button")
    assert engine.handle(ChoicePressed(me, token + ":t9")).edit is not None  # not a team step
    assert count(engine, Gathering) == 0
    # the bad value used the token up: the card is asked again by typing
    assert texts(say(engine, me, "lagre"))[0].startswith("Samling 1 «Samling 8»")
    assert engine.handle(ChoicePressed(me, save)).notice == t("nb", "already_answered")
    assert count(engine, Gathering) == 1


def test_only_leaders_start_a_draft(engine: Conversation) -> None:
    _, member = add_person(engine, "Ingrid Hansen", role="team_member", team="Bodø")
    refused = t("nb", "not_allowed") + " " + t("nb", "leader_see_own")
    assert texts(command(engine, member, "/samling ny")) == [refused]
    assert texts(command(engine, member, "/oppgave ny")) == [refused]
    assert count(engine, Draft) == 0


def test_a_task_step_by_step_with_team_buttons_and_the_default_due(
    engine: Conversation, clock: FakeClock
) -> None:
    me = leader(engine)
    command(engine, me, '/samling ny "Samling 2" 12.03.2027 09:00 Bodø')
    first = command(engine, me, "/oppgave ny")
    assert asked(first).text == t("nb", "draft_t_ask_title")
    team = asked(say(engine, me, "Kartlegg turnusønsker"))
    assert [c.label for c in team.choices] == ["Bodø", "Fauske", "Alle lag", "Avbryt"]
    unknown = say(engine, me, "Bodo")
    assert texts(unknown)[0].startswith("Kjenner ikke laget «Bodo»")
    due = asked(press(engine, me, asked(unknown), "t0"))
    assert "torsdag 11. mars 2027, dagen før samlingen «Samling 2»" in due.text
    assert [c.label for c in due.choices] == ["Standard", "Avbryt"]
    yesterday = say(engine, me, "i går")
    assert texts(yesterday)[0] == t("nb", "day_date_past", got="i går", latest="-")
    assert "Når er fristen?" in asked(yesterday).text
    description = asked(press(engine, me, asked(yesterday), "default"))
    assert description.text == t("nb", "draft_t_ask_description")
    card = asked(say(engine, me, "Spør alle på laget."))
    assert "For Bodø, frist torsdag 11. mars 2027" in card.text
    assert count(engine, Task) == 0
    done = say(engine, me, "Ja")
    assert texts(done)[0].startswith("Oppgave 1 «Kartlegg turnusønsker» for Bodø, frist torsdag")
    (task,) = tasks(engine)
    assert (task.team, task.due_on, task.description) == (
        "Bodø",
        dt.date(2027, 3, 11),
        "Spør alle på laget.",
    )


def test_a_task_for_all_teams_with_a_typed_date(engine: Conversation) -> None:
    me = leader(engine)
    command(engine, me, "/oppgave ny Plan")
    due = asked(say(engine, me, "alle"))
    assert "om 14 dager (ingen samling er planlagt)" in due.text
    past = say(engine, me, "11.01.2027")
    assert "11.01.2027" in texts(past)[0]
    extra = say(engine, me, "neste fredag Bodø")
    assert texts(extra)[0].startswith("Jeg forstod ikke datoen")
    card = asked(say(engine, me, "skip"))  # not optional: no date, asked again
    assert "Når er fristen?" in card.text
    card = asked(say(engine, me, "neste fredag"))
    card = asked(say(engine, me, "hopp over"))
    assert "For alle lag, frist fredag 15. januar 2027" in card.text
    say(engine, me, "lagre")
    (task,) = tasks(engine)
    assert (task.team, task.due_on, task.description) == (None, dt.date(2027, 1, 15), None)


@pytest.mark.parametrize(
    ("lang", "date", "skip", "saved"),
    [
        ("nn", "neste tysdag 10:00", "hopp over", "Samling 1 «Samling» er lagd inn"),
        ("en", "next tuesday 10:00", "skip", "Gathering 1 “Samling” added"),
    ],
)
def test_the_form_in_nynorsk_and_english(
    engine: Conversation, lang: str, date: str, skip: str, saved: str
) -> None:
    me = leader(engine, lang)
    first = command(engine, me, "/samling ny")
    assert texts(first)[0] == t(lang, "draft_g_start")
    say(engine, me, "Samling")
    say(engine, me, date)
    say(engine, me, "Bodø")
    say(engine, me, skip)
    card = asked(say(engine, me, skip))
    assert card.text.startswith(t(lang, "draft_g_preview", card="").split("\n")[0])
    assert [c.label for c in card.choices] == [
        t(lang, "draft_btn_save"),
        t(lang, "draft_btn_cancel"),
    ]
    done = texts(say(engine, me, "yes" if lang == "en" else "ja"))[0]
    assert done.startswith(saved.split("«")[0].split("“")[0])
    assert count(engine, Gathering) == 1


def free_text_question(engine: Conversation, me: Address) -> OutgoingMessage:
    """Press through the leader's pulse until its free-text question is asked."""
    engine.open_round()
    messages = engine.handle(Command(me, "puls")).messages
    for _ in range(40):
        message = last_with_choices(messages)
        assert message is not None
        if message.free_text:
            return message
        messages = press(engine, me, message, message.choices[0].data.split(":")[1]).messages
    raise AssertionError("no free-text question")


def test_a_pulse_question_asked_after_the_draft_gets_the_text_then_the_draft_asks_again(
    engine: Conversation, clock: FakeClock
) -> None:
    me = leader(engine)
    command(engine, me, "/samling ny")
    clock.advance(minutes=1)
    free_text_question(engine, me)
    clock.advance(minutes=1)
    reply = say(engine, me, "Bedre turnus")
    assert texts(reply)[0] == t("nb", "text_saved")
    assert t("nb", "draft_back") not in texts(reply)  # "may we quote you?" waits first
    reply = say(engine, me, "nei")  # answers the consent question, not the draft
    assert t("nb", "draft_back") in texts(reply)
    assert asked(reply).text == t("nb", "draft_g_ask_title")
    assert count(engine, Draft) == 1
    assert "Når er den?" in asked(say(engine, me, "Samling 9")).text


def test_a_draft_started_after_a_pulse_question_gets_the_text_first(
    engine: Conversation, clock: FakeClock
) -> None:
    me = leader(engine)
    free_text_question(engine, me)
    clock.advance(minutes=1)
    command(engine, me, "/samling ny")
    assert "Når er den?" in asked(say(engine, me, "Samling 10")).text
    assert texts(say(engine, me, "avbryt")) == [t("nb", "draft_cancelled")]
    assert texts(say(engine, me, "Bedre turnus"))[0] == t("nb", "text_saved")  # the pulse again


@pytest.mark.parametrize("platform", ["console", "telegram", "slack", "teams"])
def test_the_form_on_every_platform_s_path(engine: Conversation, platform: str) -> None:
    me = leader(engine, platform=platform)
    command(engine, me, "/samling ny Samling")
    card = asked(say(engine, me, "i morgen 10:00 Bodø"))
    card = asked(press(engine, me, card, "skip"))
    card = asked(press(engine, me, card, "skip"))
    assert texts(press(engine, me, card, "save"))[0].startswith("Samling 1 «Samling»")
    assert count(engine, Gathering) == 1


def test_the_console_chat_end_to_end(engine: Conversation) -> None:
    from bot.transports.console import ConsoleTransport

    screen: list[str] = []
    console = ConsoleTransport(screen.append)
    me = leader(engine, platform="console")

    def typed(line: str) -> None:
        event = console.parse(me, line)
        assert event is not None
        console.show_reply(engine.handle(event))

    for line in ["/samling ny", "Samling 2", "neste tirsdag 10:00-14:00", "Bodø", "hopp over"]:
        typed(line)
    typed("-")
    assert "Lagre" in screen[-1]
    typed("lagre")  # the button's label, typed
    assert any(line.startswith("Samling 1 «Samling 2» er lagt inn") for line in screen)
    assert count(engine, Gathering) == 1


def test_no_teams_no_task_form_and_a_demoted_leader_s_draft_answers_nothing(
    engine: Conversation,
) -> None:
    from storage.models import Person

    _, me = add_person(engine, "Christel Kjerran", role="leader")
    assert texts(command(engine, me, "/oppgave ny")) == [t("nb", "net_no_teams")]
    assert count(engine, Draft) == 0
    title = asked(command(engine, me, "/samling ny"))
    with engine.db.transaction() as session:
        person = session.scalars(select(Person).where(Person.name == "Christel Kjerran")).one()
        person.role = "team_member"
    assert texts(say(engine, me, "Samling 11")) == [t("nb", "nothing_to_do")]
    assert press(engine, me, title, "cancel").edit == OutgoingMessage(t("nb", "draft_gone"))


def test_a_long_programme_is_kept_whole_but_shown_short_on_the_card(engine: Conversation) -> None:
    me = leader(engine)
    command(engine, me, "/samling ny Samling 12")
    say(engine, me, "i morgen 10:00 Bodø")
    say(engine, me, "-")
    too_long = say(engine, me, "p" * 4001)
    assert texts(too_long)[0] == t("nb", "draft_too_long", max=4000)
    card = asked(say(engine, me, "p" * 4000))
    assert len(card.text) < 1000 and card.text.count("p" * 299 + "…") == 1
    say(engine, me, "ja")
    (g,) = gatherings(engine)
    assert g.programme == "p" * 4000


def test_a_team_button_names_the_team_it_showed_even_if_teams_changed(
    engine: Conversation,
) -> None:
    me = leader(engine)
    command(engine, me, "/oppgave ny Plan")
    team = asked(say(engine, me, ""))  # nothing typed: asked again
    assert [c.label for c in team.choices][:2] == ["Bodø", "Fauske"]
    add_person(engine, "Anne Aas", role="team_member", team="Alstahaug")  # sorts first
    press(engine, me, team, "t0")
    say(engine, me, "standard")
    say(engine, me, "-")
    say(engine, me, "ja")
    (task,) = tasks(engine)
    assert task.team == "Bodø"


def test_on_teams_a_title_that_begins_with_a_command_word_is_the_answer(
    engine: Conversation,
) -> None:
    """Teams users type commands without a slash; "Samling 2: Turnus" typed as the title
    ran `/samling 2:` and showed the usage line (seen by helper "samling")."""
    from bot.transports.teams import command_of

    me = leader(engine, platform="teams")

    def typed(line: str) -> Reply:
        return engine.handle(command_of(engine, me, line) or TextReceived(me, line))

    assert asked(typed("samling ny")).text.startswith("Hva skal samlingen hete?")
    assert "Når er den?" in asked(typed("Samling 2: Turnus")).text
    asked(typed("i morgen 10:00"))
    asked(typed("oppgave-rommet"))  # the place
    assert texts(typed("avbryt")) == [t("nb", "draft_cancelled")]
    # With nothing awaited, the same words are the command again.
    listed = texts(typed("samling liste"))
    assert listed == texts(command(engine, me, "/samling liste"))
    assert count(engine, Gathering) == 0
