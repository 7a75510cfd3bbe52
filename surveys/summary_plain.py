"""The summary of one round from plain rows, without pandas.

A printed round has a few hundred to a few thousand answers; importing pandas (≈ 0.25 s,
≈ 50 MB) cost `beholde summary` more than computing them. `build_summary_rows` gives the
same `Summary` as `surveys.summary.build_summary` does from DataFrames of the same rows
(tests/test_summary_plain.py checks both on random rounds): the same k, the same
complementary suppression, the same statistics functions; it then goes through the same
release path (storage/releases.py). Every sum here is of integers (1–6 and 0–10 answers),
so the order of summation cannot make the two differ.

Rows are tuples in the column order of `storage.frames`: responses
(round_id, submission_key, question_id, value, text, complete, quote_ok) and facets
(round_id, facet, group_value, item, value, value2).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from surveys.anonymity import check_k, hidden_groups, shown
from surveys.definition import Survey
from surveys.stats import Estimate, net_promoter, two_share_difference, wilson
from surveys.summary import (
    FULL_80,
    MAX_QUOTES,
    POSITION_80,
    QUIT,
    RECOMMEND,
    UNKNOWN,
    GroupFactor,
    GroupShare,
    Previous,
    Summary,
    comment_figures,
    factor_changes,
    factor_stats,
    participation_table,
    priorities,
)
from surveys.themes import Lexicon

Row = Sequence[object]  # one response or facet row, as read by storage/frames.py
ROUND, SUBMISSION, QUESTION, VALUE, TEXT, COMPLETE, QUOTE_OK = range(7)
F_ROUND, F_FACET, F_GROUP, F_ITEM, F_VALUE, F_VALUE2 = range(6)


class Moment(NamedTuple):
    """Sufficient statistics of one factor in one round (the columns of MOMENT_COLUMNS)."""

    round_id: int
    factor_id: str
    n: int
    sum_e: int
    sum_e2: int
    sum_i: int
    sum_i2: int
    sum_d: int
    sum_d2: int


def _number(value: object) -> int | float | None:
    """A stored answer value as pandas' `to_numeric(errors="coerce")` reads it."""
    if value is None or isinstance(value, bool):
        return None if value is None else int(value)
    if isinstance(value, int | float):
        return None if value != value else value  # NaN is missing
    try:
        return float(str(value))
    except ValueError:
        return None


def factor_moments(rows: Iterable[Row]) -> list[Moment]:
    """Per round and factor, the submissions that answered both scales: n and the sums."""
    pairs: dict[tuple[object, object, str], dict[str, int | float]] = {}
    for row in rows:
        qid = str(row[QUESTION])
        if not qid.endswith((".exp", ".imp")):
            continue
        value = _number(row[VALUE])
        if value is None:
            continue
        kinds = pairs.setdefault((row[ROUND], row[SUBMISSION], qid[:-4]), {})
        kinds.setdefault(qid[-3:], value)  # the first answer, as pivot_table's "first"
    sums: dict[tuple[object, str], list[int | float]] = {}
    for (round_id, _, factor_id), kinds in pairs.items():
        if "exp" not in kinds or "imp" not in kinds:
            continue
        e, i = kinds["exp"], kinds["imp"]
        d = i - e
        total = sums.setdefault((round_id, factor_id), [0, 0, 0, 0, 0, 0, 0])
        for at, part in enumerate((1, e, e * e, i, i * i, d, d * d)):
            total[at] += part
    return [
        Moment(int(r), f, int(t[0]), *t[1:])  # type: ignore[call-overload, arg-type]
        for (r, f), t in sorted(sums.items(), key=lambda item: (str(item[0][0]), item[0][1]))
    ]


def _yes_no(rows: Iterable[Row], question_id: str) -> list[int | float]:
    """The answer of each submission (its first) to a yes/no question."""
    seen: set[object] = set()
    values = []
    for row in rows:
        if row[QUESTION] != question_id:
            continue
        value = _number(row[VALUE])
        if value is None or row[SUBMISSION] in seen:
            continue
        seen.add(row[SUBMISSION])
        values.append(value)
    return values


def share_yes(rows: Sequence[Row], question_id: str, k: int) -> tuple[Estimate | None, int, int]:
    """Share answering 1, with its Wilson interval (None under k); also yes and n."""
    values = _yes_no(rows, question_id)
    n, yes = len(values), sum(1 for v in values if v == 1)
    return (wilson(yes, n) if shown(n, k) else None), yes, n


def enps(rows: Iterable[Row], k: int) -> Estimate | None:
    scores = (_number(r[VALUE]) for r in rows if r[QUESTION] == RECOMMEND)
    values = [int(v) for v in scores if v is not None and 0 <= v <= 10]
    return net_promoter(values) if shown(len(values), k) else None


def comment_texts(rows: Iterable[Row], consented: bool = False) -> list[str]:
    """Non-empty free-text answers; `consented`: only those whose writer said yes."""
    out = []
    for row in rows:
        if row[TEXT] is None or (consented and row[QUOTE_OK] != 1):  # True == 1, as eq(True)
            continue
        text = str(row[TEXT]).strip()
        if text:
            out.append(text)
    return out


def share_by_group(facets: Iterable[Row], facet: str, item: str, k: int) -> tuple[GroupShare, ...]:
    """Share answering 1 per group of one facet, with complementary suppression."""
    counts: dict[str, int] = {}
    yes: dict[str, int] = {}
    for row in facets:
        if row[F_FACET] != facet or row[F_ITEM] != item:
            continue
        value = _number(row[F_VALUE])
        if value is None:
            continue
        group = UNKNOWN if row[F_GROUP] is None else str(row[F_GROUP])
        counts[group] = counts.get(group, 0) + 1
        if value == 1:
            yes[group] = yes.get(group, 0) + 1
    hidden = hidden_groups(counts, k)
    return tuple(
        GroupShare(group, None if group in hidden else wilson(yes.get(group, 0), counts[group]))
        for group in sorted(counts, key=lambda g: (-counts[g], g))
    )


def position_share(facets: Iterable[Row], k: int) -> Estimate | None:
    """Share of submissions with a position of 80 % or more (of those who told)."""
    known = [
        str(r[F_GROUP])
        for r in facets
        if r[F_FACET] == POSITION_80 and r[F_ITEM] == "" and r[F_GROUP] is not None
    ]
    n = len(known)
    return wilson(sum(1 for g in known if g == FULL_80), n) if shown(n, k) else None


def factors_by_group(
    facets: Sequence[Row], facet: str, factor_ids: Iterable[str], k: int
) -> tuple[GroupFactor, ...]:
    """Per factor, its means in each group, with k and complementary suppression per factor.

    As pandas' groupby: a missing experienced value counts in n but in no sum."""
    sums: dict[str, dict[str, list[float]]] = {}
    for row in facets:
        item = row[F_ITEM]
        if row[F_FACET] != facet or item in ("", QUIT, None) or row[F_VALUE2] is None:
            continue
        i = float(row[F_VALUE2])  # type: ignore[arg-type]
        e = None if row[F_VALUE] is None else float(row[F_VALUE])  # type: ignore[arg-type]
        group = UNKNOWN if row[F_GROUP] is None else str(row[F_GROUP])
        total = sums.setdefault(str(item), {}).setdefault(group, [0, 0.0, 0.0])
        total[0] += 1
        total[1] += e or 0.0
        total[2] += i
    out: list[GroupFactor] = []
    for factor_id in factor_ids:
        groups = sums.get(factor_id, {})
        counts = {g: int(t[0]) for g, t in groups.items()}
        hidden = hidden_groups(counts, k) if counts else set()
        for group in sorted(groups, key=lambda g: (-counts[g], g)):
            n, sum_e, sum_i = groups[group]
            if group in hidden:
                out.append(GroupFactor(factor_id, group, None))
            else:
                out.append(GroupFactor(factor_id, group, int(n), sum_e / n, sum_i / n))
    return tuple(out)


def build_summary_rows(
    responses: Sequence[Row],
    participation: Iterable[tuple[str | None, int, int]],
    survey: Survey,
    *,
    round_id: int,
    round_number: int,
    facets: Sequence[Row],
    k: int = 5,
    comment_threshold: int = 10,
    previous: Sequence[Row] | None = None,
    previous_number: int | None = None,
    previous_facets: Sequence[Row] = (),
    roster_names: Iterable[str] = (),
    lexicon: Lexicon | None = None,
    max_quotes: int = MAX_QUOTES,
    seed: str = "",
) -> Summary:
    """`surveys.summary.build_summary` for stored rows: the facet records are required
    (sealing stored them; synthetic frames with segment columns take the pandas path)."""
    check_k(k)
    comment_threshold = max(comment_threshold, k)
    factor_ids = survey.factor_ids
    frame = [r for r in responses if r[ROUND] == round_id]
    n_submissions = len({r[SUBMISSION] for r in frame})
    facets = [r for r in facets if r[F_ROUND] == round_id]

    moments = factor_moments(frame)
    factors = factor_stats(moments, factor_ids, k)
    changes = []
    quit_change = None
    prev_summary = None
    quit_now, yes_now, n_now = share_yes(frame, QUIT, k)
    if previous is not None and previous_number is not None and len(previous):
        changes = factor_changes(moments, factor_moments(previous), factor_ids, k)
        quit_before, yes_before, n_before = share_yes(previous, QUIT, k)
        if quit_before is not None and quit_now is not None:
            quit_change = two_share_difference(yes_before, n_before, yes_now, n_now)
        prev_summary = Previous(
            previous_number,
            len({r[SUBMISSION] for r in previous}),
            quit_before,
            enps(previous, k),
            position_share(previous_facets, k),
            int(previous[0][ROUND]),  # type: ignore[call-overload]
        )

    texts = comment_texts(frame)
    themes, quotes = comment_figures(
        texts, lambda: comment_texts(frame, consented=True), survey, comment_threshold,
        lexicon=lexicon, roster_names=roster_names, max_quotes=max_quotes,
        seed=f"{seed}:{round_id}",
    )  # fmt: skip

    counts = list(participation)
    invited = sum(int(c[1]) for c in counts)
    answered = sum(int(c[2]) for c in counts)
    return Summary(
        round_id=round_id,
        round_number=round_number,
        k=k,
        comment_threshold=comment_threshold,
        invited=invited,
        answered=answered if shown(answered, k) else None,
        submissions=n_submissions,
        participation=participation_table(counts, k),
        factors=tuple(factors),
        priorities=priorities(factors),
        changes=tuple(changes),
        quit=quit_now,
        quit_change=quit_change,
        quit_by_profession=share_by_group(facets, "profession", QUIT, k),
        factors_by_municipality=factors_by_group(facets, "municipality", factor_ids, k),
        enps=enps(frame, k),
        position_80=position_share(facets, k),
        comments=len(texts) if shown(len(texts), k) else None,
        themes=themes,
        quotes=quotes,
        previous=prev_summary,
        notes=() if shown(n_submissions, k) else ("too_few",),
    )
