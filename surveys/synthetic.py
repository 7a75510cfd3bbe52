"""Synthetic anonymous responses with a chosen shape (for tests, the benchmark and demos).

`survey_round` makes one round where every submission answers every factor, like the
Questback surveys of the Salten pilot (2019: 308 answers, 2021: 110 answers), with exact
shares of "considered quitting" and of positions of 80 % or more.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from surveys.definition import Survey

COLUMNS = [
    "round_id",
    "submission_key",
    "question_id",
    "value",
    "text",
    "complete",
    "municipality",
    "profession",
    "age_band",
    "tenure_band",
    "position_band",
    "shifts",
]

# Comments in the spirit of the report's themes (invented; no real person's words).
COMMENTS = {
    "ledelse": [
        "Savner en leder som ser oss og gir tilbakemelding",
        "Ledelsen er lite tilstede på avdelingen",
        "Bedre kommunikasjon med nærmeste leder hadde hjulpet",
    ],
    "organisering": [
        "Turnusen med tredje hver helg sliter meg ut",
        "For mange vakter alene, bemanningen er for lav",
        "Ønsker større stillingsprosent og en mer forutsigbar turnus",
    ],
    "innflytelse": [
        "Vil ha mer innflytelse på egen arbeidshverdag",
        "Vi blir ikke hørt når planene lages",
    ],
    "kompetanse_ubrukt": [
        "Har videreutdanning i demens som ikke blir brukt",
        "Får ikke brukt kompetansen min i det hele tatt",
    ],
    "faglig_utvikling": [
        "Ønsker flere kurs og faglig påfyll",
        "Mangler mulighet for videreutdanning",
    ],
    "annet": ["Lang reisevei om vinteren", "Lønna er for dårlig"],
}


def _values(rng: np.random.Generator, mean: float, n: int, lo: int = 1, hi: int = 6) -> np.ndarray:
    return np.clip(np.rint(rng.normal(mean, 1.0, n)), lo, hi).astype(int)


def _exact(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    """A shuffled 0/1 array with exactly round(share·n) ones."""
    ones = round(share * n)
    out = np.zeros(n, dtype=int)
    out[:ones] = 1
    rng.shuffle(out)
    return out


def survey_round(
    survey: Survey,
    *,
    round_id: int,
    n: int,
    quit_share: float,
    position_share: float,
    experienced: Mapping[str, float],
    importance: Mapping[str, float],
    municipalities: Sequence[str] = ("bodo", "fauske", "steigen", "gildeskal", "sorfold"),
    professions: Sequence[str] = ("sykepleier", "helsefagarbeider", "assistent"),
    comment_share: float = 0.5,
    recommend_mean: float = 7.0,
    seed: int = 1,
) -> pd.DataFrame:
    """One round of anonymous responses with exactly the given quitting and position shares."""
    rng = np.random.default_rng(seed)
    keys = [secrets.token_hex(16) for _ in range(n)]
    quit = _exact(rng, n, quit_share)
    full = _exact(rng, n, position_share)
    segments = pd.DataFrame(
        {
            "submission_key": keys,
            "municipality": rng.choice(list(municipalities), n),
            "profession": rng.choice(list(professions), n),
            "age_band": rng.choice(["u30", "30-39", "40-49", "50-59", "60+"], n),
            "tenure_band": rng.choice(["u2", "2-5", "6-10", "10+"], n),
            "position_band": np.where(
                full == 1, rng.choice(["80-99", "100"], n), rng.choice(["u50", "50-79"], n)
            ),
            "shifts": rng.choice(["1", "0"], n, p=[0.8, 0.2]),
        }
    )
    themes = list(COMMENTS)
    parts: list[pd.DataFrame] = []
    for factor in survey.factors:
        for kind, means in (("exp", experienced), ("imp", importance)):
            parts.append(
                segments.assign(
                    question_id=f"{factor.id}.{kind}",
                    value=_values(rng, means.get(factor.id, 4.0), n),
                    text=None,
                )
            )
    parts.append(segments.assign(question_id="quit", value=quit, text=None))
    parts.append(
        segments.assign(
            question_id="recommend", value=_values(rng, recommend_mean, n, 0, 10), text=None
        )
    )
    writes = (quit == 1) & (rng.random(n) < comment_share)
    texts = [
        COMMENTS[themes[i % len(themes)]][i % len(COMMENTS[themes[i % len(themes)]])]
        for i in range(int(writes.sum()))
    ]
    if texts:
        parts.append(segments.loc[writes].assign(question_id="quit_text", value=None, text=texts))
    frame = pd.concat(parts, ignore_index=True)
    frame["round_id"] = round_id
    frame["complete"] = True
    return frame[COLUMNS]


def participation_for(frame: pd.DataFrame, invited_per_answer: float = 1.0) -> pd.DataFrame:
    """A participation frame consistent with a response frame (every answer finished)."""
    subs = frame.drop_duplicates("submission_key")
    per = subs.groupby("municipality").size()
    return pd.DataFrame(
        {
            "municipality": per.index,
            "invited": np.ceil(per.to_numpy() * invited_per_answer).astype(int),
            "finished": per.to_numpy().astype(int),
        }
    )
