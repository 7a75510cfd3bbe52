"""Benchmark: the CLI's start-up and its two reading commands, each beside a reference.

    .venv/bin/python bench/cli_bench.py [--runs 7] [--language nb]

Pairs, run alternately (command, reference, command, reference, …) after one warm-up each,
every run a fresh process measured by the kernel (`os.wait4`: user+sys CPU, peak RSS) and a
wall clock:

* `beholde --help` beside `bench/cli_reference.py --help` (typer, lazy imports);
* `beholde round status` on a copy of the demo database with a round open (the
  participation table through the release path) beside `cli_reference.py status URL`
  (typer + SQLAlchemy + one count);
* `beholde round status` on the demo database itself (no round open: one sentence);
* `beholde summary` on the demo database beside `cli_reference.py summary URL` (typer +
  SQLAlchemy, the newest round's answers averaged in Python: a lower bound, without the
  suppression, the ledger and the words).

The databases are made first by `beholde demo --database sqlite:///…` in a temporary folder
(or taken from `--database FILE`). The modules are compiled first (`compileall`), as an
installed package would be. Prints min / median / max of CPU, wall and RSS per command and
the median of the per-pair CPU ratios; write `uptime` beside the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BEHOLDE = [PYTHON, "-c", "import sys; from bot.cli import app; sys.argv[0] = 'beholde'; app()"]
REFERENCE = [PYTHON, str(ROOT / "bench" / "cli_reference.py")]


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """CPU seconds (user+sys), wall seconds and peak RSS in MB of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr else b""
    if proc.returncode not in (0,):
        raise SystemExit(f"{' '.join(argv[-3:])} failed ({proc.returncode}): {err[-500:]!r}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024


def prepare(folder: Path, given: Path | None, env: dict[str, str]) -> tuple[str, str]:
    """The demo database (closed round) and a copy of it with a round open."""
    demo = folder / "demo.db"
    if given is not None:
        shutil.copy(given, demo)
    else:
        run([*BEHOLDE, "demo", "--database", f"sqlite:///{demo}"], env)
    opened = folder / "open.db"
    shutil.copy(demo, opened)
    run([*BEHOLDE, "round", "open"], {**env, "BEHOLDE_DATABASE_URL": f"sqlite:///{opened}"})
    return f"sqlite:///{demo}", f"sqlite:///{opened}"


def run(argv: list[str], env: dict[str, str]) -> None:
    subprocess.run(argv, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def spread(values: list[float], unit: str, digits: int) -> str:
    return " / ".join(f"{v:.{digits}f}" for v in (min(values), statistics.median(values),
                                                 max(values))) + f" {unit}"  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--language", default="nb", choices=("nb", "nn", "en"))
    parser.add_argument("--database", type=Path, help="a demo database to copy")
    args = parser.parse_args()
    subprocess.run([PYTHON, "-m", "compileall", "-q", "bot", "storage", "surveys"], cwd=ROOT,
                   check=True)  # fmt: skip
    secret = os.environ.get("BEHOLDE_PLANNING_SECRET", "bench")
    base = {**os.environ, "BEHOLDE_LANGUAGE": args.language, "BEHOLDE_LOG_LEVEL": "WARNING",
            "BEHOLDE_PLANNING_SECRET": secret}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        closed, opened = prepare(Path(tmp), args.database, base)
        on_closed = {**base, "BEHOLDE_DATABASE_URL": closed}
        on_open = {**base, "BEHOLDE_DATABASE_URL": opened}
        pairs = [
            ("--help", [*BEHOLDE, "--help"], [*REFERENCE, "--help"], on_closed),
            ("round status (open)", [*BEHOLDE, "round", "status"],
             [*REFERENCE, "status", opened], on_open),
            ("round status (none)", [*BEHOLDE, "round", "status"],
             [*REFERENCE, "status", closed], on_closed),
            ("summary", [*BEHOLDE, "summary"], [*REFERENCE, "summary", closed], on_closed),
        ]  # fmt: skip
        print(f"load before: {os.getloadavg()[0]:.2f}  runs: {args.runs}  lang: {args.language}")
        for name, command, reference, env in pairs:
            figures: dict[str, list[tuple[float, float, float]]] = {"cmd": [], "ref": []}
            measure(command, env), measure(reference, env)  # warm the page cache
            for _ in range(args.runs):
                figures["cmd"].append(measure(command, env))
                figures["ref"].append(measure(reference, env))
            ratios = [c[0] / r[0] for c, r in zip(figures["cmd"], figures["ref"], strict=True)]
            print(f"\n{name}  (CPU ratio, median of pairs: {statistics.median(ratios):.2f})")
            for who, rows in figures.items():
                cpu, wall, rss = (list(col) for col in zip(*rows, strict=True))
                label = "beholde  " if who == "cmd" else "reference"
                print(f"  {label} cpu {spread(cpu, 's', 3)}  wall {spread(wall, 's', 3)}  "
                      f"rss {spread(rss, 'MB', 0)}")  # fmt: skip
        print(f"\nload after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
