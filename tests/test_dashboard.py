"""The steering group's dashboard: one-time links, sessions, who gets in, and figures that
come through the release ledger (SQLite and PostgreSQL, over real HTTP with aiohttp)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, text
from typer.testing import CliRunner

from bot.conversation import Conversation
from bot.dashboard.links import link_for
from bot.dashboard.web import install
from bot.serve import Service
from bot.settings import Settings
from storage import dashboard as store
from storage.models import Person
from storage.summary_models import ReleasedCell
from surveys.definition import Survey
from surveys.grid import gap_grid, gap_measure
from tests.conftest import FakeClock, add_person
from tests.dashboard_support import SMALL, experienced_mean, gap_by_municipality, seed_rounds

SETTINGS = Settings(database_url="sqlite://", public_url="https://beholde.example.no/")


def test_links_work_once_within_fifteen_minutes(engine: Conversation, clock: FakeClock) -> None:
    steering, _ = add_person(engine, "Siri", role="steering")
    add_person(engine, "Erik", role="employee")
    assert link_for(engine.db, SETTINGS, "Erik", clock()) is None  # not for employees
    assert link_for(engine.db, SETTINGS, "Nobody", clock()) is None
    url = link_for(engine.db, SETTINGS, "siri", clock())
    assert url is not None and url.startswith("https://beholde.example.no/styring/inn?t=")
    token = url.split("t=", 1)[1]
    with engine.db.transaction() as session:
        stored = [h for (h,) in session.execute(text("SELECT token_hash FROM dashboard_tokens"))]
        assert stored == [store.token_hash(token)] and token not in stored  # only the hash
        fresh = store.redeem_link(session, token, clock())
        assert fresh is not None
        assert store.redeem_link(session, token, clock()) is None  # reused
        person = store.session_person(session, fresh, clock.advance(hours=7, minutes=59))
        assert person is not None and person.id == steering
        assert store.session_person(session, fresh, clock.advance(minutes=2)) is None  # > 8 h
        assert store.session_person(session, "made-up", clock()) is None
    late = link_for(engine.db, SETTINGS, "Siri", clock())
    assert late is not None
    with engine.db.transaction() as session:
        expired = store.redeem_link(session, late.split("t=")[1], clock.advance(minutes=15))
        assert expired is None


def test_a_person_who_loses_the_role_loses_the_session(
    engine: Conversation, clock: FakeClock
) -> None:
    steering, _ = add_person(engine, "Siri", role="steering")
    url = link_for(engine.db, SETTINGS, "Siri", clock())
    assert url is not None
    with engine.db.transaction() as session:
        fresh = store.redeem_link(session, url.split("t=")[1], clock())
        assert fresh is not None
        person = session.get(Person, steering)
        assert person is not None
        person.role = "employee"
        session.flush()
        assert store.session_person(session, fresh, clock()) is None


def test_gap_grid_hides_small_groups_and_their_complement() -> None:
    rows = [("F01", "a", 3, 5)] * 12 + [("F01", "b", 4, 5)] * 6 + [("F01", "c", 2, 6)] * 3
    row = gap_grid(rows, 5)["F01"]
    cells = {c.group: c for c in row.cells}
    assert cells["a"].gap == 2.0 and cells["a"].n == 12
    assert cells["c"].gap is None and cells["b"].gap is None  # c < 5, then b to cover it
    assert row.total == 21


async def _client(engine: Conversation, settings: Settings = SETTINGS) -> TestClient:
    service = Service(settings, engine)
    assert install(service) is True
    client = TestClient(TestServer(service.web))
    await client.start_server()
    return client


async def _sign_in(client: TestClient, url: str) -> web.Response:
    path = url.split("beholde.example.no", 1)[1]
    entry = await client.get(path)
    assert entry.status == 200
    page = await entry.text()
    token = re.search(r'name="t" value="([^"]+)"', page)
    assert token is not None
    return await client.post("/styring/inn", data={"t": token.group(1)}, allow_redirects=False)


async def test_dashboard_over_http(engine: Conversation, survey: Survey, clock: FakeClock) -> None:
    setup = seed_rounds(engine, survey)
    client = await _client(engine)
    try:
        anonymous = await client.get("/styring")
        assert anonymous.status == 401 and "Ingen tilgang" in await anonymous.text()
        url = link_for(engine.db, SETTINGS, "Siri Styring", clock())
        assert url is not None
        preview = await client.get(url.split("beholde.example.no", 1)[1])
        assert preview.status == 200  # a chat's link preview does not spend the link
        signed = await _sign_in(client, url)
        assert signed.status == 303 and signed.headers["Location"] == "/styring"
        cookie = signed.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=28800" in cookie
        assert "Path=/styring" in cookie
        page = await client.get("/styring")
        assert page.status == 200
        assert page.headers["Cache-Control"] == "no-store"
        assert "default-src 'none'" in page.headers["Content-Security-Policy"]
        html = await page.text()
        assert "http://" not in html.replace("http://www.w3.org", "")  # nothing external
        row = re.search(r'<tr data-testid="heat-F01">(.*?)</tr>', html)
        assert row is not None
        cells = {
            m: (state, gap, n)
            for m, state, gap, n in re.findall(
                r'data-group="([^"]*)" data-state="(\w+)"(?: data-gap="([^"]+)" data-n="(\d+)")?',
                row.group(1),
            )
        }
        expected = gap_by_municipality(setup.frames[2], "F01")
        assert set(cells) == set(expected)
        assert cells[SMALL][0] == "hidden"  # three answers
        hidden = [m for m, c in cells.items() if c[0] == "hidden"]
        assert len(hidden) == 2  # and the smallest other one, or 3 = total − the rest
        smallest = min((n, m) for m, (_, n) in expected.items() if m != SMALL)[1]
        assert smallest in hidden
        for m, (state, gap, n) in cells.items():
            if state == "shown":
                assert float(gap) == pytest.approx(expected[m][0], abs=0.005)
                assert int(n) == expected[m][1]
        exp2 = experienced_mean(setup.frames[2], "F01")
        assert f'data-kind="exp" data-round="2" data-value="{exp2:.1f}"' in html
        assert 'data-testid="participation-2"' in html and "60 av 70" in html
        reused = await _sign_in(client, url)
        assert reused.status == 403 and "allerede brukt" in await reused.text()
        client.session.cookie_jar.clear()
        assert (await client.get("/styring")).status == 401
    finally:
        await client.close()
    with engine.db.transaction() as session:
        ledger = session.scalars(
            select(ReleasedCell).where(ReleasedCell.source == "dashboard")
        ).all()
        assert any(c.measure == gap_measure("F01") for c in ledger)  # the heatmap is recorded


async def test_heatmap_cells_differing_by_few_are_held_back(
    engine: Conversation, survey: Survey, clock: FakeClock
) -> None:
    setup = seed_rounds(engine, survey)
    round_id = int(setup.frames[2]["round_id"].iloc[0])
    with engine.db.transaction() as session:
        first = store.release_gap_grid(session, round_id, 5, "dashboard", clock().date())
        shown = next(c for c in first["F01"].cells if c.gap is not None)
        assert shown.n is not None
        # Pretend an earlier release showed the same cell with two answers fewer.
        session.add(ReleasedCell(round_id=round_id, measure=gap_measure("F01"),
                                 group=shown.group, contributors=shown.n - 2,
                                 released_on=dt.date(2027, 1, 1), source="export"))  # fmt: skip
        session.flush()
        again = store.release_gap_grid(session, round_id, 5, "dashboard", clock().date())
    assert all(c.gap is None for c in again["F01"].cells)
    assert any(c.held for c in again["F01"].cells)
    assert any(c.gap is not None for c in again["F02"].cells)  # other factors still shown


def test_cli_prints_a_link_only_for_the_steering_group(
    tmp_path, survey: Survey, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import app
    from storage import people
    from storage.db import Database

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db = Database(url)
    db.upgrade()
    with db.transaction() as session:
        now = dt.datetime(2027, 1, 12, tzinfo=dt.UTC)
        people.create_person(session, "Siri", now, role="steering")
        people.create_person(session, "Erik", now, role="employee")
    db.dispose()
    monkeypatch.setenv("BEHOLDE_DATABASE_URL", url)
    monkeypatch.setenv("BEHOLDE_PUBLIC_URL", "https://b.example.no")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    ok = runner.invoke(app, ["dashboard", "link", "Siri"])
    assert ok.exit_code == 0
    assert ok.output.splitlines()[-1].startswith("https://b.example.no/styring/inn?t=")
    refused = runner.invoke(app, ["dashboard", "link", "Erik"])
    assert refused.exit_code == 1 and "rollen styring eller leder" in refused.output


def test_closed_rounds_are_composed_once_per_cache(
    engine: Conversation, survey: Survey, clock: FakeClock
) -> None:
    from bot.dashboard.figures import Cache, gather
    from bot.summaries import SummaryOptions

    seed_rounds(engine, survey)
    cache = Cache()
    with engine.db.transaction() as session:
        first = gather(session, survey, SummaryOptions(k=5), clock(), cache)
        ledger = len(session.scalars(select(ReleasedCell)).all())
        again = gather(session, survey, SummaryOptions(k=5), clock(), cache)
        assert len(session.scalars(select(ReleasedCell)).all()) == ledger
        fresh = gather(session, survey, SummaryOptions(k=5), clock())  # no cache: composed
    assert [a is b for a, b in zip(first.rounds, again.rounds, strict=True)] == [True, True]
    assert again.grid is first.grid
    assert [s.factors for s in fresh.rounds] == [s.factors for s in first.rounds]


def test_a_cell_hidden_to_protect_a_small_one_does_not_claim_fewer_than_k() -> None:
    from bot.dashboard.page import heat_cell

    rows = [("F01", "a", 3.0, 5.0)] * 3 + [("F01", "b", 3.0, 4.0)] * 6
    rows += [("F01", "c", 4.0, 5.0)] * 20
    cells = {c.group: c for c in gap_grid(rows, 5)["F01"].cells}
    assert cells["a"].gap is None and cells["b"].gap is None  # b hides a's residue
    assert "færre enn 5" in heat_cell("a", cells["a"], 5, "nb")
    assert "vises ikke" in heat_cell("b", cells["b"], 5, "nb")
    assert "færre enn" not in heat_cell("b", cells["b"], 5, "nb")
    assert "blir ikkje vist" in heat_cell("b", cells["b"], 5, "nn")
