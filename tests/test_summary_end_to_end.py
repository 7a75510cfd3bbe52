"""The summary's figures from the real storage path equal a calculation from the answers given.

Sixty rostered people go through the real conversation engine with known answers (some
skipped background questions; Beiarn has four people, vernepleier three), the round closes,
and every figure of the released summary — participation, factor means and gaps, quitting
overall and by profession, the share with a position of 80 % or more, eNPS, factor means by
municipality — is checked against a plain calculation from what each person pressed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from bot.conversation import Conversation
from bot.ports import Command, OutgoingMessage
from bot.summaries import SummaryOptions, compose
from storage import frames
from storage.models import Person, Round
from surveys.definition import Survey
from surveys.summary import UNKNOWN, factor_moments_by
from tests.conftest import add_person
from tests.pulse_helpers import answer_all

K = 5
MUNICIPALITIES = ["bodo"] * 30 + ["fauske"] * 16 + ["steigen"] * 10 + ["beiarn"] * 4
PROFESSIONS = ["sykepleier", "helsefagarbeider", "assistent", "sykepleier", "helsefagarbeider"]
POSITIONS = ["100", "80-99", "50-79", "u50", "100"]
SILENT = {7, 23, 41}  # invited, never answered


@dataclass
class Given:
    """What one person is on the roster and what they pressed."""

    municipality: str
    profession: str | None
    position: str | None
    answers: dict[str, int] = field(default_factory=dict)


def roster_of(i: int) -> dict[str, str | None]:
    profession: str | None = PROFESSIONS[i % len(PROFESSIONS)]
    if i in (5, 25, 45):
        profession = "vernepleier"  # a profession of three
    if i in (11, 31):
        profession = None  # skipped the question
    position = None if i % 9 == 4 else POSITIONS[i % len(POSITIONS)]  # some skipped it
    return {"municipality": MUNICIPALITIES[i], "profession": profession, "position_band": position}


def question_of(message: OutgoingMessage, survey: Survey) -> str:
    text = message.text
    if "slutte" in text:
        return "quit"
    if "anbefale" in text:
        return "recommend"
    factor = next(f for f in survey.factors if f"«{f.text['nb']}»" in text)
    return f"{factor.id}.{'imp' if 'viktig' in text.lower() else 'exp'}"


def value_for(i: int, qid: str) -> int:
    if qid == "quit":
        return 1 if i % 3 == 0 else 0
    if qid == "recommend":
        return (i * 7) % 11
    factor = int(qid[1:3])
    if qid.endswith(".exp"):
        return 1 + (i * 3 + factor) % 6
    return 1 + (i + 2 * factor) % 6


def run(engine: Conversation) -> list[Given]:
    survey = engine.survey
    people = []
    for i in range(60):
        fields = roster_of(i)
        person_id, address = add_person(engine, f"Person {i}", **fields)
        skipped = [q for q in ("profession", "position_band") if fields[q] is None]
        with engine.db.transaction() as session:
            session.get(Person, person_id).skipped_background = skipped
        people.append((address, Given(fields["municipality"], fields["profession"],
                                      fields["position_band"])))  # fmt: skip
    engine.open_round()
    for i, (address, given) in enumerate(people):
        if i in SILENT:
            continue

        def choose(message: OutgoingMessage, i: int = i, given: Given = given) -> str:
            if message.free_text:
                return message.choices[-1].data.split(":")[1]  # no comment
            qid = question_of(message, survey)
            given.answers[qid] = value_for(i, qid)
            return str(given.answers[qid])

        answer_all(engine, address, engine.handle(Command(address, "puls")).messages, choose)
    engine.close_round()
    return [g for i, (_, g) in enumerate(people) if i not in SILENT]


def stored_municipality(g: Given) -> str:
    """Beiarn has four people on the roster: stored as "not given"."""
    return UNKNOWN if g.municipality == "beiarn" else g.municipality


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


@pytest.fixture
def given_and_summary(engine: Conversation):
    given = run(engine)
    with engine.db.transaction() as session:
        round_ = session.scalar(select(Round))
        summary = compose(session, engine.survey, round_, SummaryOptions(k=K), "test",
                          engine.clock())  # fmt: skip
        facets = frames.facets(session)
    return given, summary, facets


def test_every_figure_equals_the_answers_as_given(given_and_summary, survey: Survey) -> None:
    given, s, facets = given_and_summary
    assert len(given) == 57 and s.answered == 57 and s.invited == 60 and s.submissions == 57
    # Participation: Beiarn (4 invited) hidden; the others exact, and what is hidden together
    # holds at least k (else total minus the visible ones would give Beiarn).
    finished: dict[str, int] = defaultdict(int)
    for g in given:
        finished[g.municipality] += 1
    rows = {p.group: p for p in s.participation}
    assert rows["beiarn"].answered is None and rows["beiarn"].invited == 4
    hidden = [m for m, p in rows.items() if p.answered is None]
    assert sum(finished[m] for m in hidden) >= K
    for m, p in rows.items():
        if p.answered is not None:
            assert p.answered == finished[m] and p.answered >= K
    # Factors: means and gap over those who answered both scales.
    for factor in survey.factor_ids:
        pairs = [(g.answers[f"{factor}.exp"], g.answers[f"{factor}.imp"]) for g in given
                 if f"{factor}.exp" in g.answers and f"{factor}.imp" in g.answers]  # fmt: skip
        f = s.factor(factor)
        assert f.n == len(pairs) and len(pairs) >= K
        assert f.experienced == pytest.approx(mean([e for e, _ in pairs]))
        assert f.importance == pytest.approx(mean([i for _, i in pairs]))
        assert f.gap is not None and f.gap.value == pytest.approx(mean([i - e for e, i in pairs]))
    # Quitting, overall and by profession (the profession of three is not shown as itself).
    quitters = [g for g in given if "quit" in g.answers]
    assert s.quit is not None and s.quit.n == len(quitters)
    assert s.quit.value == pytest.approx(mean([g.answers["quit"] for g in quitters]))
    shares = {g.group: g.share for g in s.quit_by_profession}

    def stored_as(g: Given) -> str:
        """Three vernepleiere on the roster: stored as "not given", like those who skipped."""
        return UNKNOWN if g.profession in (None, "vernepleier") else g.profession

    assert "vernepleier" not in shares
    assert shares["sykepleier"] is not None and shares["helsefagarbeider"] is not None
    for group, share in shares.items():
        asked = [g.answers["quit"] for g in quitters if stored_as(g) == group]
        if share is not None:
            assert share.n == len(asked) >= K and share.value == pytest.approx(mean(asked))
    # Position of 80 % or more, of those who told.
    told = [g for g in given if g.position is not None]
    assert s.position_80 is not None and s.position_80.n == len(told)
    assert s.position_80.value == pytest.approx(
        mean([1.0 if g.position in ("80-99", "100") else 0.0 for g in told])
    )
    # eNPS: % 9–10 minus % 0–6.
    scores = [g.answers["recommend"] for g in given if "recommend" in g.answers]
    promoters = sum(1 for v in scores if v >= 9) / len(scores)
    detractors = sum(1 for v in scores if v <= 6) / len(scores)
    assert s.enps is not None and s.enps.value == pytest.approx(100 * (promoters - detractors))

    # Factor means and gaps by municipality, from the stored facet records.
    moments = factor_moments_by(facets, "municipality")
    for row in moments.itertuples():
        # Beiarn has four people on the roster: its answers are stored under "not given".
        assert row.group in ("bodo", "fauske", "steigen", UNKNOWN)
        people = [g for g in given if stored_municipality(g) == row.group]
        pairs = [(g.answers[f"{row.factor_id}.exp"], g.answers[f"{row.factor_id}.imp"])
                 for g in people if f"{row.factor_id}.exp" in g.answers
                 and f"{row.factor_id}.imp" in g.answers]  # fmt: skip
        assert row.n == len(pairs)
        assert row.sum_e / row.n == pytest.approx(mean([e for e, _ in pairs]))
        assert row.sum_d / row.n == pytest.approx(mean([i - e for e, i in pairs]))
    assert {"bodo", "fauske", "steigen"} <= set(moments["group"])
    # ...and as the summary releases them: per factor, groups of at least k, none as Beiarn.
    shown_groups = [g for g in s.factors_by_municipality if g.n is not None]
    assert shown_groups and all(g.group != "beiarn" and g.n >= K for g in shown_groups)
    for g in shown_groups:
        here = [p for p in given if stored_municipality(p) == g.group]
        pairs = [(p.answers[f"{g.factor_id}.exp"], p.answers[f"{g.factor_id}.imp"])
                 for p in here if f"{g.factor_id}.imp" in p.answers
                 and f"{g.factor_id}.exp" in p.answers]  # fmt: skip
        assert g.n == len(pairs) and g.experienced == pytest.approx(mean([e for e, _ in pairs]))
        assert g.gap == pytest.approx(mean([i - e for e, i in pairs]))
