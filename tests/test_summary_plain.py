"""The summary from plain rows (surveys/summary_plain.py) equals the pandas one
(surveys/summary.py) — on random rounds, and in the printed text and release ledger of the
demo round in nb, nn and en."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversation import Conversation
from bot.demo import run_demo
from bot.summaries import SummaryOptions, draft, draft_frames
from bot.summary_text import full_text
from storage import frames, releases
from storage import summaries as store
from storage.models import Round
from storage.summary_models import ReleasedCell
from surveys.definition import Survey
from surveys.summary import QUIT, RECOMMEND, build_summary
from surveys.summary_plain import build_summary_rows

FACTORS = [f"F{i:02d}" for i in range(1, 11)]
GROUPS = ["bodo", "fauske", "beiarn", None]
PROFESSIONS = ["sykepleier", "helsefagarbeider", None]
COMMENTS = ["Turnus og bemanning er tungt", "  ", "Ledelsen lytter", "Lønn", "travelt"]


def answers(draw: st.DrawFn, round_id: int, prefix: str) -> tuple[list[tuple], list[tuple]]:
    """Responses and facet records of one round, the way sealing stores them, with the odd
    missing value, repeated answer and rare group that the suppression rules are about."""
    responses: list[tuple] = []
    facets: list[tuple] = []
    people = draw(st.integers(0, 40))
    maybe = st.one_of(st.none(), st.integers(1, 6))
    for p in range(people):
        key = f"{prefix}{p}"
        town = draw(st.sampled_from(GROUPS))
        job = draw(st.sampled_from(PROFESSIONS))
        for factor in draw(st.lists(st.sampled_from(FACTORS), max_size=3, unique=True)):
            e, i = draw(maybe), draw(maybe)
            for kind, value in (("exp", e), ("imp", i)):
                responses.append((round_id, key, f"{factor}.{kind}", value, None, True, False))
                if draw(st.integers(0, 4)) == 0:  # a repeated answer: the first counts
                    again = draw(maybe)
                    responses.append((round_id, key, f"{factor}.{kind}", again, None, True, False))
            if e is not None and i is not None:
                for facet, group in (("municipality", town), ("profession", job)):
                    facets.append((round_id, facet, group, factor, e, i))
            elif i is not None and draw(st.integers(0, 3)) == 0:  # not sealed so, but read
                facets.append((round_id, "municipality", town, factor, None, i))
        quit_ = draw(st.one_of(st.none(), st.integers(0, 1)))
        if draw(st.booleans()):
            responses.append((round_id, key, QUIT, quit_, None, True, False))
            if draw(st.integers(0, 4)) == 0:  # answered twice: the first counts
                responses.append((round_id, key, QUIT, 1 - (quit_ or 0), None, True, False))
            if quit_ is not None:
                facets.append((round_id, "profession", job, QUIT, quit_, None))
        if draw(st.booleans()):
            score = draw(st.one_of(st.none(), st.integers(0, 10)))
            responses.append((round_id, key, RECOMMEND, score, None, True, False))
        if draw(st.booleans()):
            comment = draw(st.sampled_from(COMMENTS))
            responses.append((round_id, key, "quit_text", None, comment, True, draw(st.booleans())))
        band = draw(st.sampled_from(["80+", "u80", None]))
        facets.append((round_id, "position_80", band, "", None, None))
    order = draw(st.permutations(range(len(responses)))) if responses else []
    return [responses[i] for i in order], facets


@st.composite
def rounds(draw: st.DrawFn) -> dict:
    now, now_facets = answers(draw, 2, "s")
    before = draw(st.booleans())
    prev, prev_facets = answers(draw, 1, "r") if before else ([], [])
    towns = draw(st.lists(st.tuples(st.sampled_from(GROUPS), st.integers(0, 30),
                                    st.integers(0, 30)), max_size=6))  # fmt: skip
    participation = [(town, invited, min(done, invited)) for town, invited, done in towns]
    return {"now": now, "now_facets": now_facets, "prev": prev if before else None,
            "prev_facets": prev_facets if before else None, "participation": participation,
            "k": draw(st.sampled_from([3, 5])), "threshold": draw(st.integers(3, 12))}  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rounds())
def test_plain_rows_give_the_same_summary_as_pandas(survey: Survey, case: dict) -> None:
    common = dict(round_id=2, round_number=2, k=case["k"], comment_threshold=case["threshold"],
                  previous_number=1 if case["prev"] is not None else None,
                  roster_names=["Ingrid Hansen"], seed="s")  # fmt: skip
    prev, prev_facets = case["prev"], case["prev_facets"]
    pandas = build_summary(
        frames.response_frame(case["now"]),
        frames.participation_frame(case["participation"]),
        survey,
        previous=frames.response_frame(prev) if prev is not None else None,
        facets=frames.facet_frame(case["now_facets"]),
        previous_facets=frames.facet_frame(prev_facets) if prev_facets is not None else None,
        **common,  # type: ignore[arg-type]
    )
    plain = build_summary_rows(
        case["now"],
        case["participation"],
        survey,
        previous=prev,
        facets=case["now_facets"],
        previous_facets=prev_facets or (),
        **common,  # type: ignore[arg-type]
    )
    assert plain == pandas
    # Not trivially equal: random rounds do show figures, and do hide some.
    assert isinstance(plain.submissions, int)


def test_random_rounds_show_and_hide_figures(survey: Survey) -> None:
    """The strategy above reaches both sides of k, so the equality is about real figures."""
    seen = {"shown": 0, "hidden": 0}

    @settings(max_examples=60, deadline=None)
    @given(rounds())
    def look(case: dict) -> None:
        plain = build_summary_rows(
            case["now"], case["participation"], survey, round_id=2, round_number=2,
            facets=case["now_facets"], k=case["k"],
        )  # fmt: skip
        for factor in plain.factors:
            seen["shown" if factor.shown else "hidden"] += 1

    look()
    assert seen["shown"] > 0 and seen["hidden"] > 0


def ledger(session: Session) -> list[tuple]:
    rows = session.scalars(select(ReleasedCell).order_by(ReleasedCell.id))
    return [
        tuple(getattr(r, c.key) for c in ReleasedCell.__table__.columns if c.key != "id")
        for r in rows
    ]


def test_the_demo_round_prints_the_same_in_every_language(engine: Conversation) -> None:
    run_demo(engine)
    closed = engine.close_round()
    assert closed is not None
    today = dt.date(2027, 1, 12)
    for lang in ("nb", "nn", "en"):
        options = SummaryOptions(engine.config.k, engine.config.comment_threshold, lang)
        texts, ledgers = [], []
        for compute in ("plain", "pandas"):
            session = Session(engine.db.engine)
            try:
                round_ = session.get(Round, closed.id)
                assert round_ is not None
                if compute == "plain":
                    summary = draft(session, engine.survey, round_, options)
                else:
                    names = store.roster_names(session)
                    inputs = store.round_inputs(session, round_)  # the reading of before
                    summary = draft_frames(inputs, engine.survey, options, names)
                released = releases.release_summary(session, summary, options.k, "print", today)
                session.flush()
                texts.append(full_text(released, engine.survey, lang))
                ledgers.append(ledger(session))
            finally:
                session.rollback()  # both computations meet the same ledger
                session.close()
        assert texts[0] == texts[1]
        assert ledgers[0] == ledgers[1] and ledgers[0]  # the release path recorded figures
        assert str(closed.number) in texts[0]


def test_a_missing_experienced_value_counts_as_pandas_counts_it(survey: Survey) -> None:
    """A facet record with importance but no experienced value: in n, in no sum (pandas'
    groupby); sealing does not write one, but both readings must agree if one is stored."""
    facets = [(1, "municipality", "bodo", "F01", 4, 6) for _ in range(5)]
    facets.append((1, "municipality", "bodo", "F01", None, 5))
    facets += [(1, "municipality", "fauske", "F01", 2, 3) for _ in range(6)]
    common = dict(round_id=1, round_number=1, k=5)
    pandas = build_summary(
        frames.response_frame([]), frames.participation_frame([]), survey,
        facets=frames.facet_frame(facets), **common,  # type: ignore[arg-type]
    )  # fmt: skip
    plain = build_summary_rows([], [], survey, facets=facets, **common)  # type: ignore[arg-type]
    assert plain.factors_by_municipality == pandas.factors_by_municipality
    bodo = next(g for g in plain.factors_by_municipality if g.group == "bodo")
    assert bodo.n == 6 and bodo.experienced == 20 / 6 and bodo.importance == 35 / 6


def test_a_group_where_nobody_considered_quitting_shows_none_in_both(survey: Survey) -> None:
    """The random test found this in the pandas path: with no yes at all, every group read
    as all yes (a Series assigned to an empty frame brings its own index)."""
    facets = [(1, "profession", "sykepleier", QUIT, 0, None) for _ in range(6)]
    common = dict(round_id=1, round_number=1, k=5)
    pandas = build_summary(
        frames.response_frame([]), frames.participation_frame([]), survey,
        facets=frames.facet_frame(facets), **common,  # type: ignore[arg-type]
    )  # fmt: skip
    plain = build_summary_rows([], [], survey, facets=facets, **common)  # type: ignore[arg-type]
    for summary in (pandas, plain):
        (nurses,) = summary.quit_by_profession
        assert nurses.share is not None and nurses.share.value == 0.0 and nurses.share.n == 6
