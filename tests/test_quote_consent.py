"""Quote only with consent (issue 14): "Kan vi sitere deg anonymt?" right after a comment.

The yes or no travels with the anonymous comment (never with the person); the summary quotes
only comments whose writers said yes, and only from a round with enough comments; every
other comment counts only in the themes — in the chat post, the terminal, the exports and
the dashboard. Runs on SQLite and PostgreSQL (the `engine` fixture).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app, common
from bot.conversation import Conversation
from bot.dashboard.figures import gather
from bot.dashboard.page import render
from bot.ports import Address, ChoicePressed, Command, OutgoingMessage, TextReceived
from bot.summaries import SummaryOptions, compose, queue_summary
from bot.summary_text import full_text
from storage import answers
from storage.models import Holding, Invitation, OutboxMessage, PendingAnswer, Person, Response
from storage.models import Round as RoundRow
from surveys.definition import Survey
from surveys.summary import build_summary
from surveys.synthetic import participation_for, survey_round
from tests.conftest import add_person
from tests.pulse_helpers import last_with_choices, press
from tests.summary_support import EXP19, IMPORTANCE
from tests.test_texts import BOKMAL_ONLY, NORWEGIAN, words

SAID_YES = "Lønna må opp for oss som jobber mest"
SAID_NO = "vaktene er tunge i helgene"  # + a number: eleven different comments


def quit_only(engine: Conversation, *person_ids: int) -> None:
    """Give each person the one-question pulse "considered quitting?" (and its comment)."""
    with engine.db.transaction() as session:
        round_ = answers.current_round(session)
        assert round_ is not None
        for person_id in person_ids:
            person = session.get(Person, person_id)
            assert person is not None
            engine.ensure_invitation(session, round_, person).plan = ["quit"]


def comment(engine: Conversation, address: Address, text: str) -> list[OutgoingMessage]:
    """/puls, "yes" to quitting, then the comment typed: the messages that follow it."""
    first = engine.handle(Command(address, "puls")).messages
    question = last_with_choices(first)
    assert question is not None
    prompt = press(engine, address, question, "1").messages[-1]
    assert prompt.free_text
    reply = engine.handle(TextReceived(address, text))
    assert reply.answered  # stored
    return reply.messages


def consent_of(engine: Conversation) -> list[tuple[str, bool]]:
    """(text, quote_ok) of every comment sealed so far, wherever it waits."""
    with engine.db.transaction() as session:
        rows = [*session.scalars(select(Holding)), *session.scalars(select(Response))]
        return sorted((r.text, r.quote_ok) for r in rows if r.text)


def one_person(engine: Conversation, name: str = "Kari", **fields: object) -> Address:
    person_id, address = add_person(engine, name, **fields)
    engine.open_round()
    quit_only(engine, person_id)
    return address


def test_the_question_follows_the_comment_and_a_yes_travels_with_it(engine) -> None:
    address = one_person(engine)
    after = comment(engine, address, SAID_YES)
    assert after[0].text.startswith("Takk")
    ask = after[-1]
    assert ask.text.startswith("Kan vi sitere deg anonymt?")
    assert [c.label for c in ask.choices] == ["Ja", "Nei"]
    assert consent_of(engine) == []  # not sealed yet: the consent belongs to the comment
    reply = press(engine, address, ask, "yes")
    assert reply.edit is not None and "Ja, du kan bli sitert uten navn" in reply.edit.text
    assert reply.messages[0].text.startswith("Takk! Svarene dine er lagret uten navn")
    assert consent_of(engine) == [(SAID_YES, True)]
    with engine.db.transaction() as session:
        assert session.scalar(select(PendingAnswer)) is None
        assert session.scalar(select(Invitation)).status == "finished"


def test_a_no_keeps_the_comment_for_the_themes_only(engine) -> None:
    address = one_person(engine)
    ask = comment(engine, address, SAID_NO)[-1]
    reply = press(engine, address, ask, "no")
    assert reply.edit is not None and "bare med i temaene" in reply.edit.text
    assert consent_of(engine) == [(SAID_NO, False)]


@pytest.mark.parametrize(
    ("typed", "lang", "expected"),
    [("ja", "nb", True), ("Nei takk!", "nb", False), ("yes", "en", True), ("nei", "nn", False),
     ("Ja takk", "nn", True), ("no", "en", False)],
)  # fmt: skip
def test_a_typed_ja_or_nei_answers_the_question(engine, typed, lang, expected) -> None:
    address = one_person(engine, language=lang)
    comment(engine, address, SAID_YES)
    reply = engine.handle(TextReceived(address, typed))
    assert reply.messages and not reply.notice
    assert consent_of(engine) == [(SAID_YES, expected)]


def test_the_question_can_be_skipped_and_silence_is_a_no(engine) -> None:
    address = one_person(engine)
    ask = comment(engine, address, SAID_YES)[-1]
    # Other text while the question waits is not taken as an answer, nor as a second comment.
    other = engine.handle(TextReceived(address, "og en ting til"))
    assert "knappene" in other.messages[0].text and consent_of(engine) == []
    moved_on = engine.handle(Command(address, "puls")).messages
    assert moved_on[0].text.startswith("Takk! Svarene dine er lagret uten navn")
    assert consent_of(engine) == [(SAID_YES, False)]
    late = press(engine, address, ask, "yes")  # the old button, pressed afterwards
    assert late.edit is None and late.notice
    assert consent_of(engine) == [(SAID_YES, False)]


def test_no_comment_no_question(engine) -> None:
    address = one_person(engine)
    first = engine.handle(Command(address, "puls")).messages
    prompt = press(engine, address, last_with_choices(first), "1").messages[-1]
    skipped = press(engine, address, prompt, "skip")
    assert skipped.messages[0].text.startswith("Takk! Svarene dine er lagret uten navn")
    assert all("sitere" not in m.text for m in skipped.messages)
    with engine.db.transaction() as session:
        assert session.scalar(select(Invitation)).status == "finished"


def test_a_round_closing_while_the_question_waits_finishes_the_pulse(engine) -> None:
    address = one_person(engine)
    comment(engine, address, SAID_YES)
    engine.close_round()
    with engine.db.transaction() as session:
        assert session.scalar(select(Invitation)).status == "finished"  # complete, not partial
        response = session.scalar(select(Response).where(Response.text.is_not(None)))
        assert response is not None and response.complete and response.quote_ok is False


def test_forged_replayed_and_foreign_presses_change_nothing(engine) -> None:
    kari = one_person(engine)
    _, ola = add_person(engine, "Ola")
    ask = comment(engine, kari, SAID_YES)[-1]
    token = ask.choices[0].data.split(":")[0]
    for data in (f"{token}:maybe", f"{token}:", "x" * 20 + ":yes", f"{token}:yes\x00"):
        reply = engine.handle(ChoicePressed(kari, data))
        assert reply.edit is None and reply.notice, data
    foreign = engine.handle(ChoicePressed(ola, f"{token}:yes"))  # someone else's button
    assert foreign.edit is None and foreign.notice
    typed_elsewhere = engine.handle(TextReceived(ola, "ja"))  # Ola has no question waiting
    assert not typed_elsewhere.answered
    assert consent_of(engine) == []  # still waiting, nothing stored either way
    assert press(engine, kari, ask, "no").edit is not None
    replayed = press(engine, kari, ask, "yes")
    assert replayed.edit is None and replayed.notice
    assert consent_of(engine) == [(SAID_YES, False)]


def test_the_question_is_nynorsk_and_english_for_those_who_chose_them(engine) -> None:
    nn = one_person(engine, "Nina", language="nn")
    en_id, en = add_person(engine, "Emma", language="en")
    quit_only(engine, en_id)
    nn_seen = comment(engine, nn, SAID_NO)
    nn_seen.append(press(engine, nn, nn_seen[-1], "no").edit)  # type: ignore[arg-type]
    assert nn_seen[-2].text.startswith("Kan vi sitere deg utan namn?")
    assert words(nn_seen[-2:]) & BOKMAL_ONLY == set()
    en_seen = comment(engine, en, SAID_NO)
    en_seen.append(press(engine, en, en_seen[-1], "yes").edit)  # type: ignore[arg-type]
    assert en_seen[-2].text.startswith("May we quote you anonymously?")
    assert words(en_seen[-2:]) & NORWEGIAN == set()


# --------------------------------------------------------------------------- the summary


def round_with_comments(engine: Conversation) -> None:
    """Twelve comments: one writer says yes, the others no, typed no, or nothing."""
    ids, addresses = [], []
    for i in range(12):
        person_id, address = add_person(engine, f"Person{i}")
        ids.append(person_id)
        addresses.append(address)
    engine.open_round()
    quit_only(engine, *ids)
    for i, address in enumerate(addresses):
        ask = comment(engine, address, SAID_YES if i == 0 else f"{SAID_NO} {i}")[-1]
        if i == 0:
            press(engine, address, ask, "yes")
        elif i % 3 == 0:
            press(engine, address, ask, "no")
        elif i % 3 == 1:
            engine.handle(TextReceived(address, "nei"))
        # i % 3 == 2: no answer at all; the round closes while the question waits
    engine.close_round()


def test_only_consented_comments_are_quoted_anywhere(
    engine: Conversation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    round_with_comments(engine)
    survey, now = engine.survey, engine.clock()
    options = SummaryOptions(5, 10, "nb")
    with engine.db.transaction() as session:
        round_ = session.scalar(select(RoundRow))
        summary = compose(session, survey, round_, options, "test", now)
        queue_summary(session, survey, round_, {"test": "styring"}, options, now, "test")
        post = " ".join(
            OutgoingMessage.from_payload(row.payload).text
            for row in session.scalars(select(OutboxMessage).where(OutboxMessage.kind != "pulse"))
        )
        dashboard = render(gather(session, survey, options, now), survey, "nb", "Siri")
    assert summary.comments == 12 and summary.themes is not None
    assert [q for _, q in summary.quotes] == [SAID_YES]
    assert SAID_YES in full_text(summary, survey) and SAID_YES in post
    # The command line: printed, and written as workbook and CSV.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", engine.db.url)
    monkeypatch.setenv("BEHOLDE_PLANNING_SECRET", "test")
    monkeypatch.setenv("BEHOLDE_LOG_LEVEL", "WARNING")
    monkeypatch.setattr(common.console, "width", 200)
    result = CliRunner().invoke(
        app, ["summary", "--round", "1", "--xlsx", "s.xlsx", "--csv", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert SAID_YES in result.output
    exported = [
        " ".join(",".join(row) for row in csv.reader(path.open(encoding="utf-8-sig")))
        for path in (tmp_path / "csv").glob("*.csv")
    ]
    book = load_workbook(tmp_path / "s.xlsx")
    exported += [str(c.value) for s in book.worksheets for r in s.iter_rows() for c in r]
    everything = " ".join([post, result.output, dashboard, *exported, full_text(summary, survey)])
    assert SAID_NO not in everything and "tunge i helgene" not in everything
    assert "Turnus" in dashboard or "turnus" in everything  # the themes are there


def frame_with(survey: Survey, texts: list[str], consent: list[bool] | None) -> pd.DataFrame:
    frame = survey_round(survey, round_id=1, n=40, seed=3, quit_share=0.5, position_share=0.5,
                         experienced=EXP19, importance=IMPORTANCE, comment_share=0.0)  # fmt: skip
    keys = frame["submission_key"].drop_duplicates().tolist()
    extra = pd.DataFrame(
        {"round_id": 1, "submission_key": keys[: len(texts)], "question_id": "quit_text",
         "value": None, "text": texts, "complete": True}
    )  # fmt: skip
    if consent is not None:
        extra["quote_ok"] = consent
        frame = frame.assign(quote_ok=False)
    return pd.concat([frame, extra], ignore_index=True)


def summarise(survey: Survey, frame: pd.DataFrame):
    return build_summary(frame, participation_for(frame), survey, round_id=1, round_number=1, k=5)


def test_the_summary_quotes_consented_comments_only_and_only_past_the_threshold(
    survey: Survey,
) -> None:
    texts = [SAID_YES, "Mer kurs i arbeidstiden, takk"] + [f"{SAID_NO} {i}" for i in range(8)]
    consent = [True, True] + [False] * 8
    shown = summarise(survey, frame_with(survey, texts, consent))
    quotes = {q for _, q in shown.quotes}
    assert quotes == {SAID_YES, "Mer kurs i arbeidstiden, takk"}
    assert shown.themes is not None and sum(c for _, c in shown.themes) >= 10
    # Nine comments: under the threshold, so no theme and no quote even with consent.
    nine = summarise(survey, frame_with(survey, texts[:9], consent[:9]))
    assert nine.themes is None and nine.quotes == ()
    # A frame that does not say whether anyone consented quotes nobody.
    unknown = summarise(survey, frame_with(survey, texts, None))
    assert unknown.themes is not None and unknown.quotes == ()


def test_the_question_names_the_threshold_the_summary_uses(db, survey, clock) -> None:
    from bot.app import assemble
    from bot.conversation import EngineConfig
    from bot.summaries import engine_options

    engine = assemble(db, survey, EngineConfig(k=5, comment_threshold=20), clock)
    ask = comment(engine, one_person(engine), SAID_YES)[-1]
    assert "minst 20 har skrevet en kommentar" in ask.text
    assert engine_options(engine).comment_threshold == 20  # `round close` summarises so too


def test_consent_attaches_only_to_a_written_comment(engine) -> None:
    person_id, _ = add_person(engine, "Kari")
    engine.open_round()
    with engine.db.transaction() as session:
        invitation = session.scalar(select(Invitation).where(Invitation.person_id == person_id))
        answers.store_pending(session, invitation.id, "quit", 1, None)
        answers.store_pending(session, invitation.id, "quit_text", None, None)  # skipped
        assert not answers.set_quote_consent(session, invitation.id, "quit_text", True)
        assert not answers.set_quote_consent(session, invitation.id, "quit", True)
        answers.seal(session, invitation, None, dt.date(2027, 1, 12), complete=True, k=5)
        assert not any(row.quote_ok for row in session.scalars(select(Holding)))


def test_nobody_is_nudged_to_finish_when_only_the_consent_question_waits(engine) -> None:
    """The one who wrote a comment and has not yet said yes or no has answered everything:
    only the one who never started is due "en vennlig påminnelse" halfway."""
    from storage import network as store

    address = one_person(engine, "Kari")
    other_id, _ = add_person(engine, "Ola")
    quit_only(engine, other_id)
    assert comment(engine, address, SAID_YES)[-1].text.startswith("Kan vi sitere deg")
    with engine.db.transaction() as session:
        round_ = answers.current_round(session)
        assert round_ is not None
        due = [person.id for _, person in store.not_nudged(session, round_.id)]
    assert due == [other_id]
