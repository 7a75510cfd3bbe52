"""What a person tripped on when the journeys were walked by hand (issue 14, helper G).

Each test is one slip seen in `beholde chat`, the CLI or a reminder, written before the fix.
"""

from __future__ import annotations

from bot.conversation import Conversation
from storage.network_models import Gathering
from tests import test_network
from tests.test_attendance import answers, press, two_days_before
from tests.test_network import last_id, outbox_rows, say

team = test_network.team  # the fixture: a leader, two in Bodø, one in Fauske


def test_a_moved_gathering_asks_those_who_had_answered_again(engine, clock, team) -> None:
    g, asked = two_days_before(engine, clock, team)
    press(engine, "Ingrid Hansen", asked["Ingrid Hansen"], "Ja")
    say(engine, team["Christel"], f"samling flytt {g} 26.03.2027")
    moved = {r.chat_id: r for r in outbox_rows(engine, f"g:{g}:moved:")}
    ingrid = moved["Ingrid Hansen"].payload
    assert "er flyttet til" in ingrid["text"]
    assert "Du svarte «Ja» for det gamle tidspunktet." in ingrid["text"]
    assert "Kommer du på «Samling 3»?" in ingrid["text"]
    assert [label for label, _ in ingrid["choices"]] == ["Ja", "Nei", "Digitalt"]
    # Someone who had not answered is told, not asked (they get the question two days before).
    assert not moved["Elin Nedregaard"].payload["choices"]
    reply = press(engine, "Ingrid Hansen", moved["Ingrid Hansen"], "Nei")
    assert reply.edit is not None and "Nei" in reply.edit.text
    assert [a for _, a in answers(engine)] == ["no"]


def test_a_moved_gathering_asks_again_in_english(engine, clock, team) -> None:
    from tests.conftest import add_person

    add_person(engine, "Sam Lee", team="Fauske", language="en")
    g, asked = two_days_before(engine, clock, team)
    press(engine, "Sam Lee", asked["Sam Lee"], "Online")
    say(engine, team["Christel"], f"samling flytt {g} 26.03.2027")
    sam = next(r for r in outbox_rows(engine, f"g:{g}:moved:") if r.chat_id == "Sam Lee")
    assert "You answered “Online” for the old time." in sam.payload["text"]
    assert "Are you coming" in sam.payload["text"] and sam.payload["choices"]


def test_the_telegram_menu_lists_the_members_commands_and_each_one_works(
    engine: Conversation,
) -> None:
    import re

    from bot.transports.telegram import menu

    for lang, wanted in (
        ("nb", {"samlinger", "oppgaver", "kommer", "arbeidstid"}),
        ("nn", {"samlinger", "oppgaver", "kommer"}),
        ("en", {"gatherings", "tasks", "attend", "hours"}),
    ):
        commands = menu(lang)
        names = {c.command for c in commands}
        assert wanted <= names, lang
        for c in commands:
            assert re.fullmatch(r"[a-z0-9_]{1,32}", c.command) and 3 <= len(c.description) <= 256
            assert engine.commands.get(c.command) is not None, (lang, c.command)


def test_help_names_the_commands_each_person_can_use_in_their_language(engine, team) -> None:
    from tests.conftest import add_person

    member = say(engine, team["Ingrid"], "hjelp")[0]
    for command in ("/puls", "/meg", "/slett", "/arbeidstid", "/samlinger", "/oppgaver"):
        assert command in member
    assert "/kommer N" in member and "/oppgave ferdig N" in member
    _, ola = add_person(engine, "Ola Nilsen", role="employee")  # in no team
    alone = say(engine, ola, "hjelp")[0]
    assert "/arbeidstid" in alone and "/puls" in alone
    assert "/samlinger" not in alone and "/oppgave" not in alone  # they would only refuse
    _, nils = add_person(engine, "Nils Nynorsk", role="team_member", team="Fauske", language="nn")
    nn = say(engine, nils, "hjelp")[0]
    assert "/kjem N" in nn and "/oppgave ferdig N" in nn and "oppgåve" in nn
    assert "oppgave som" not in nn and "laget ditt" in nn
    _, sam = add_person(engine, "Sam Lee", role="team_member", team="Fauske", language="en")
    en = say(engine, sam, "help")[0]
    assert "/task done N" in en and "/gatherings" in en and "/attend N" in en


def test_leaving_at_the_first_question_and_coming_back_leaves_nothing_waiting(engine) -> None:
    from bot.ports import ChoicePressed, TextReceived
    from tests.conftest import add_person

    _, ola = add_person(
        engine, "Ola Nilsen", onboarded=False, municipality="fauske", profession="annet"
    )
    engine.greet(ola)  # the chat was opened and closed before the first tap
    reply = engine.greet(ola)
    while reply.messages and reply.messages[-1].choices:
        reply = engine.handle(ChoicePressed(ola, reply.messages[-1].choices[0].data))
    assert "første pulsen" in reply.messages[-1].text
    said = engine.handle(TextReceived(ola, "1")).messages[0].text
    assert "knappene over" not in said  # no question waits any more
    assert "leser ikke fritekst" in said


def test_welcome_back_does_not_ask_for_puls_above_the_question_it_shows(engine) -> None:
    from tests.conftest import add_person

    _, kari = add_person(engine, "Kari Berg")
    _, sam = add_person(engine, "Sam Lee", language="en")
    engine.open_round()
    for who, greeting in ((kari, "Hei igjen! Dette venter på deg:"), (sam, "Hello again!")):
        messages = engine.greet(who).messages
        assert messages[0].text.startswith(greeting) and "/pulse" not in messages[0].text
        assert "/puls " not in messages[0].text and messages[-1].choices


def test_a_member_who_has_not_answered_is_not_told_to_change_the_answer(engine, team) -> None:
    say(engine, team["Christel"], "samling ny Samling 3 12.03.2027 09:00 Bodø")
    before = say(engine, team["Ingrid"], "samlinger")[0]
    assert "ikke svart ennå. Svar med /kommer" in before and "Endre med" not in before
    say(engine, team["Ingrid"], f"kommer {last_id(engine, Gathering)} ja")
    after = say(engine, team["Ingrid"], "samlinger")[0]
    assert "Ditt svar på «Kommer du?»: Ja. Endre med /kommer" in after


def test_an_english_greeting_names_the_network_in_english(engine) -> None:
    from tests.conftest import add_person

    _, sam = add_person(engine, "Sam Lee", language="en", onboarded=False)
    _, kari = add_person(engine, "Kari Berg", onboarded=False)
    english = engine.greet(sam).messages[0].text
    assert "the beholde bot of the learning network." in english
    assert "læringsnettverket" not in english
    assert "beholde-boten til læringsnettverket" in engine.greet(kari).messages[0].text


def test_english_texts_quote_with_english_quotation_marks() -> None:
    from bot.i18n import catalogue, t
    from bot.pulse_render import question_text
    from surveys.definition import load_survey

    assert not [k for k, v in catalogue("en").items() if "«" in v or "»" in v]
    factor = next(q for q in load_survey().questions.values() if q.context)
    shown = question_text(factor, "en", 1, 7)
    assert shown.startswith("(1 of 7) “") and "«" not in shown
    assert question_text(factor, "nn", 1, 7).startswith("(1 av 7) «")
    assert t("en", "walk_quoted", text="x") == "“x”"


def test_me_reads_age_under_30_not_age_capital_under_30(engine) -> None:
    from bot.ports import Command
    from tests.conftest import add_person

    _, ung = add_person(engine, "Ung Person", age_band="u30", tenure_band="10+")
    shown = engine.handle(Command(ung, "meg", ())).messages[0].text
    assert "Alder under 30" in shown and "Ansiennitet over 10 år" in shown
    _, sam = add_person(engine, "Sam Lee", age_band="u30", language="en")
    assert "Age under 30" in engine.handle(Command(sam, "me", ())).messages[0].text


def test_comments_about_posts_staffing_and_time_find_their_theme() -> None:
    from surveys.themes import classify, load_lexicon

    lexicon = load_lexicon()
    for comment in (
        "Eg vil ha fast stilling og heiltid",  # nynorsk "heiltid"
        "Vi er for få på jobb, stress hele tiden",
        "Meir tid til brukarane",
        "Mer tid til pasientene",
        "Eg er sliten etter kvar vakt",
        "More time with patients, we are understaffed",
    ):
        assert "organisering" in classify(comment, lexicon), comment
    assert classify("Lønna er for låg og eg får ikkje kurs i arbeidstida", lexicon) == [
        "lonn",
        "faglig_utvikling",
    ]


def test_a_round_with_fewer_invited_than_k_does_not_say_fewer_than_5_of_4(tmp_path) -> None:
    """Trying it with a small roster: "færre enn 5 av 4" reads as a contradiction."""
    from tests.test_roster_and_cli import EXAMPLE, app, runner

    url = {"BEHOLDE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "BEHOLDE_LOG_LEVEL": "WARNING"}
    assert runner.invoke(app, ["roster", "import", str(EXAMPLE)], env=url).exit_code == 0
    assert runner.invoke(app, ["round", "open"], env=url).exit_code == 0
    for name in ("kari berg", "sam lee"):  # two reachable (background known), none done
        runner.invoke(app, ["chat", "--as", name], input="/avslutt\n", env=url)
    for lang, never, said in (
        ("nb", "færre enn 5 av", "I alt: vises ikke (bare 2 invitert; svar vises fra 5)"),
        ("nn", "færre enn 5 av", "I alt: blir ikkje vist (berre 2 inviterte"),
        ("en", "fewer than 5 of", "In all: not shown (only 2 invited"),
    ):
        status = runner.invoke(app, ["round", "status"], env=url | {"BEHOLDE_LANGUAGE": lang})
        assert said in status.output and never not in status.output, status.output
    digest = runner.invoke(app, ["digest"], env=url).output
    assert "• Runde 1: vises ikke (2 invitert) — pågår" in digest, digest
    assert "færre enn 5 av 2" not in digest


def test_a_count_of_one_takes_the_singular() -> None:
    from bot.i18n import t

    added = t("nb", "net_gathering_added", id=3, title="X", when="i morgen", planned=1)
    assert added.endswith("1 påminnelse er planlagt.")
    moved = t("nb", "net_moved", id=3, when="fredag", told=1, planned=1)
    assert "1 ny påminnelse er planlagt" in moved
    assert "sendt til 1 person." in t("nb", "net_remind_sent", sent=1)
    assert "sendt til 11 personer." in t("nb", "net_remind_sent", sent=11)
    assert "1 påminning" in t("nn", "net_gathering_added", id=3, title="X", when="x", planned=1)
    assert "1 reminder planned" in t(
        "en", "net_gathering_added", id=3, title="X", when="x", planned=1
    )
    moved_en = t("en", "leader_task_moved", id=3, due="x", told=1, planned=1)
    assert "1 was told; 1 new reminder is planned." in moved_en
    assert "2 påminnelser" in t("nb", "net_gathering_added", id=3, title="X", when="x", planned=2)


def test_deliver_names_the_person_as_on_the_roster_however_chat_was_typed(tmp_path) -> None:
    from tests.test_roster_and_cli import EXAMPLE, app, runner

    url = {"BEHOLDE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "BEHOLDE_LOG_LEVEL": "WARNING"}
    assert runner.invoke(app, ["roster", "import", str(EXAMPLE)], env=url).exit_code == 0
    for typed in ("ingrid hansen", "INGRID  HANSEN"):
        chat = runner.invoke(app, ["chat", "--as", typed], input="/avslutt\n", env=url)
        assert chat.exit_code == 0, chat.output
    # The date quoted in the shell as one word is still a date, not a second title.
    added = runner.invoke(app, ["samling", "ny", "Samling 3", "neste tirsdag", "10:00"], env=url)
    assert "Samling 1 «Samling 3» er lagt inn tirsdag" in added.output, added.output
    place = ["samling", "ny", "Samling 4", "12.03.2027", "09:00", "Fauske rådhus"]
    assert "«Samling 4» er lagt inn fredag 12. mars 2027 kl. 09:00, Fauske rådhus" in (
        runner.invoke(app, place, env=url).output
    )
    runner.invoke(app, ["samling", "flytt", "1", "om to uker"], env=url)
    delivered = runner.invoke(app, ["deliver"], env=url).output
    assert "── Til Ingrid Hansen:" in delivered and "ingrid hansen" not in delivered
    assert delivered.count("── Til Ingrid Hansen:") == 1  # one chat, not one per spelling


def test_help_for_a_steering_member_and_an_english_leader(engine) -> None:
    from bot.ports import Command
    from tests.conftest import add_person

    _, sigrid = add_person(engine, "Sigrid Styring", role="steering", language="nn")
    shown = engine.handle(Command(sigrid, "hjelp", ())).messages[0].text
    assert "Med rolla «styringsgruppe» kan du òg bruke: /styring" in shown
    assert "/samling" not in shown and "/runde" not in shown
    _, per = add_person(engine, "Per Project", role="leader", language="en")
    help_en = engine.handle(Command(per, "help", ())).messages[0].text
    assert "/gathering" in help_en and "/task" in help_en and "/round" in help_en
    assert "/samling" not in help_en and "/oppgave" not in help_en and "/påminn" not in help_en
    for typed in ("gathering", "task", "round", "remind", "steering"):
        assert engine.commands.get(typed) is not None
    none = engine.handle(Command(per, "round", ("status",))).messages[0].text
    assert none == "No pulse round is open. Open one with /round start."


def test_nynorsk_welcome_back_is_nynorsk() -> None:
    from bot.i18n import catalogue

    nn = catalogue("nn")
    for key in ("day_welcome_back_no_round", "day_welcome_back_done", "welcome_back"):
        assert nn[key].startswith("Hei att!") and "inga open" not in nn[key]
    assert "Spør prosjektlederen" in catalogue("nb")["leader_no_team"]


def test_the_roster_takes_the_role_words_people_write() -> None:
    from surveys.definition import load_survey
    from surveys.roster import parse_roster

    text = (
        "navn;rolle;team\nA;medlem;Bodø\nB;Medlem av kommuneteamet;Bodø\n"
        "C;tillitsvalgt i kommuneteamet;Bodø\nD;styringsgruppemedlem;\n"
    )
    entries, errors = parse_roster(text, load_survey())
    assert not errors
    assert [e.role for e in entries] == ["team_member", "team_member", "union_rep", "steering"]


def test_an_unknown_language_gets_a_sentence_and_changes_nothing(engine) -> None:
    from bot.ports import Command
    from tests.conftest import add_person

    _, kari = add_person(engine, "Kari Berg", language="nn")
    reply = engine.handle(Command(kari, "språk", ("klingon",))).messages[0]
    assert reply.text.startswith("Eg kjenner ikkje språket «klingon».") and reply.choices
    assert engine.handle(Command(kari, "meg", ())).messages[0].text.startswith("Dette er lagra")
    assert "Norsk bokmål" in engine.handle(Command(kari, "språk", ())).messages[0].choices[0].label


def test_attend_from_someone_in_no_team_says_so_first(engine, team) -> None:
    from tests.conftest import add_person

    _, ola = add_person(engine, "Ola Nilsen", role="employee")
    say(engine, team["Christel"], "samling ny Samling 3 12.03.2027 09:00 Bodø")
    for line in ("kommer", "kommer 1", f"kommer {last_id(engine, Gathering)} ja"):
        assert "Du står ikke i noe lag ennå" in say(engine, ola, line)[0], line
    assert "Skriv for eksempel /kommer" in say(engine, team["Ingrid"], "kommer")[0]


# ------------------------------------------------- the guided form, walked by hand (samling)


def test_a_date_typed_again_at_the_place_question_corrects_the_date(engine) -> None:
    """Walked: the leader retyped the date at «Hvor er den?» and it became the place."""
    from tests.test_drafts import asked, command, leader, say

    me = leader(engine)
    command(engine, me, "/samling ny Samling 3")
    say(engine, me, "12. januar 2027 09:00")
    theme = asked(say(engine, me, "12. februar 09:00-15:00 Fauske"))
    assert theme.text.startswith("Tema?")
    card = asked(say(engine, me, "-"))
    card = asked(say(engine, me, "-"))
    assert "fredag 12. februar 2027" in card.text and "Fauske" in card.text
    assert "12. februar 09:00" not in card.text  # not the place
    command(engine, me, "/samling ny Samling 4")
    say(engine, me, "12. januar 2027 09:00")
    place = asked(say(engine, me, "13. januar 09:00"))  # a date alone: the place is still asked
    assert place.text.startswith("Hvor er den?")


def test_back_goes_one_step_back_and_asks_that_again(engine) -> None:
    """Walked: «tilbake» at the card was only told how to save; now it goes back a step."""
    from tests.test_drafts import asked, command, leader, say, texts

    me = leader(engine)
    command(engine, me, "/samling ny Samling 5")
    say(engine, me, "i morgen 10:00 Bodø")
    say(engine, me, "Turnus")
    say(engine, me, "-")
    again = asked(say(engine, me, "tilbake"))
    assert again.text.startswith("Program?")
    assert asked(say(engine, me, "tilbake")).text.startswith("Tema?")
    assert asked(say(engine, me, "Kompetanse")).text.startswith("Program?")
    card = asked(say(engine, me, "hopp over"))
    assert "Tema: Kompetanse" in card.text and "Turnus" not in card.text
    assert texts(say(engine, me, "nei takk")) == ["Avbrutt. Ingenting er lagret."]


def test_a_typo_in_the_date_is_answered_and_asked_again(engine) -> None:
    """Walked: «i morgn 10:00» (a typo) and «i morgen» (no time) each get a sentence."""
    from tests.test_drafts import asked, command, leader, say, texts

    me = leader(engine)
    command(engine, me, "/samling ny Samling 6")
    typo = say(engine, me, "i morgn 10:00")
    assert texts(typo)[0].startswith("Jeg forstod ikke datoen «i morgn»")
    no_time = say(engine, me, "i morgen")
    assert texts(no_time)[0].startswith("Skriv også klokkeslettet, f.eks. «i morgen 10:00»")
    assert asked(say(engine, me, "i morgen 10")).text.startswith("Hvor er den?")


def test_the_english_form_quotes_with_english_marks_and_takes_everyone(engine) -> None:
    """Walked: the English card showed «Title», and «everyone» was an unknown team."""
    from tests.test_drafts import asked, command, leader, say

    me = leader(engine, "en")
    command(engine, me, "/task new Prepare talk")
    due = asked(say(engine, me, "everyone"))
    assert due.text.startswith("When is it due?")
    say(engine, me, "default")
    card = asked(say(engine, me, "skip"))
    assert "“Prepare talk”" in card.text and "«" not in card.text
    assert "For all teams" in card.text


def test_nynorsk_spellings_of_the_plan_commands_work(engine, team) -> None:
    """Walked in nynorsk: /oppgåver and /samlingar answered «Den kommandoen kjenner eg ikkje»."""
    from tests.conftest import add_person

    _, sigrid = add_person(engine, "Sigrid Vik", team="Bodø", language="nn")
    unknown = "Den kommandoen kjenner eg ikkje"
    for typed, bokmaal in (("oppgåver", "oppgaver"), ("samlingar", "samlinger")):
        got, want = say(engine, sigrid, typed), say(engine, sigrid, bokmaal)
        assert got == want and not any(unknown in line for line in got), typed
    listed = say(engine, team["Christel"], "oppgåve liste")
    assert listed == say(engine, team["Christel"], "oppgave liste")
    assert not any("kjenner" in line for line in listed)


def test_a_task_takes_its_team_before_the_due_date_too(engine, team) -> None:
    """Walked: `/oppgave ny "Prøv byttelister" Bodø frist 20.12` said it could not read «Bodø»."""
    from storage.network_models import Task

    said = say(
        engine, team["Christel"], 'oppgave ny "Prøv byttelister" Bodø frist 20.12.2027 Se på turnus'
    )
    assert any("Prøv byttelister" in line for line in said), said
    with engine.db.transaction() as session:
        task = session.get(Task, last_id(engine, Task))
        assert task is not None
        assert (task.title, task.team, str(task.due_on)) == (
            "Prøv byttelister",
            "Bodø",
            "2027-12-20",
        )
        assert task.description == "Se på turnus"
    said = say(engine, team["Christel"], 'oppgave ny "For alle" alle frist 21.12.2027')
    with engine.db.transaction() as session:
        task = session.get(Task, last_id(engine, Task))
        assert task is not None and task.team is None and str(task.due_on) == "2027-12-21"


def test_a_terminal_command_shows_no_operator_log_lines_unless_asked(tmp_path) -> None:
    """Walked: `beholde round open` printed «INFO storage.db: migrating database …» and
    «INFO bot.conversation: round 1 opened» in English above the nynorsk answer."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "BEHOLDE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    env.pop("BEHOLDE_LOG_LEVEL", None)
    env["BEHOLDE_LANGUAGE"] = "nn"

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            env={**env, **extra}, capture_output=True, text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip

    opened = run("round", "open")
    assert opened.returncode == 0, opened.stderr
    assert "Runde 1 er open" in opened.stdout
    assert " INFO " not in opened.stdout + opened.stderr
    asked = run("round", "close", BEHOLDE_LOG_LEVEL="INFO")
    assert " INFO bot." in asked.stderr  # the operator can still have them


def test_the_saved_sentence_shows_the_end_time_that_was_given(engine, team) -> None:
    """Walked: `samling ny … 10:00-14:00` answered «lagt inn … kl. 10:00», without the end."""
    said = say(engine, team["Christel"], 'samling ny "Samling 4" 12.03.2027 10:00-14:00 Bodø')
    assert "fredag 12. mars 2027 kl. 10:00–14:00, Bodø" in said[0], said
    plain = say(engine, team["Christel"], 'samling ny "Samling 5" 19.03.2027 10:00 Bodø')
    assert "kl. 10:00, Bodø" in plain[0] and "–" not in plain[0], plain
