"""Run the hostile-input corpus (tests/hostile) and count what happened, per surface.

Every case records a verdict (tests/hostile/support.py): unhandled exceptions, HTTP 5xx,
tables that changed where nothing should, cases without a clear reply or status, and secrets
or planted markers that reached the log. This script runs the suite in-process with pytest,
collects the verdicts from the test reports and prints one row per surface and database,
then the totals; exit code 1 when any count is not zero or a case failed.

    .venv/bin/python bench/hostile_tally.py                      # SQLite only
    .venv/bin/python bench/hostile_tally.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
COUNTS = ("exceptions", "http_5xx", "state_changes", "unclear", "leaks")


class Tally:
    """A pytest plugin: one verdict per case, from the report's user_properties."""

    def __init__(self) -> None:
        self.verdicts: dict[str, dict[str, Any]] = {}
        self.failed: dict[str, str] = {}
        self.backend: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == "hostile" and value["surface"] != "judge":  # test_judge.py: not cases
                self.verdicts[report.nodeid] = value
        if "[postgresql" in report.nodeid:
            self.backend[report.nodeid] = "postgresql"
        elif "[sqlite" in report.nodeid:
            self.backend[report.nodeid] = "sqlite"
        if report.failed:
            self.failed[report.nodeid] = report.when


def table(tally: Tally) -> tuple[list[list[str]], bool]:
    rows: dict[tuple[str, str], collections.Counter[str]] = collections.defaultdict(
        collections.Counter
    )
    for nodeid, verdict in tally.verdicts.items():
        key = (verdict["surface"], tally.backend.get(nodeid, "-"))
        rows[key]["cases"] += 1
        rows[key]["failed"] += nodeid in tally.failed
        for name in COUNTS:
            rows[key][name] += int(verdict[name])
    unjudged = [n for n in tally.failed if n not in tally.verdicts]
    total: collections.Counter[str] = collections.Counter()
    out = []
    for (surface, backend), counts in sorted(rows.items()):
        total.update(counts)
        out.append([surface, backend, *(str(counts[c]) for c in ("cases", *COUNTS, "failed"))])
    out.append(["**all**", "", *(str(total[c]) for c in ("cases", *COUNTS, "failed"))])
    clean = not unjudged and all(total[c] == 0 for c in (*COUNTS, "failed"))
    if unjudged:
        out.append([f"failed without a verdict: {len(unjudged)}", "", *[""] * 7])
    return out, clean


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="also run every case on this PostgreSQL server")
    parser.add_argument("-k", default="", help="pytest -k expression (a subset of the corpus)")
    args = parser.parse_args()
    if args.postgres:
        os.environ["BEHOLDE_TEST_DATABASE_URL"] = args.postgres
    else:
        os.environ.pop("BEHOLDE_TEST_DATABASE_URL", None)
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    tally = Tally()
    options = ["-q", "-p", "no:cacheprovider", "--no-header", "-rN", "tests/hostile"]
    if args.k:
        options += ["-k", args.k]
    started = time.perf_counter()
    pytest.main(options, plugins=[tally])
    seconds = time.perf_counter() - started
    rows, clean = table(tally)
    head = ["surface", "database", "cases", "unhandled exceptions", "HTTP 5xx",
            "state changes", "no clear reply", "secrets in log", "failed"]  # fmt: skip
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\n{len(tally.verdicts)} cases judged in {seconds:.1f} s")
    return 0 if clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
