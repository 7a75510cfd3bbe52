"""The dashboard's cache follows the release ledger: a page fetched after a new release (a
round closed and posted, a ledger put back from a backup) shows the new figures, over HTTP."""

from __future__ import annotations

import datetime as dt
import re

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.conversation import Conversation
from bot.dashboard.links import link_for
from bot.dashboard.web import install
from bot.serve import Service
from bot.settings import Settings
from bot.summaries import SummaryOptions, compose
from storage.models import Facet, Invitation, Response, Round
from storage.summary_models import ReleasedCell, RoundMoment
from surveys.definition import Survey
from surveys.synthetic import survey_round
from tests.conftest import FakeClock
from tests.dashboard_support import experienced_mean, seed_rounds
from tests.summary_support import EXP19, EXP21, IMPORTANCE, add_round, store_frame

SETTINGS = Settings(database_url="sqlite://", public_url="https://beholde.example.no/")


async def signed_in(engine: Conversation, clock: FakeClock) -> TestClient:
    service = Service(SETTINGS, engine)
    install(service)
    client = TestClient(TestServer(service.web))
    await client.start_server()
    url = link_for(engine.db, SETTINGS, "Siri Styring", clock())
    assert url is not None
    entry = await (await client.get(url.split("beholde.example.no", 1)[1])).text()
    token = re.search(r'name="t" value="([^"]+)"', entry)
    assert token is not None
    signed = await client.post("/styring/inn", data={"t": token.group(1)}, allow_redirects=False)
    assert signed.status == 303
    return client


async def page(client: TestClient) -> str:
    response = await client.get("/styring")
    assert response.status == 200
    return await response.text()


def point(html: str, factor: str, number: int) -> str | None:
    card = re.search(rf'data-testid="trend-{factor}">(.*?)</svg>', html, re.S)
    assert card is not None
    found = re.search(rf'data-kind="exp" data-round="{number}" data-value="([^"]+)"', card[1])
    return found[1] if found else None


async def test_a_new_round_and_a_restored_ledger_show_on_the_next_page(
    engine: Conversation, survey: Survey, clock: FakeClock
) -> None:
    setup = seed_rounds(engine, survey)
    client = await signed_in(engine, clock)
    try:
        first = await page(client)
        assert "<td>2</td><td>60 av 70</td>" in first
        assert 'data-testid="participation-3"' not in first
        assert await page(client) == first  # nothing released in between: the same page

        # Round 3 closes and its summary is released (posted): the next page has it.
        round3 = add_round(engine.db, 3)
        frame3 = survey_round(survey, round_id=round3, n=45, quit_share=0.2,
                              position_share=0.6, experienced=EXP21, importance=IMPORTANCE,
                              seed=31)  # fmt: skip
        store_frame(engine.db, frame3, round3, invited=70)
        with engine.db.transaction() as session:
            round_ = session.get(Round, round3)
            assert round_ is not None
            compose(session, survey, round_, SummaryOptions(k=5), "post", clock())
        second = await page(client)
        assert "<td>3</td><td>45 av 70</td>" in second
        assert point(second, "F01", 3) == f"{experienced_mean(frame3, 'F01'):.1f}"

        # A backup from before is put back: round 2 had other answers and the ledger knew
        # nothing of them. The cached round 2 must not survive it.
        round2 = setup.frames[2]["round_id"].iloc[0]
        with engine.db.transaction() as session:
            for model in (Response, Facet, Invitation, RoundMoment):
                session.execute(delete(model).where(model.round_id == int(round2)))
            session.execute(delete(ReleasedCell))
        other = survey_round(survey, round_id=int(round2), n=52, quit_share=0.3,
                             position_share=0.6, experienced=EXP19, importance=IMPORTANCE,
                             seed=77)  # fmt: skip
        store_frame(engine.db, other, int(round2), invited=70)
        clock.advance(minutes=5)
        third = await page(client)
        assert "<td>2</td><td>52 av 70</td>" in third
        assert point(third, "F01", 2) == f"{experienced_mean(other, 'F01'):.1f}"
    finally:
        await client.close()
    with engine.db.transaction() as session:
        assert session.scalar(select(ReleasedCell.id).limit(1)) is not None  # re-recorded
        assert isinstance(session.scalar(select(Round.closed_at).limit(1)), dt.datetime)


def test_a_release_of_one_round_releases_it_again_and_the_summary_leaning_on_it(
    engine: Conversation, survey: Survey, clock: FakeClock
) -> None:
    """Older rounds show only their own figures (no change between rounds), so a release of
    round 1 redoes round 1 alone; the newest round's full summary shows changes against the
    round before it, so a release of round 2 composes round 3's summary afresh."""
    from bot.dashboard.figures import Cache, gather

    seed_rounds(engine, survey)
    round3 = add_round(engine.db, 3)
    frame3 = survey_round(survey, round_id=round3, n=45, quit_share=0.2, position_share=0.6,
                          experienced=EXP21, importance=IMPORTANCE, seed=31)  # fmt: skip
    store_frame(engine.db, frame3, round3, invited=70)
    cache = Cache()

    def release_elsewhere(session: Session, round_id: int) -> None:
        session.add(ReleasedCell(round_id=round_id, measure="factor:F01", group="*",
                                 contributors=99, released_on=clock().date(),
                                 source="print"))  # fmt: skip
        session.flush()

    with engine.db.transaction() as session:
        first = gather(session, survey, SummaryOptions(k=5), clock(), cache)
        again = gather(session, survey, SummaryOptions(k=5, language="nn"), clock(), cache)
        assert [a is b for a, b in zip(first.rounds, again.rounds, strict=True)] == [
            True,
            True,
            True,
        ]  # fmt: skip  (and shared between languages)
        assert again.summary is first.summary
        one, two = first.rounds[0].round_id, first.rounds[1].round_id
        release_elsewhere(session, one)
        after = gather(session, survey, SummaryOptions(k=5), clock(), cache)
        same = [a is b for a, b in zip(first.rounds, after.rounds, strict=True)]
        assert same == [False, True, True] and after.summary is first.summary
        release_elsewhere(session, two)
        later = gather(session, survey, SummaryOptions(k=5), clock(), cache)
    same = [a is b for a, b in zip(after.rounds, later.rounds, strict=True)]
    assert same == [True, False, True]
    assert later.summary is not after.summary  # its changes lean on round 2
    assert later.summary is not None and later.summary.factors == first.rounds[2].factors
