"""Benchmark: SIGKILL `beholde serve` at 20 random points of a Telegram fan-out to 300 people.

The real service (python-telegram-bot against the fake Bot API, outbox, scheduler) is killed
and restarted 20 times while it sends one message to each of 300 people, on SQLite and on
PostgreSQL (tests/kill_harness.py). Reported: messages lost (must be 0), duplicates and the
sends in flight at each kill (Telegram had them, the outbox had not marked them; at most
the transport's concurrency, 32), and the time from restart to the first send.

    .venv/bin/python bench/kill_fanout.py [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from tests.kill_harness import CONCURRENCY, run_kills  # noqa: E402
from tests.pg_support import drop_database, scratch_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--postgres", help="also run on PostgreSQL (a fresh database there)")
    args = parser.parse_args()
    print(
        "| database | people | kills | lost | duplicates | in flight per kill (max / median) "
        "| ≤ concurrency | resume after /healthz s (max / median) | restart → first send s "
        "(max / median) | total s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="beholde-kill-") as tmp:
            url = (
                f"sqlite:///{tmp}/kill.db"
                if backend == "sqlite"
                else scratch_database(args.postgres, "beholde_kill")
            )
            try:
                r = run_kills(url, Path(tmp), people=args.people, kills=args.kills, seed_=args.seed)
            finally:
                if backend != "sqlite":
                    drop_database(url)
        ok = max(r.in_flight) <= CONCURRENCY and r.duplicates == sum(r.in_flight)
        print(
            f"| {r.backend} | {r.people} | {r.kills} | {r.lost} | {r.duplicates} "
            f"| {max(r.in_flight)} / {statistics.median(r.in_flight):g} | {'yes' if ok else 'NO'} "
            f"| {max(r.resume_s):.2f} / {statistics.median(r.resume_s):.2f} "
            f"| {max(r.restart_s):.2f} / {statistics.median(r.restart_s):.2f} | {r.total_s:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
