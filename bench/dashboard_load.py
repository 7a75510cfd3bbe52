"""Benchmark: the steering group's dashboard page on a 100-round, 9-municipality database.

The database is `bench/summary_bench.py`'s synthetic one, smaller per round (default 2,000
people, 250 answering each of 100 closed rounds: 8 answer rows each, 200,000 in all), with
moments sealed as `close_round` stores them. `beholde serve`'s own web app (the dashboard
installed on `bot.serve.Service`) listens on 127.0.0.1; a steering member signs in by link
and the page `/styring` is fetched over real HTTP. Measured, each a fresh server unless said:

* `first ever`: the first page after the rounds closed: nothing of them released yet, so
  every round's trend figures are released from the moments sealed at close and recorded
  in the release ledger, the newest round composed in full, plus the heatmap;
* `cold`: a new server (empty cache), the ledger already filled: the same work again;
* `warm`: the same server again (the cache holds every round; one ledger-version query);
* `after release`: a new ledger row for round 1 (another output released something):
  round 1 released afresh.

Time to first byte is until the response's headers arrived; full page until the body is
read. The page is rendered whole before it is sent, so the two differ only by transfer.

Reproduce:

    .venv/bin/python bench/dashboard_load.py [--rounds 100] [--per-round 250]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from summary_bench import load  # noqa: E402

from bot.app import assemble  # noqa: E402
from bot.conversation import EngineConfig  # noqa: E402
from bot.dashboard.links import link_for  # noqa: E402
from bot.dashboard.web import install  # noqa: E402
from bot.serve import Service  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage import people  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.summary_models import ReleasedCell  # noqa: E402
from surveys.definition import load_survey  # noqa: E402

NOW = dt.datetime(2027, 1, 12, 9, 0, tzinfo=dt.UTC)


async def fetch(client: TestClient, cookie: str) -> tuple[float, float, int]:
    """(seconds to first byte, seconds to the whole page, bytes) of one GET /styring."""
    started = time.perf_counter()
    response = await client.get("/styring", headers={"Cookie": f"beholde_styring={cookie}"})
    first = time.perf_counter() - started
    body = await response.read()
    assert response.status == 200, response.status
    return first, time.perf_counter() - started, len(body)


async def server(db: Database, url: str) -> tuple[TestClient, str]:
    """A fresh service (fresh cache) on 127.0.0.1, and a signed-in steering session."""
    settings = Settings(database_url=url, public_url="https://beholde.example.no")
    engine = assemble(db, load_survey(), EngineConfig(k=5), lambda: NOW)
    service = Service(settings, engine)
    install(service)
    client = TestClient(TestServer(service.web, host="127.0.0.1"))
    await client.start_server()
    link = link_for(db, settings, "Siri Styring", NOW)
    assert link is not None
    path = link.split("beholde.example.no", 1)[1]
    token = re.search(r'name="t" value="([^"]+)"', await (await client.get(path)).text())
    assert token is not None
    signed = await client.post("/styring/inn", data={"t": token[1]}, allow_redirects=False)
    cookie = signed.cookies["beholde_styring"].value
    return client, cookie


async def measure(url: str, repeats: int) -> dict[str, list[tuple[float, float, int]]]:
    db = Database(url)
    with db.transaction() as session:
        people.create_person(session, "Siri Styring", NOW, role="steering")
    out: dict[str, list[tuple[float, float, int]]] = {}
    client, cookie = await server(db, url)
    out["first ever"] = [await fetch(client, cookie)]
    out["warm"] = [await fetch(client, cookie) for _ in range(repeats)]
    await client.close()
    out["cold"] = []
    for _ in range(repeats):
        client, cookie = await server(db, url)
        out["cold"].append(await fetch(client, cookie))
        await client.close()
    client, cookie = await server(db, url)
    await fetch(client, cookie)
    out["after release"] = []
    for _ in range(repeats):
        with db.transaction() as session:  # another output releases a figure
            session.add(ReleasedCell(round_id=1, measure="bench", group="*", contributors=99,
                                     released_on=NOW.date(), source="bench"))  # fmt: skip
        out["after release"].append(await fetch(client, cookie))
    await client.close()
    db.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--per-round", type=int, default=250)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/dashboard.db"
        started = time.perf_counter()
        rows, _seal = load(url, args.people, args.rounds, args.per_round)
        print(f"loaded {rows} answer rows, {args.rounds} rounds, 9 municipalities "
              f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
        results = asyncio.run(measure(url, args.repeats))
    print(f"{'case':<14} {'runs':>4} {'first byte (s)':>15} {'full page (s)':>14} {'KB':>6}")
    for case, runs in results.items():
        first = statistics.median(r[0] for r in runs)
        full = statistics.median(r[1] for r in runs)
        size = runs[-1][2] / 1024
        print(f"{case:<14} {len(runs):>4} {first:>15.3f} {full:>14.3f} {size:>6.0f}")


if __name__ == "__main__":
    main()
