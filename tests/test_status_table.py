"""`round status` computes its participation table without pandas, and shows what the whole
summary's table showed, released through the same ledger."""

from __future__ import annotations

import pytest

from bot.summaries import SummaryOptions, compose, participation_report
from bot.summary_text import participation_lines
from storage import frames
from storage.db import Database
from storage.models import Invitation, Person, Round
from surveys.definition import Survey
from surveys.summary import participation_rows, participation_table
from tests.conftest import wipe
from tests.summary_support import NOW, add_round

K = 5
OPTIONS = SummaryOptions(k=K)
INVITED = {"bodo": 30, "fauske": 20, "steigen": 10, None: 4}
CASES = [
    {},  # nobody yet
    {"bodo": 2},  # the total under k: everything hidden
    {"bodo": 12, "fauske": 3, "steigen": 0, None: 4},  # complementary suppression
    {"bodo": 7, "fauske": 6, "steigen": 5, None: 4},
    {"bodo": 9, "fauske": 9, "steigen": 9, None: 0},  # ties in nothing, ties in invited
]


def people(db: Database, round_id: int, finished: dict[str | None, int]) -> None:
    with db.transaction() as session:
        for municipality, invited in INVITED.items():
            for i in range(invited):
                person = Person(key=f"{round_id}-{municipality}-{i}", name=f"P {i}",
                                municipality=municipality, created_at=NOW)  # fmt: skip
                session.add(person)
                session.flush()
                status = "finished" if i < finished.get(municipality, 0) else "invited"
                session.add(Invitation(round_id=round_id, person_id=person.id, status=status))


def status_text(db: Database, survey: Survey, round_id: int, old: bool) -> str:
    with db.transaction() as session:
        round_ = session.get(Round, round_id)
        assert round_ is not None
        if old:  # what `round status` printed before: the whole summary, then its table
            summary = compose(session, survey, round_, OPTIONS, "status", NOW)
            return "\n".join(participation_lines(summary, survey, "nb"))
        return participation_report(session, survey, round_, OPTIONS, "status", NOW)


@pytest.mark.parametrize("finished", CASES)
def test_the_table_without_pandas_is_the_summarys_table(
    db: Database, survey: Survey, finished: dict[str | None, int]
) -> None:
    texts = []
    for old in (False, True):
        wipe(db)
        round_id = add_round(db, 1, status="open")
        people(db, round_id, finished)
        with db.transaction() as session:
            counts = frames.participation_counts(session, round_id)
            frame = frames.participation(session, round_id)
        assert participation_table(counts, K) == participation_rows(frame, K)
        texts.append(status_text(db, survey, round_id, old))
    assert texts[0] == texts[1]
    assert "Deltakelse i runde 1" in texts[0]


def test_status_after_a_post_holds_what_a_few_late_answers_would_reveal(
    db: Database, survey: Survey
) -> None:
    round_id = add_round(db, 1, status="open")
    people(db, round_id, {"bodo": 12, "fauske": 8, "steigen": 6})
    first = status_text(db, survey, round_id, old=False)
    assert "12 av 30" in first  # shown, and now in the ledger
    with db.transaction() as session:  # two more in Bodø: 14 − 12 would single them out
        for invitation in (
            session.query(Invitation)
            .join(Person, Person.id == Invitation.person_id)
            .filter(Invitation.status == "invited", Person.municipality == "bodo")
            .limit(2)
        ):
            invitation.status = "finished"
    second = status_text(db, survey, round_id, old=False)
    assert "Bodø: holdt tilbake, 30 invitert" in second and "av 30" not in second
    assert "I alt: 28 av 64" in second  # the total stays: it says who answered, not what
