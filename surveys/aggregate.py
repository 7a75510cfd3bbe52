"""Plain aggregates of one round, with small groups suppressed (the demo and `round status`).

The steering-group summary builds on the same rules with more statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from surveys.anonymity import shown
from surveys.definition import Survey, factor_item_id


@dataclass(frozen=True)
class FactorRow:
    factor_id: str
    label: str
    experienced: float | None
    importance: float | None
    n: int

    @property
    def gap(self) -> float | None:
        if self.experienced is None or self.importance is None:
            return None
        return self.importance - self.experienced


def factor_rows(frame: pd.DataFrame, survey: Survey, k: int, lang: str = "nb") -> list[FactorRow]:
    """Mean experienced and importance per factor; None where fewer than k answered."""
    rows = []
    for factor in survey.factors:
        exp = frame.loc[frame["question_id"] == factor_item_id(factor.id, "exp"), "value"].dropna()
        imp = frame.loc[frame["question_id"] == factor_item_id(factor.id, "imp"), "value"].dropna()
        n = int(min(len(exp), len(imp)))
        visible = shown(n, k)
        rows.append(
            FactorRow(
                factor.id,
                factor.short[lang],
                float(exp.mean()) if visible else None,
                float(imp.mean()) if visible else None,
                n,
            )
        )
    return rows


def quit_share(frame: pd.DataFrame, k: int) -> tuple[float | None, int]:
    """Share who answered yes to "considered quitting", or None under k answers."""
    answers = frame.loc[frame["question_id"] == "quit", "value"].dropna()
    n = len(answers)
    return (float((answers == 1).mean()) if shown(n, k) else None), n


def group_counts(frame: pd.DataFrame, column: str) -> dict[str, int]:
    """Submissions per group (e.g. municipality)."""
    per = frame.drop_duplicates("submission_key").groupby(column, dropna=False).size()
    return {str(key): int(n) for key, n in per.items()}
