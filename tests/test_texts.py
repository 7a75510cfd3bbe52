"""The text catalogue: every key in bokmål, nynorsk and English, with the same placeholders,
and a person who picked nynorsk or English meets no bokmål in the chat."""

from __future__ import annotations

import datetime as dt
import re
import string

import pytest
import yaml
from sqlalchemy import func, select

from bot import i18n
from bot import network as net
from bot.conversation import Conversation
from bot.i18n import LANGUAGES, area_files, catalogue, t
from bot.ports import Command, OutgoingMessage, Reply
from storage.models import OutboxMessage
from storage.network_models import Gathering, Task
from tests.conftest import OSLO, add_person
from tests.pulse_helpers import answer_all


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def missing_or_different(files: dict[str, dict[str, dict[str, str]]]) -> list[str]:
    """Every key absent from a language, or with other placeholders than in bokmål."""
    problems: list[str] = []
    areas = set().union(*(set(by_area) for by_area in files.values()))
    for area in sorted(areas):
        texts = {lang: files[lang].get(area, {}) for lang in files}
        keys = set().union(*(set(v) for v in texts.values()))
        for key in sorted(keys):
            for lang, table in texts.items():
                if key not in table:
                    problems.append(f"{area or 'core'}: {key!r} missing in {lang}")
                elif placeholders(table[key]) != placeholders(texts["nb"].get(key, table[key])):
                    problems.append(f"{area or 'core'}: {key!r} has other placeholders in {lang}")
    return problems


def test_every_key_exists_in_all_three_languages_with_the_same_placeholders() -> None:
    files = {lang: area_files(lang) for lang in LANGUAGES}
    assert missing_or_different(files) == []
    assert set(files["nb"]) >= {"", "network", "cli"}
    for lang in LANGUAGES:
        assert set(catalogue(lang)) == set(catalogue("nb")), lang


def test_the_check_fails_on_a_missing_key_and_on_other_placeholders() -> None:
    files = {lang: {area: dict(v) for area, v in area_files(lang).items()} for lang in LANGUAGES}
    del files["nn"]["network"]["net_done"]
    files["en"][""]["progress"] = "{n} of {all}"
    assert missing_or_different(files) == [
        "core: 'progress' has other placeholders in en",
        "network: 'net_done' missing in nn",
    ]


def test_a_missing_text_is_an_error_not_bokmal(monkeypatch: pytest.MonkeyPatch) -> None:
    nn = dict(catalogue("nn"))
    del nn["skip"]
    # t() reads the key's own area first, then the whole catalogue: neither has it.
    monkeypatch.setattr(i18n, "area_texts", lambda lang, area: nn if lang == "nn" else {})
    monkeypatch.setattr(i18n, "catalogue", lambda lang: nn if lang == "nn" else {})
    with pytest.raises(KeyError, match="'skip' in 'nn'"):
        t("nn", "skip")


def test_each_file_is_valid_yaml_of_plain_strings() -> None:
    from importlib import resources

    for entry in resources.files("bot.texts").iterdir():
        if entry.name.endswith(".yaml"):
            data = yaml.safe_load(entry.read_text("utf-8"))
            assert isinstance(data, dict) and data, entry.name
            assert all(isinstance(v, str) and v.strip() for v in data.values()), entry.name


# --------------------------------------------------------------------------- no bokmål

# Words that are bokmål and never nynorsk (nynorsk: eg, ikkje, kva, utan, namn, lagra, ...).
BOKMAL_ONLY = {
    "jeg", "ikke", "hva", "hvis", "hvilket", "hvor", "uten", "navn", "navnet", "lagret",
    "lagres", "svarene", "noen", "mye", "ennå", "allerede", "nå", "bare", "fra",
    "ett", "et", "kommer", "påminnelse", "påminnelser", "påminnelsen", "oppgaven",
    "oppgaver", "samlinger", "hjelpen", "dere", "deres", "finnes", "tilbakemeldinger",
    "spørsmålene", "knappene", "meldingen", "opplysningene", "pulsene", "vært", "være",
    "sted", "velg", "fant", "lenken", "prosjektleder", "jobbet", "utsett",
}  # fmt: skip
# Words that are Norwegian (either form) and never English.
NORWEGIAN = {
    "og", "ikke", "ikkje", "jeg", "eg", "du", "er", "på", "til", "svar", "svaret", "takk",
    "hei", "ingen", "runde", "runden", "samling", "oppgave", "oppgåve", "påminning", "lagret",
    "lagra", "uten", "utan", "navn", "namn", "av", "om", "med", "skriv", "trykk", "frist",
}  # fmt: skip
COMMAND = re.compile(r"/\w+")


def words(messages: list[OutgoingMessage]) -> set[str]:
    """The words a person reads: texts and button labels, without command names."""
    found: set[str] = set()
    for message in messages:
        text = " ".join([message.text, *(c.label for c in message.choices)])
        found |= set(re.findall(r"\w+", COMMAND.sub(" ", text).lower()))
    return found


def seen(reply: Reply) -> list[OutgoingMessage]:
    return [*([reply.edit] if reply.edit else []), *reply.messages] + (
        [OutgoingMessage(reply.notice)] if reply.notice else []
    )


def newest(engine: Conversation, model: type) -> str:
    """The newest row's id (PostgreSQL sequences are not reset between tests)."""
    with engine.db.transaction() as session:
        return str(session.scalar(select(func.max(model.id))))


def drive(engine: Conversation, lang: str) -> set[str]:
    """A newcomer who picked `lang` (and leads the network): onboarding, a pulse, /hjelp,
    /meg, /arbeidstid, round and network commands, and every reminder queued for the team —
    as the words they would read."""
    engine.clock.now = dt.datetime(2027, 3, 1, 9, tzinfo=dt.UTC)  # type: ignore[attr-defined]
    _, address = add_person(
        engine, "Ingrid", onboarded=False, language=lang, role="leader", team="Bodø"
    )
    add_person(engine, "Kari", language=lang, team="Bodø")
    read: list[OutgoingMessage] = list(engine.greet(address).messages)
    _, after_background = answer_all(
        engine, address, read, choose=lambda m: m.choices[0].data.split(":")[1]
    )
    read += after_background
    engine.open_round()

    def say(name: str, *args: str) -> None:
        read.extend(seen(engine.handle(Command(address, name, args))))

    pulse = engine.handle(Command(address, "puls", ())).messages
    read += pulse
    presses, last = answer_all(engine, address, pulse)
    read += last
    for name, args in [
        ("hjelp", ()),
        ("meg", ()),
        ("arbeidstid", ()),
        ("arbeidstid", ("25-26",)),
        ("arbeidstid", ("14:00-22:00",)),
        ("arbeidstid", ("standard",)),
        ("runde", ("status",)),
        ("runde", ("start",)),
        ("samling", ()),
        ("samling", ("liste",)),
        ("samling", ("ny", "Kickoff", "12.03.2027", "09:00", "Gildeskål")),
        ("samling", ("ny", "Kickoff", "bad")),
        ("oppgave", ("liste",)),
        ("oppgave", ("ny", "Slides", "frist", "05.03.2027", "alle")),
        ("oppgave", ("ny", "Slides", "frist", "05.03.2027", "Atlantis")),
    ]:
        say(name, *args)
    gathering, task = newest(engine, Gathering), newest(engine, Task)
    for name, args in [
        ("samling", ("liste",)),
        ("samling", ("flytt", gathering, "26.03.2027")),
        ("samling", ("flytt", gathering, "26.03.2027")),
        ("samling", ("webinar", gathering, "https://example.org/w")),
        ("samling", ("tema", gathering, "Turnus")),
        ("oppgave", ("status",)),
        ("oppgave", ("liste",)),
        ("oppgave", ("status", "99999")),
        ("påminn", ()),
        ("påminn", ("oppgave", task)),
        ("påminn", ("samling", gathering)),
        ("påminn", ("samling", "99999")),
        ("samling", ("avlys", gathering)),
        ("samling", ("avlys", gathering)),
        ("runde", ("slutt",)),
        ("ukjent", ()),
        ("språk", ()),
    ]:
        say(name, *args)
    engine.clock.advance(days=3)  # type: ignore[attr-defined]
    with engine.db.transaction() as session:
        net.queue_due_reminders(session, OSLO, engine.clock())
        queued = [OutgoingMessage.from_payload(row.payload) for row in session.scalars(
            select(OutboxMessage)
        )]  # fmt: skip
    assert presses >= 7 and len(queued) > 5 and len(read) > 30
    return words(read + queued)


def test_a_person_who_picked_nynorsk_reads_no_bokmal(engine: Conversation) -> None:
    seen_words = drive(engine, "nn")
    assert seen_words & BOKMAL_ONLY == set()
    assert {"eg", "svara", "utan", "namn", "ikkje"} & seen_words  # it really was nynorsk


def test_a_person_who_picked_english_reads_no_norwegian(engine: Conversation) -> None:
    seen_words = drive(engine, "en")
    # The language menu names each language in itself ("Norsk bokmål", "Nynorsk").
    assert seen_words & NORWEGIAN == set()
    assert {"your", "answers", "the"} <= seen_words


def test_bokmal_is_still_bokmal(engine: Conversation) -> None:
    seen_words = drive(engine, "nb")
    assert {"jeg", "ikke", "navn"} & seen_words


def test_language_nn_answers_in_nynorsk_and_help_mentions_it(engine: Conversation) -> None:
    _, address = add_person(engine, "Per")
    reply = engine.handle(Command(address, "språk", ("nn",)))
    assert reply.messages[0].text == "No skriv eg nynorsk."
    assert "bokmål" in engine.handle(Command(address, "hjelp", ())).messages[0].text
    assert "nynorsk" in t("nb", "help") and "nynorsk" in t("en", "help")
    assert "Ny puls" in t("nb", "pulse_intro") and "Ukens" not in t("nb", "pulse_intro")


def test_chat_texts_start_with_a_capital_letter() -> None:
    for lang in LANGUAGES:
        for area, table in area_files(lang).items():
            if area == "network":
                checked = {k: v for k, v in table.items() if k.startswith("net_") and "." in v}
            else:
                checked = {k: v for k, v in table.items() if "." in v and len(v) > 30}
            for key, text in checked.items():
                if key.startswith("ops.doctor.") and not key.startswith("ops.doctor.summary"):
                    continue  # the part after "OK     database: ", mid-line by design
                shown = text.lstrip('📅📝✅⏰ «“"(')
                if shown.startswith(("{", "beholde ")):  # a value, or the product's name
                    continue
                assert not shown[:1].islower(), f"{lang} {key}: {text[:40]}"
