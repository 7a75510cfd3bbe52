"""Benchmark: the steering-group summary over 1,000,000 stored responses.

10,000 people on the roster, 100 rounds; each round about 1,250 people answer a pulse of
3 factors (both scales) plus "considered quitting" and "recommend": 8 rows each, 10,000 rows
per round, 1,000,000 in all, and 1,000,000 invitations. Measured, each in a fresh process:

* `round`: the summary posted when a round closes (its responses, the previous round's,
  participation; statistics, suppression, text) — what `beholde summary` does;
* `seal`: storing one closed round's sufficient statistics (`store_round_moments`, what
  `close_round` does), timed over all 100 rounds at load;
* `trend`: per round and factor, the paired sufficient statistics over all 100 rounds plus the
  quitting share per round, read from the moments stored at seal
  (`storage.summaries.trend_moments`), turned into per-round factor statistics;
* `trend_raw`: the same from every stored answer, the GROUP BY pushed into SQL
  (`storage.summaries.factor_moments`) — what the trend cost before moments were stored;
* `duckdb`: the same `trend` aggregates computed by DuckDB over the same rows (loaded from
  the SQLite file through pandas; the load is timed separately), checked equal.

Peak memory is the measuring process's peak resident set size (VmHWM, reset at its start,
so it includes the interpreter, pandas, SQLAlchemy and matplotlib themselves).

Reproduce (DuckDB is for this benchmark only: `.venv/bin/pip install duckdb`):

    .venv/bin/python bench/summary_bench.py \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.db import Database, normalise_url  # noqa: E402
from storage.models import Facet, Invitation, Person, Response, Round  # noqa: E402
from surveys.summary import facets_of  # noqa: E402

MUNICIPALITIES = ["bodo", "steigen", "sorfold", "fauske", "saltdal", "beiarn", "gildeskal",
                  "hamaroy", "meloy"]  # fmt: skip
PROFESSIONS = ["sykepleier", "helsefagarbeider", "vernepleier", "assistent", "annet"]
POSITIONS = ["u50", "50-79", "80-99", "100"]
FACTORS = [f"F{i:02d}" for i in range(1, 11)]


def reset_peak() -> None:
    """Forget the peak inherited from the parent at fork (Linux: clear_refs 5)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_mb() -> float:
    """This process's peak resident set size since `reset_peak` (VmHWM), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- data


def generate(people: int, rounds: int, per_round: int, seed: int = 7) -> tuple[pd.DataFrame, ...]:
    """People, rounds, invitations and responses as frames (vectorised, a few seconds)."""
    rng = np.random.default_rng(seed)
    person = pd.DataFrame(
        {
            "id": np.arange(1, people + 1),
            "municipality": rng.choice(MUNICIPALITIES, people),
            "profession": rng.choice(PROFESSIONS, people),
            "position_band": rng.choice(POSITIONS, people),
        }
    )
    round_ids = np.arange(1, rounds + 1)
    invitations = pd.DataFrame(
        {
            "id": np.arange(1, people * rounds + 1),
            "round_id": np.repeat(round_ids, people),
            "person_id": np.tile(person["id"].to_numpy(), rounds),
            "status": "invited",
        }
    )
    parts = []
    for r in round_ids:
        who = rng.choice(people, per_round, replace=False)
        invitations.loc[(r - 1) * people + who, "status"] = "finished"
        keys = np.array([secrets.token_hex(16) for _ in range(per_round)])
        factors = np.array([rng.choice(10, 3, replace=False) for _ in range(per_round)])
        qids, subs = [], []
        for j in range(3):
            for kind in ("exp", "imp"):
                qids.append(np.char.add(np.array(FACTORS)[factors[:, j]], f".{kind}"))
                subs.append(np.arange(per_round))
        qids += [np.full(per_round, "quit"), np.full(per_round, "recommend")]
        subs += [np.arange(per_round)] * 2
        sub = np.concatenate(subs)
        qid = np.concatenate(qids)
        value = np.where(
            qid == "recommend",
            rng.integers(0, 11, len(qid)),
            np.where(qid == "quit", rng.integers(0, 2, len(qid)), rng.integers(1, 7, len(qid))),
        )
        seg = person.iloc[who[sub]]
        parts.append(
            pd.DataFrame(
                {
                    "round_id": r,
                    "submission_key": keys[sub],
                    "question_id": qid,
                    "value": value,
                    "complete": True,
                    "municipality": seg["municipality"].to_numpy(),
                    "profession": seg["profession"].to_numpy(),
                    "position_band": seg["position_band"].to_numpy(),
                }
            )
        )
    responses = pd.concat(parts, ignore_index=True)
    # As sealing stores them: answers without background, each attribute its own record.
    facets = pd.concat([facets_of(part.assign(text=None)) for part in parts], ignore_index=True)
    facets.insert(0, "id", [secrets.token_hex(16) for _ in range(len(facets))])
    responses.insert(0, "id", [secrets.token_hex(16) for _ in range(len(responses))])
    return person, invitations, responses, facets


def load(url: str, people: int, rounds: int, per_round: int) -> tuple[int, float]:
    """Create the schema, fill it, seal every round's moments; responses and seal seconds."""
    person, invitations, responses, facets = generate(people, rounds, per_round)
    db = Database(url)
    db.upgrade()
    now = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    person_rows = person.assign(
        key=lambda f: "p" + f["id"].astype(str),
        name=lambda f: "Person " + f["id"].astype(str),
        language="nb",
        role="employee",
        status="active",
        created_at=now,
    )
    round_rows = pd.DataFrame(
        {
            "id": np.arange(1, rounds + 1),
            "number": np.arange(1, rounds + 1),
            "seed": "s",
            "per_pulse": 3,
            "status": "closed",
            "opened_at": now,
            "closes_at": now,
            "closed_at": now,
        }
    )
    with db.engine.begin() as conn:
        for table in ("round_moments", "facets", "responses", "invitations", "rounds", "people"):
            conn.execute(text(f"DELETE FROM {table}"))
    # Core inserts fill every column default the models declare (the schema may grow).
    tables = (
        (Person.__table__, person_rows),
        (Round.__table__, round_rows),
        (Invitation.__table__, invitations),
        (
            Response.__table__,
            responses[["id", "round_id", "submission_key", "question_id", "value", "complete"]],
        ),
        (Facet.__table__, facets.astype(object).where(facets.notna(), None)),
    )
    for table, frame in tables:
        for start in range(0, len(frame), 50_000):
            rows = frame.iloc[start : start + 50_000].to_dict("records")
            with db.engine.begin() as conn:
                conn.execute(table.insert(), rows)
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    from storage.summaries import store_round_moments

    started = time.perf_counter()
    for round_id in range(1, rounds + 1):
        with db.transaction() as session:
            store_round_moments(session, round_id)
    seal = (time.perf_counter() - started) / rounds
    db.dispose()
    return len(responses), seal


# --------------------------------------------------------------------------- measurements


def measure_round(url: str, round_number: int) -> dict[str, float]:
    from bot.summaries import SummaryOptions, compose
    from bot.summary_text import full_text
    from storage import summaries as store
    from surveys.definition import load_survey

    survey = load_survey()
    db = Database(url)
    started = time.perf_counter()
    with db.transaction() as session:
        round_ = store.pick_round(session, round_number)
        summary = compose(session, survey, round_, SummaryOptions())
    text_ = full_text(summary, survey, "nb")
    wall = time.perf_counter() - started
    from bot.summary_chart import chart_png

    t = time.perf_counter()
    chart_png(summary, survey)
    chart = time.perf_counter() - t
    db.dispose()
    return {
        "wall_s": wall,
        "chart_s": chart,
        "peak_mb": peak_mb(),
        "submissions": summary.submissions,
        "chars": len(text_),
    }


QUIT_SQL = """
SELECT round_id, COUNT(*) AS n, SUM(value) AS yes FROM responses
WHERE question_id = 'quit' AND value IS NOT NULL GROUP BY round_id ORDER BY round_id
"""
TREND_SQL = """
WITH pairs AS (
  SELECT round_id, submission_key, substr(question_id, 1, length(question_id) - 4) AS factor_id,
         MAX(CASE WHEN question_id LIKE '%.exp' THEN value END) AS e,
         MAX(CASE WHEN question_id LIKE '%.imp' THEN value END) AS i
  FROM responses
  WHERE (question_id LIKE '%.exp' OR question_id LIKE '%.imp') AND value IS NOT NULL
  GROUP BY round_id, submission_key, factor_id)
SELECT round_id, factor_id, COUNT(*) AS n,
       SUM(e::DOUBLE) AS sum_e, SUM(e::DOUBLE * e) AS sum_e2,
       SUM(i::DOUBLE) AS sum_i, SUM(i::DOUBLE * i) AS sum_i2,
       SUM(i::DOUBLE - e) AS sum_d, SUM((i::DOUBLE - e) * (i - e)) AS sum_d2
FROM pairs WHERE e IS NOT NULL AND i IS NOT NULL
GROUP BY round_id, factor_id ORDER BY round_id, factor_id
"""


def measure_trend(url: str) -> dict[str, float]:
    from storage import summaries as store
    from surveys.definition import load_survey
    from surveys.summary import factor_stats_by_round

    survey = load_survey()
    db = Database(url)
    started = time.perf_counter()
    with db.transaction() as session:
        if os.environ.get("BENCH_RAW"):
            moments = store.factor_moments(session)
            quit_ = pd.DataFrame(session.execute(text(QUIT_SQL)).all(), columns=["r", "n", "yes"])
        else:
            moments, quit_ = store.trend_moments(session)
    per_round = factor_stats_by_round(moments, survey.factor_ids, 5)
    wall = time.perf_counter() - started
    db.dispose()
    moments.to_pickle(os.environ["BENCH_OUT"])
    return {"wall_s": wall, "peak_mb": peak_mb(), "rounds": len(per_round),
            "quit_rows": len(quit_)}  # fmt: skip


def measure_duckdb(sqlite_url: str) -> dict[str, float]:
    import duckdb

    engine = create_engine(normalise_url(sqlite_url))
    t = time.perf_counter()
    with engine.connect() as conn:
        frame = pd.read_sql(
            text("SELECT round_id, submission_key, question_id, value FROM responses"), conn
        )
    load_s = time.perf_counter() - t
    con = duckdb.connect()
    con.register("responses_df", frame)
    con.execute("CREATE TABLE responses AS SELECT * FROM responses_df")
    con.unregister("responses_df")
    del frame
    started = time.perf_counter()
    moments = con.execute(TREND_SQL).df()
    quit_ = con.execute(QUIT_SQL).df()
    wall = time.perf_counter() - started
    moments.to_pickle(os.environ["BENCH_OUT"])
    return {"wall_s": wall, "load_s": load_s, "peak_mb": peak_mb(), "quit_rows": len(quit_)}


def child(kind: str, url: str, extra: str = "") -> dict[str, float]:
    """Run one measurement in a fresh interpreter, so peak memory is its own."""
    out = subprocess.run(
        [sys.executable, __file__, "--measure", kind, "--url", url, "--round", extra or "0"],
        check=True,
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--per-round", type=int, default=1_250, help="pulses per round")
    parser.add_argument("--sqlite", default=None, help="SQLite file (default: a temp file)")
    parser.add_argument("--postgres", default=os.environ.get("BEHOLDE_BENCH_POSTGRES"))
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        reset_peak()
        fn = {"round": lambda: measure_round(args.url, args.round),
              "trend": lambda: measure_trend(args.url),
              "duckdb": lambda: measure_duckdb(args.url)}[args.measure]  # fmt: skip
        print(json.dumps(fn()))
        return

    tmp = tempfile.mkdtemp(prefix="beholde-bench-")
    urls = {"sqlite": f"sqlite:///{args.sqlite or Path(tmp) / 'bench.db'}"}
    pg_admin = None
    if args.postgres:
        base = normalise_url(args.postgres)
        name = f"beholde_bench_{secrets.token_hex(3)}"
        pg_admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with pg_admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        urls["postgresql"] = base.rsplit("/", 1)[0] + "/" + name
    results: dict[str, dict[str, object]] = {}
    try:
        for backend, url in urls.items():
            t = time.perf_counter()
            n, seal = load(url, args.people, args.rounds, args.per_round)
            print(f"{backend}: loaded {n:,} responses in {time.perf_counter() - t:.0f} s",
                  flush=True)  # fmt: skip
            os.environ["BENCH_OUT"] = str(Path(tmp) / f"{backend}_trend_raw.pkl")
            os.environ["BENCH_RAW"] = "1"
            raw = child("trend", url)
            del os.environ["BENCH_RAW"]
            os.environ["BENCH_OUT"] = str(Path(tmp) / f"{backend}_trend.pkl")
            results[backend] = {
                "responses": n,
                "seal_s_per_round": seal,
                "round": child("round", url, str(args.rounds)),
                "trend": child("trend", url),
                "trend_raw": raw,
            }
            print(backend, json.dumps(results[backend]), flush=True)
        os.environ["BENCH_OUT"] = str(Path(tmp) / "duckdb_trend.pkl")
        results["duckdb"] = {"trend": child("duckdb", urls["sqlite"])}
        print("duckdb", json.dumps(results["duckdb"]), flush=True)
        ours = pd.read_pickle(Path(tmp) / "sqlite_trend.pkl")
        theirs = pd.read_pickle(Path(tmp) / "duckdb_trend.pkl")
        cols = ["n", "sum_e", "sum_e2", "sum_i", "sum_i2", "sum_d", "sum_d2"]
        same = np.allclose(ours[cols].astype(float).to_numpy(),
                           theirs[cols].astype(float).to_numpy())  # fmt: skip
        print(f"DuckDB aggregates equal to SQLite's: {same}")
    finally:
        if pg_admin is not None:
            with pg_admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            pg_admin.dispose()


if __name__ == "__main__":
    main()
