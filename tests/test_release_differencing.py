"""Differencing across every pair of releases a user can produce: nothing under k comes out.

The attacker collects everything shown — printed, exported (CSV read back), posted — and
everything derivable from it: a breakdown's residue (total minus the visible groups), an
earlier round's final value from a change (before = now − change), counts. Any two derived
figures of the same round, measure and group over contributor sets that differ by 1..k−1
give those few people's answers (or where they work) by subtraction. For each scenario the
test shows the attack works on the summaries as they would be without the release path, and
recovers nothing from what the release path actually let out.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bot.summaries import SummaryOptions, compose, draft, queue_summary
from bot.summary_export import write_csv
from bot.summary_text import full_text
from storage.db import Database
from storage.models import Invitation, Person, Round
from storage.releases import release_group_mean, release_participation, released
from surveys.definition import Survey
from surveys.summary import Summary, participation_rows
from surveys.synthetic import survey_round
from tests.summary_support import EXP19, EXP21, IMPORTANCE, NOW, add_round, store_frame

K = 5
OPTIONS = SummaryOptions(k=K)
# Invited per municipality; answers arrive in this order of municipalities.
INVITED = {"bodo": 30, "fauske": 20, "steigen": 10, "beiarn": 4}

Derived = tuple[int, str, str, int, float]  # round, measure, group, n, sum


def derived(s: Summary) -> list[Derived]:
    """Every (round, measure, group, n, sum of answers) a reader can work out from `s`."""
    r = s.round_id
    out: list[Derived] = []

    def breakdown(
        measure: str, total_n: int, total_sum: float, parts: list[tuple], hidden: list[str]
    ) -> None:
        out.append((r, measure, "*", total_n, total_sum))
        for group, n, value in parts:
            out.append((r, measure, group, n, value))
        if parts:
            rest = "~rest:" + ",".join(sorted(hidden))
            hidden_n = total_n - sum(n for _, n, _ in parts)
            out.append((r, measure, rest, hidden_n, total_sum - sum(v for *_, v in parts)))

    if s.answered is not None:
        visible = [(p.group, p.answered, float(p.answered)) for p in s.participation
                   if p.answered is not None]  # fmt: skip
        hidden = [p.group for p in s.participation if p.answered is None]
        breakdown("participation", s.answered, float(s.answered), visible, hidden)
    if s.quit is not None:
        parts = [(g.group, g.share.n, g.share.value * g.share.n)
                 for g in s.quit_by_profession if g.share is not None]  # fmt: skip
        hidden = [g.group for g in s.quit_by_profession if g.share is None]
        breakdown("quit", s.quit.n, s.quit.value * s.quit.n, parts, hidden)
    for f in s.factors:
        if f.experienced is not None and f.importance is not None:
            out.append((r, f"{f.factor_id}.exp", "*", f.n, f.experienced * f.n))
            out.append((r, f"{f.factor_id}.imp", "*", f.n, f.importance * f.n))
        groups = [g for g in s.factors_by_municipality if g.factor_id == f.factor_id]
        parts = [(g.group, g.n, g.experienced * g.n) for g in groups
                 if g.n is not None and g.experienced is not None]  # fmt: skip
        if parts and f.experienced is not None:
            hidden = [g.group for g in groups if g.n is None]
            breakdown(f"{f.factor_id}.exp@municipality", f.n, f.experienced * f.n, parts, hidden)
    prev = s.previous
    if prev is not None and prev.round_id is not None:
        for c in s.changes:
            now = s.factor(c.factor_id)
            if c.experienced is not None and now.experienced is not None:
                before = now.experienced - c.experienced.value
                out.append((prev.round_id, f"{c.factor_id}.exp", "*", c.n_before,
                            before * c.n_before))  # fmt: skip
        for measure, est in (("quit", prev.quit), ("enps", prev.enps),
                             ("position", prev.position_80)):  # fmt: skip
            if est is not None:
                out.append((prev.round_id, measure, "*", est.n, est.value * est.n))
    for measure, est in (("enps", s.enps), ("position", s.position_80)):
        if est is not None:
            out.append((r, measure, "*", est.n, est.value * est.n))
    if s.comments is not None:
        out.append((r, "comments", "*", s.comments, float(s.comments)))
    return out


# That three more people answered is shown on purpose: it says nothing of what they
# answered or who they are; where they work (participation per municipality) is a group.
TOTALS = {("participation", "*")}


def leaks(releases: list[Summary]) -> list[tuple[str, int]]:
    """(measure, how many people) for every set of 1..k−1 people a reader can single out."""
    found = []
    cells = [derived(s) for s in releases]
    for one in cells:
        found += [(m, n) for _r, m, g, n, _ in one if g.startswith("~rest") and 0 < n < K]
    for i, a in enumerate(cells):
        for b in cells[i + 1 :]:
            for ra, ma, ga, na, _ in a:
                for rb, mb, gb, nb, _ in b:
                    if (ma, ga) in TOTALS:
                        continue
                    if (ra, ma, ga) == (rb, mb, gb) and 0 < abs(na - nb) < K:
                        found.append((ma, abs(na - nb)))
    return found


def people(db: Database, round_id: int, finished: dict[str, int]) -> None:
    """Rostered people invited to the round; `finished` of each municipality have answered."""
    with db.transaction() as session:
        for municipality, invited in INVITED.items():
            for i in range(invited):
                person = Person(key=f"{round_id}-{municipality}-{i}", name=f"P {municipality} {i}",
                                municipality=municipality, created_at=NOW)  # fmt: skip
                session.add(person)
                session.flush()
                status = "finished" if i < finished.get(municipality, 0) else "invited"
                session.add(Invitation(round_id=round_id, person_id=person.id, status=status))


def finish(db: Database, round_id: int, municipality: str, count: int) -> None:
    """`count` more people of a municipality finish their pulse."""
    with db.transaction() as session:
        open_ = (
            session.query(Invitation)
            .join(Person, Person.id == Invitation.person_id)
            .filter(Invitation.round_id == round_id, Invitation.status == "invited",
                    Person.municipality == municipality)
            .limit(count)
            .all()
        )  # fmt: skip
        for invitation in open_:
            invitation.status = "finished"


def answers(survey: Survey, n: int, seed: int, exp: dict = EXP19) -> pd.DataFrame:
    return survey_round(survey, round_id=0, n=n, quit_share=0.4, position_share=0.6,
                        experienced=exp, importance=IMPORTANCE, seed=seed)  # fmt: skip


def shown(db: Database, survey: Survey, round_id: int, source: str) -> Summary:
    with db.transaction() as session:
        return compose(session, survey, session.get(Round, round_id), OPTIONS, source, NOW)


def unreleased(db: Database, survey: Survey, round_id: int) -> Summary:
    """What the summary would show without the release path (the attacker's control)."""
    with db.transaction() as session:
        return draft(session, survey, session.get(Round, round_id), OPTIONS)


def export(db: Database, survey: Survey, round_id: int, folder: Path) -> Summary:
    """`beholde summary --csv`: released once, written; the files hold only what is shown."""
    s = shown(db, survey, round_id, "export")
    files = write_csv(s, survey, folder)
    overview = pd.read_csv(
        next(f for f in files if "oversikt" in f.name), sep=";", decimal=",", encoding="utf-8-sig"
    )
    quit_row = overview.loc[overview["Mål"] == "Vurdert å slutte"].iloc[0]
    assert (pd.isna(quit_row["n"]) and s.quit is None) or int(quit_row["n"]) == s.quit.n
    notes = overview.loc[overview["Mål"] == "Merknad", "Verdi"].tolist()
    assert bool(notes) == bool(s.withheld) and all("Holdt tilbake" in n for n in notes)
    return s


def close(db: Database, round_id: int) -> None:
    with db.transaction() as session:
        session.get(Round, round_id).status = "closed"


def open_round_with(db: Database, survey: Survey, number: int, n: int, seed: int,
                    exp: dict = EXP19) -> int:  # fmt: skip
    round_id = add_round(db, number, status="open")
    store_frame(db, answers(survey, n, seed, exp), round_id, invitations=False)
    people(db, round_id, {"bodo": 25, "fauske": 17, "steigen": 10, "beiarn": 3}
           if n == 55 else {"bodo": 25, "fauske": n - 25})  # fmt: skip
    return round_id


def late_answers(db: Database, survey: Survey, round_id: int) -> None:
    """Three more people, two in Fauske and one in Bodø, answer."""
    store_frame(db, answers(survey, 3, seed=99), round_id, invitations=False)
    finish(db, round_id, "fauske", 2)
    finish(db, round_id, "bodo", 1)


def test_export_late_answers_export(db: Database, survey: Survey, tmp_path: Path) -> None:
    round_id = open_round_with(db, survey, 1, 55, seed=1)
    before = unreleased(db, survey, round_id)
    first = export(db, survey, round_id, tmp_path / "a")
    late_answers(db, survey, round_id)
    close(db, round_id)
    assert leaks([before, unreleased(db, survey, round_id)])  # the attack is real
    second = export(db, survey, round_id, tmp_path / "b")
    assert leaks([first, second]) == []
    assert second.factor("F01").held and second.quit is None
    assert all(p.answered is None for p in second.participation)  # Fauske 15 → 17 not shown
    assert second.answered == 58  # that three more answered is shown; where and what is not


def test_post_close_export_and_round_status(db: Database, survey: Survey, tmp_path: Path) -> None:
    round_id = open_round_with(db, survey, 1, 55, seed=2)
    with db.transaction() as session:
        result = queue_summary(session, survey, session.get(Round, round_id), {"slack": "C"},
                               OPTIONS, NOW, "test")  # fmt: skip
        assert result.status == "queued"
    posted = shown(db, survey, round_id, "print")  # the same figures as the post
    late_answers(db, survey, round_id)
    # `round status` now: participation through the same ledger.
    with db.transaction() as session:
        from storage import frames

        part = frames.participation(session, round_id)
        status_rows = release_participation(session, round_id, participation_rows(part, K),
                                            int(part["finished"].sum()), K, "status",
                                            NOW.date())  # fmt: skip
    assert all(r.answered is None for r in status_rows)
    close(db, round_id)
    exported = export(db, survey, round_id, tmp_path)
    assert leaks([posted, exported]) == []


def test_round_one_post_then_round_two_changes(db: Database, survey: Survey) -> None:
    first_id = open_round_with(db, survey, 1, 55, seed=3)
    posted = shown(db, survey, first_id, "post")
    late_answers(db, survey, first_id)
    close(db, first_id)
    second_id = open_round_with(db, survey, 2, 40, seed=4, exp=EXP21)
    close(db, second_id)
    raw = unreleased(db, survey, second_id)
    # Round 2's changes give round 1's final means (58 answers) against the post at 55.
    assert any(m.endswith(".exp") and n == 3 for m, n in leaks([posted, raw]))
    second = shown(db, survey, second_id, "print")
    assert leaks([posted, second]) == []
    assert second.factor("F01").experienced is not None  # round 2's own figures are shown
    assert all(c.experienced is None for c in second.changes)
    text = full_text(second, survey)
    assert "Holdt tilbake fra runde 1:" in text
    assert "endring i Kommunikasjon med leder" in text


def test_held_back_figures_print_no_counts(db: Database, survey: Survey) -> None:
    round_id = open_round_with(db, survey, 1, 55, seed=5)
    first = shown(db, survey, round_id, "print")
    late_answers(db, survey, round_id)
    second = shown(db, survey, round_id, "print")
    assert leaks([first, second]) == []
    text = full_text(second, survey)
    held = [f for f in second.factors if f.held]
    assert held and all(f"n={f.n}" not in text for f in held)
    assert second.comments is None and "Kommentarer" not in text  # 12 vs 11 would say one quit
    assert "Holdt tilbake:" in text and "færre enn 5 svar i forskjell" in text


@pytest.mark.parametrize("extra", [K, K + 1])
def test_k_more_answers_release_again(db: Database, survey: Survey, extra: int) -> None:
    round_id = open_round_with(db, survey, 1, 55, seed=6)
    first = shown(db, survey, round_id, "print")
    store_frame(db, answers(survey, extra, seed=7), round_id, invitations=False)
    second = shown(db, survey, round_id, "print")
    assert second.factor("F01").experienced is not None and second.quit is not None
    assert leaks([first, second]) == []


@pytest.mark.parametrize(("others", "shown_"), [(3, False), (0, True), (6, True)])
def test_one_thing_back_never_lets_the_rest_of_the_round_be_worked_out(
    db: Database, survey: Survey, others: int, shown_: bool
) -> None:
    """The feedback after a pulse shows a municipality's mean; with the round's overall mean
    (in the steering summary) the rest of the round must not come out as a group under k."""
    round_id = add_round(db, 1)
    bodo = answers(survey, 10, seed=8).assign(municipality="bodo")
    fauske = answers(survey, others, seed=9).assign(municipality="fauske")
    store_frame(db, pd.concat([bodo, fauske]), round_id)
    with db.transaction() as session:
        got = release_group_mean(session, round_id, "F01", "municipality", "bodo", K,
                                 "feedback", NOW.date())  # fmt: skip
        again = release_group_mean(session, round_id, "F01", "municipality", "bodo", K,
                                   "feedback", NOW.date())  # fmt: skip
        ledger = released(session, [round_id])
    if not shown_:
        assert got is None and ledger == []
        return
    assert got is not None and got[1] == 10 and again == got
    exp = bodo.loc[bodo["question_id"] == "F01.exp", "value"]
    assert got[0] == pytest.approx(exp.mean())
    assert [(c.measure, c.group, c.n) for c in ledger] == [("experienced:F01", "bodo", 10)]
