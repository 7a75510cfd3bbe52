"""The dashboard in a real browser: Playwright driving Debian's Chromium (`apt-get install
chromium`; .ci/run installs it when missing). Signs in by link, reads the heatmap and the
trends, is refused with a reused or expired link; keeps a screenshot of each page under
tmp/artefacts (or BEHOLDE_ARTEFACTS), with the chart of the same round. With BEHOLDE_DOCS=docs
it also refreshes the README's pictures (docs/dashboard.png, dashboard-phone.png and
summary-chart.png) from this run."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, async_playwright

from bot.conversation import Conversation, EngineConfig
from bot.dashboard.links import link_for
from bot.dashboard.web import install
from bot.serve import Service
from bot.settings import Settings
from storage.db import Database
from surveys.definition import Survey
from tests.conftest import OSLO, FakeClock
from tests.dashboard_support import (
    SMALL,
    add_factor_task,
    experienced_mean,
    gap_by_municipality,
    seed_rounds,
)

CHROMIUM = "/usr/bin/chromium"
ARTEFACTS = Path(os.environ.get("BEHOLDE_ARTEFACTS", Path(__file__).parents[1] / "tmp/artefacts"))
DOCS = os.environ.get("BEHOLDE_DOCS")
PICTURES = ("dashboard.png", "dashboard-phone.png", "summary-chart.png")


def task_between_rounds(engine: Conversation, clock: FakeClock) -> None:
    """Round 1 closed two weeks ago, the task was made a week ago: its trend is 1 → 2."""
    import datetime as dt

    from sqlalchemy import select

    from storage.models import Round
    from storage.network_models import Task

    with engine.db.transaction() as session:
        first = session.scalars(select(Round).where(Round.number == 1)).one()
        first.closed_at = clock() - dt.timedelta(days=14)
        for task in session.scalars(select(Task)):
            task.created_at = clock() - dt.timedelta(days=7)


def write_chart(engine: Conversation, clock: FakeClock) -> None:
    """The steering channel's chart of the newest round, drawn by the project's own code."""
    from sqlalchemy import select

    from bot.summaries import SummaryOptions, compose
    from bot.summary_chart import chart_png
    from storage.models import Round

    with engine.db.transaction() as session:
        round_ = session.scalars(select(Round).where(Round.number == 2)).one()
        summary = compose(session, engine.survey, round_, SummaryOptions(k=5), "print", clock())
    (ARTEFACTS / "summary-chart.png").write_bytes(chart_png(summary, engine.survey, "nb"))


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        await chromium.close()


@pytest.fixture
def engine(tmp_path: Path, survey: Survey, clock: FakeClock) -> Iterator[Conversation]:
    """Once, on its own SQLite file: the HTTP test already covers both databases."""
    db = Database(f"sqlite:///{tmp_path / 'browser.db'}")
    db.upgrade()
    yield Conversation(db, survey, EngineConfig(k=5, tz=OSLO), clock)
    db.dispose()


async def test_steering_member_signs_in_and_reads_the_figures(
    engine: Conversation, survey: Survey, clock: FakeClock, browser: Browser
) -> None:
    setup = seed_rounds(engine, survey)
    title = add_factor_task(engine, "F03", done=3, teams=5)
    task_between_rounds(engine, clock)
    service = Service(Settings(database_url="sqlite://"), engine)
    install(service)
    server = TestServer(service.web, host="127.0.0.1")
    await server.start_server()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    try:
        base = str(server.make_url("")).rstrip("/")
        settings = Settings(database_url="sqlite://", public_url=base)
        url = link_for(engine.db, settings, "Siri Styring", clock())
        assert url is not None
        page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        await page.goto(url)
        await page.screenshot(path=str(ARTEFACTS / "dashboard-entry.png"))
        await page.get_by_test_id("open").click()
        await page.wait_for_url(f"{base}/styring")
        assert await page.title() == "Styringsgruppens oversikt"

        heat = page.get_by_test_id("heat-F01")
        expected = gap_by_municipality(setup.frames[2], "F01")
        small = heat.locator(f'td[data-group="{SMALL}"]')
        assert await small.get_attribute("data-state") == "hidden"
        assert "færre enn 5" in await small.inner_text()
        for municipality, (gap, _n) in expected.items():
            cell = heat.locator(f'td[data-group="{municipality}"]')
            if await cell.get_attribute("data-state") == "shown":
                shown = f"{gap:+.1f}".replace(".", ",").replace("-", "−")
                assert await cell.inner_text() == shown
        trend = page.get_by_test_id("trend-F01")
        for number in (1, 2):
            point = trend.locator(f'circle[data-kind="exp"][data-round="{number}"]')
            mean = experienced_mean(setup.frames[number], "F01")
            assert await point.get_attribute("data-value") == f"{mean:.1f}"
        assert "60 av 70" in await page.get_by_test_id("participation-2").inner_text()
        task = await page.get_by_test_id("trend-F03").inner_text()
        assert f"Oppgave «{title}»" in task and "3 av 5 team har gjort oppgaven" in task
        before = experienced_mean(setup.frames[1], "F03")
        now = experienced_mean(setup.frames[2], "F03")
        trend = f"{before:.1f} → {now:.1f} (runde 1, før oppgaven → runde 2)".replace(".", ",")
        assert trend in task
        quit_row = await page.get_by_test_id("quit-2").inner_text()
        assert "20 %" in quit_row and "trolig mellom" in quit_row
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # readable on a phone: the page itself does not scroll sideways
        await page.screenshot(path=str(ARTEFACTS / "dashboard-phone.png"), full_page=True)
        wide = await browser.new_page(viewport={"width": 1200, "height": 900})
        await wide.context.add_cookies(await page.context.cookies())
        await wide.goto(f"{base}/styring")
        await wide.screenshot(path=str(ARTEFACTS / "dashboard.png"), full_page=True)

        # The same link again, in a fresh browser: refused.
        other = await browser.new_page()
        await other.goto(url)
        await other.get_by_test_id("open").click()
        assert "allerede brukt" in await other.locator("main").inner_text()
        await other.screenshot(path=str(ARTEFACTS / "dashboard-reused.png"))
        await other.goto(f"{base}/styring")
        assert "Ingen tilgang" in await other.locator("main").inner_text()

        # A link opened after 15 minutes: refused.
        late = link_for(engine.db, settings, "Siri Styring", clock())
        assert late is not None
        clock.advance(minutes=16)
        expired = await browser.new_page()
        await expired.goto(late)
        await expired.get_by_test_id("open").click()
        assert "utløpt" in await expired.locator("main").inner_text()
        await expired.screenshot(path=str(ARTEFACTS / "dashboard-expired.png"))
    finally:
        await server.close()
    write_chart(engine, clock)
    for name in ("dashboard-entry", "dashboard-phone", "dashboard", "dashboard-reused",
                 "summary-chart"):  # fmt: skip
        assert (ARTEFACTS / f"{name}.png").stat().st_size > 1000
    if DOCS:
        for name in PICTURES:
            (Path(DOCS) / name).write_bytes((ARTEFACTS / name).read_bytes())
