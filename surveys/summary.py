"""The steering-group summary of one pulse round, as pure functions of DataFrames.

Input: the anonymous `responses` of a round (and of the previous round, for change), the
participation counts per municipality, the survey. Output: a `Summary` whose every figure
already obeys the anonymity rules (surveys/anonymity.py): nothing for a group under k,
complementary suppression where a total is shown, free text only as themes from at least
`comment_threshold` comments. Rendering, charts and exports only ever read a `Summary`.

Statistics: the gap (importance − experienced) is a paired difference per submission, with a
t interval; change between rounds compares independent samples (Welch); shares use Wilson
intervals; eNPS uses a normal approximation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from surveys.anonymity import check_k, hidden_groups, shown
from surveys.definition import Survey
from surveys.stats import (
    Estimate,
    mean_interval,
    mean_var,
    net_promoter,
    two_share_difference,
    welch_difference,
    wilson,
)
from surveys.themes import Lexicon, load_lexicon, name_tokens, pick_quotes, theme_counts

UNKNOWN = ""  # the group of people who skipped a background question
FEW = 30  # below this many answers per round, a change is read with extra care
PRIORITY_MIN_IMPORTANCE = 4.0  # "important to people": upper half of the 1–6 scale
MAX_PRIORITIES = 3
# A comment is quoted (scrubbed of names, phone numbers and e-mail addresses) only when its
# writer said yes to "Kan vi sitere deg anonymt?" right after writing it (the `quote_ok`
# column), and only once the round's comments pass the comment threshold; every other
# comment counts only in the themes.
MAX_QUOTES = 3
QUOTE_CONSENT = "quote_ok"
FULL_POSITION = ("80-99", "100")
POSITION_80 = "position_80"  # the facet: "80+" or "u80"
FULL_80 = "80+"
FACTORS_BY = ("municipality", "profession")  # the facets factor answers are stored by
FACET_COLUMNS = ["round_id", "facet", "group_value", "item", "value", "value2"]
QUIT = "quit"
QUIT_TEXT = "quit_text"
RECOMMEND = "recommend"

MOMENT_COLUMNS = [
    "round_id",
    "factor_id",
    "n",
    "sum_e",
    "sum_e2",
    "sum_i",
    "sum_i2",
    "sum_d",
    "sum_d2",
]


@dataclass(frozen=True)
class ParticipationRow:
    """Invited and answered in one municipality; `answered` None when hidden."""

    group: str
    invited: int
    answered: int | None
    held: bool = False  # hidden by the release ledger, not by k

    @property
    def rate(self) -> float | None:
        if self.answered is None or self.invited == 0:
            return None
        return self.answered / self.invited


@dataclass(frozen=True)
class GroupShare:
    """A share in one group (e.g. a profession); None when the group is hidden."""

    group: str
    share: Estimate | None


@dataclass(frozen=True)
class GroupFactor:
    """One factor in one group (municipality); the means None when the group is hidden."""

    factor_id: str
    group: str
    n: int | None
    experienced: float | None = None
    importance: float | None = None

    @property
    def gap(self) -> float | None:
        if self.experienced is None or self.importance is None:
            return None
        return self.importance - self.experienced


@dataclass(frozen=True)
class FactorStat:
    """One factor in one round, from submissions that answered both of its scales."""

    factor_id: str
    n: int
    experienced: float | None = None
    importance: float | None = None
    gap: Estimate | None = None  # importance − experienced, paired, 95 % CI
    held: bool = False  # hidden by the release ledger although n ≥ k

    @property
    def shown(self) -> bool:
        return self.gap is not None


@dataclass(frozen=True)
class FactorChange:
    """Experienced now − before, with a Welch 95 % interval and a plain verdict."""

    factor_id: str
    n_before: int
    n_now: int
    experienced: Estimate | None = None
    gap_change: float | None = None
    verdict: str = "hidden"  # up | down | unclear | hidden
    held: bool = False

    @property
    def few(self) -> bool:
        return min(self.n_before, self.n_now) < FEW


@dataclass(frozen=True)
class Previous:
    """The previous round's headline figures (already suppressed)."""

    round_number: int
    submissions: int
    quit: Estimate | None
    enps: Estimate | None
    position_80: Estimate | None
    round_id: int | None = None


@dataclass(frozen=True)
class Summary:
    """Everything the steering group sees about one round — and nothing else."""

    round_id: int
    round_number: int
    k: int
    comment_threshold: int
    invited: int
    answered: int | None  # finished pulses (invitations); None under k
    submissions: int  # anonymous submissions stored, including partial ones
    participation: tuple[ParticipationRow, ...]
    factors: tuple[FactorStat, ...]
    priorities: tuple[str, ...]
    changes: tuple[FactorChange, ...]
    quit: Estimate | None
    quit_change: Estimate | None
    quit_by_profession: tuple[GroupShare, ...]
    enps: Estimate | None
    position_80: Estimate | None
    comments: int | None  # None under k (a count is a figure too)
    themes: tuple[tuple[str, int], ...] | None  # None: too few comments to show
    quotes: tuple[tuple[str, str], ...]
    previous: Previous | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    # What the release ledger held back: measure ids ("factor:F03", "quit", "participation").
    withheld: tuple[str, ...] = ()
    # Factor means by municipality, from the facet records, suppressed per factor.
    factors_by_municipality: tuple[GroupFactor, ...] = ()

    @property
    def rate(self) -> float | None:
        return self.answered / self.invited if self.invited and self.answered else None

    def factor(self, factor_id: str) -> FactorStat:
        return next(f for f in self.factors if f.factor_id == factor_id)

    def change(self, factor_id: str) -> FactorChange | None:
        return next((c for c in self.changes if c.factor_id == factor_id), None)

    @property
    def biggest_gap(self) -> FactorStat | None:
        visible = [f for f in self.factors if f.gap is not None]
        return max(visible, key=lambda f: f.gap.value if f.gap else 0, default=None)

    @property
    def biggest_change(self) -> FactorChange | None:
        clear = [c for c in self.changes if c.verdict in ("up", "down") and c.experienced]
        return max(clear, key=lambda c: abs(c.experienced.value) if c.experienced else 0.0,
                   default=None)  # fmt: skip


# --------------------------------------------------------------------------- building blocks


def _values(frame: pd.DataFrame) -> pd.Series:
    import pandas as pd

    return pd.to_numeric(frame["value"], errors="coerce")


def submissions(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per submission with its segment (segments are the same on all its rows)."""
    if frame.empty:
        return frame.iloc[0:0]
    return frame.drop_duplicates("submission_key")


def factor_moments(frame: pd.DataFrame) -> pd.DataFrame:
    """Per round and factor, sufficient statistics of the submissions answering both scales.

    The same columns come out of `storage.summary_sql.factor_moments`, which computes them in
    the database for many rounds at once; `factor_stats` reads either.
    """
    import pandas as pd

    if frame.empty:
        return pd.DataFrame(columns=MOMENT_COLUMNS)
    frame = frame.reset_index(drop=True)
    qid = frame["question_id"].astype(str)
    items = frame.loc[qid.str.endswith((".exp", ".imp")), ["round_id", "submission_key"]].copy()
    if items.empty:
        return pd.DataFrame(columns=MOMENT_COLUMNS)
    chosen = qid[items.index]
    items["factor_id"] = chosen.str[:-4]
    items["kind"] = chosen.str[-3:]
    items["value"] = _values(frame.loc[items.index])
    wide = items.pivot_table(
        index=["round_id", "submission_key", "factor_id"],
        columns="kind",
        values="value",
        aggfunc="first",
    )
    if "exp" not in wide or "imp" not in wide:
        return pd.DataFrame(columns=MOMENT_COLUMNS)
    wide = wide.dropna(subset=["exp", "imp"])
    e, i = wide["exp"].astype(float), wide["imp"].astype(float)
    d = i - e
    parts = pd.DataFrame({"e": e, "e2": e * e, "i": i, "i2": i * i, "d": d, "d2": d * d})
    grouped = parts.groupby(level=["round_id", "factor_id"])
    out = grouped.sum()
    out["n"] = grouped.size()
    out = out.reset_index().rename(
        columns={
            "e": "sum_e",
            "e2": "sum_e2",
            "i": "sum_i",
            "i2": "sum_i2",
            "d": "sum_d",
            "d2": "sum_d2",
        }
    )
    return out[MOMENT_COLUMNS]


def _moment_rows(moments: pd.DataFrame | Iterable[Any]) -> Iterable[Any]:
    """Rows with the MOMENT_COLUMNS as attributes: a DataFrame's, or plain named tuples
    (surveys/summary_plain.py)."""
    if hasattr(moments, "itertuples"):
        return moments.itertuples(index=False)
    return moments


def factor_stats(
    moments: pd.DataFrame | Iterable[Any], factor_ids: Iterable[str], k: int
) -> list[FactorStat]:
    """Means, gap and its interval per factor; only n for factors with fewer than k."""
    by_factor = {str(r.factor_id): r for r in _moment_rows(moments)}
    out = []
    for factor_id in factor_ids:
        row = by_factor.get(factor_id)
        n = int(row.n) if row is not None else 0
        if row is None or not shown(n, k):
            out.append(FactorStat(factor_id, n))
            continue
        out.append(
            FactorStat(
                factor_id,
                n,
                experienced=float(row.sum_e) / n,
                importance=float(row.sum_i) / n,
                gap=mean_interval(n, float(row.sum_d), float(row.sum_d2)),
            )
        )
    return out


def factor_stats_by_round(
    moments: pd.DataFrame, factor_ids: Iterable[str], k: int
) -> dict[int, list[FactorStat]]:
    """`factor_stats` for many rounds at once (a trend), in one pass over the moments."""
    factor_ids = list(factor_ids)
    by_round: dict[int, dict[str, Any]] = {}
    for row in moments.itertuples(index=False):
        by_round.setdefault(int(row.round_id), {})[str(row.factor_id)] = row
    out = {}
    for round_id, rows in by_round.items():
        stats = []
        for factor_id in factor_ids:
            row = rows.get(factor_id)
            n = int(row.n) if row is not None else 0
            if row is None or not shown(n, k):
                stats.append(FactorStat(factor_id, n))
                continue
            stats.append(
                FactorStat(factor_id, n, float(row.sum_e) / n, float(row.sum_i) / n,
                           mean_interval(n, float(row.sum_d), float(row.sum_d2)))
            )  # fmt: skip
        out[round_id] = stats
    return out


def factor_changes(
    now: pd.DataFrame | Iterable[Any],
    before: pd.DataFrame | Iterable[Any],
    factor_ids: Iterable[str],
    k: int,
) -> list[FactorChange]:
    """Change in experienced per factor between two rounds (independent samples)."""
    rows_now = {str(r.factor_id): r for r in _moment_rows(now)}
    rows_before = {str(r.factor_id): r for r in _moment_rows(before)}
    out = []
    for factor_id in factor_ids:
        a, b = rows_before.get(factor_id), rows_now.get(factor_id)
        n1, n2 = (int(a.n) if a is not None else 0), (int(b.n) if b is not None else 0)
        if a is None or b is None or not (shown(n1, k) and shown(n2, k)):
            out.append(FactorChange(factor_id, n1, n2))
            continue
        m1, v1 = mean_var(n1, float(a.sum_e), float(a.sum_e2))
        m2, v2 = mean_var(n2, float(b.sum_e), float(b.sum_e2))
        diff = welch_difference(n1, m1, v1, n2, m2, v2)
        gap_change = float(b.sum_d) / n2 - float(a.sum_d) / n1
        verdict = "unclear"
        if diff.excludes_zero:
            verdict = "up" if diff.value > 0 else "down"
        out.append(FactorChange(factor_id, n1, n2, diff, gap_change, verdict))
    return out


def priorities(factors: Iterable[FactorStat]) -> tuple[str, ...]:
    """Important to people yet weakly experienced: importance ≥ 4 and a gap surely above 0."""
    candidates = [
        f
        for f in factors
        if f.gap is not None
        and f.importance is not None
        and f.importance >= PRIORITY_MIN_IMPORTANCE
        and f.gap.low > 0
    ]
    candidates.sort(key=lambda f: -(f.gap.value if f.gap else 0))
    return tuple(f.factor_id for f in candidates[:MAX_PRIORITIES])


def yes_no(frame: pd.DataFrame, question_id: str) -> pd.DataFrame:
    """Submission, segment and 0/1 answer for a yes/no question."""
    rows = frame.loc[frame["question_id"] == question_id].copy()
    rows["value"] = _values(rows)
    return rows.dropna(subset=["value"]).drop_duplicates("submission_key")


def share_yes(frame: pd.DataFrame, question_id: str, k: int) -> tuple[Estimate | None, int, int]:
    """Share answering 1, with its Wilson interval (None under k); also yes and n."""
    rows = yes_no(frame, question_id)
    n, yes = len(rows), int((rows["value"] == 1).sum())
    return (wilson(yes, n) if shown(n, k) else None), yes, n


def share_by_group(facets: pd.DataFrame, facet: str, item: str, k: int) -> tuple[GroupShare, ...]:
    """Share answering 1 per group of one facet, with complementary suppression."""
    import pandas as pd

    rows = facets.loc[(facets["facet"] == facet) & (facets["item"] == item)]
    rows = rows.assign(value=pd.to_numeric(rows["value"], errors="coerce")).dropna(subset=["value"])
    if rows.empty:
        return ()
    groups = rows["group_value"].fillna(UNKNOWN).astype(str)
    counts = groups.value_counts().to_dict()
    # Not `rows.loc[yes].assign(g=groups)`: assigning a Series to an empty frame takes the
    # Series' index, so a group where nobody said yes came out as all yes.
    yes = groups.loc[rows["value"] == 1].value_counts().to_dict()
    hidden = hidden_groups({str(g): int(n) for g, n in counts.items()}, k)
    out = []
    for group in sorted(counts, key=lambda g: (-counts[g], g)):
        n = int(counts[group])
        out.append(
            GroupShare(group, None if group in hidden else wilson(int(yes.get(group, 0)), n))
        )
    return tuple(out)


def enps(frame: pd.DataFrame, k: int) -> Estimate | None:
    scores = _values(frame.loc[frame["question_id"] == RECOMMEND]).dropna()
    values = [int(v) for v in scores if 0 <= v <= 10]
    return net_promoter(values) if shown(len(values), k) else None


def position_share(facets: pd.DataFrame, k: int) -> Estimate | None:
    """Share of submissions with a position of 80 % or more (of those who told)."""
    rows = facets.loc[(facets["facet"] == POSITION_80) & (facets["item"] == "")]
    known = rows["group_value"].dropna().astype(str)
    n = len(known)
    return wilson(int((known == FULL_80).sum()), n) if shown(n, k) else None


def factors_by_group(
    facets: pd.DataFrame, facet: str, factor_ids: Iterable[str], k: int
) -> tuple[GroupFactor, ...]:
    """Per factor, its means in each group, with k and complementary suppression per factor."""
    if facets.empty:
        return ()
    moments = factor_moments_by(facets, facet)
    out: list[GroupFactor] = []
    for factor_id in factor_ids:
        rows = moments.loc[moments["factor_id"] == factor_id]
        counts = {str(r.group): int(r.n) for r in rows.itertuples()}
        hidden = hidden_groups(counts, k) if counts else set()
        for r in sorted(rows.itertuples(), key=lambda r: (-int(r.n), str(r.group))):
            n = int(r.n)
            if str(r.group) in hidden:
                out.append(GroupFactor(factor_id, str(r.group), None))
            else:
                out.append(
                    GroupFactor(factor_id, str(r.group), n, float(r.sum_e) / n, float(r.sum_i) / n)
                )
    return tuple(out)


def facets_of(frame: pd.DataFrame) -> pd.DataFrame:
    """Facet records as sealing stores them, from a frame whose rows carry segment columns.

    For synthetic rounds and benchmarks only: the stored path reads `facets` directly
    (storage/frames.py), where each attribute was checked against k on the roster.
    """
    import pandas as pd

    if frame.empty or "municipality" not in frame:
        return pd.DataFrame(columns=FACET_COLUMNS)
    subs = submissions(frame).set_index("submission_key")
    out = []
    moments = frame.loc[frame["question_id"].astype(str).str.endswith((".exp", ".imp"))]
    if not moments.empty:
        pairs = moments.assign(
            item=moments["question_id"].str[:-4], kind=moments["question_id"].str[-3:]
        ).pivot_table(
            index=["round_id", "submission_key", "item"],
            columns="kind",
            values="value",
            aggfunc="first",
        )
        if "exp" in pairs and "imp" in pairs:
            pairs = pairs.dropna(subset=["exp", "imp"]).reset_index()
            for facet in FACTORS_BY:
                out.append(
                    pd.DataFrame(
                        {
                            "round_id": pairs["round_id"],
                            "facet": facet,
                            "group_value": subs[facet].reindex(pairs["submission_key"]).to_numpy(),
                            "item": pairs["item"],
                            "value": pairs["exp"],
                            "value2": pairs["imp"],
                        }
                    )
                )
    quits = yes_no(frame, QUIT)
    out.append(
        pd.DataFrame(
            {
                "round_id": quits["round_id"],
                "facet": "profession",
                "group_value": quits["profession"],
                "item": QUIT,
                "value": quits["value"],
                "value2": None,
            }
        )
    )
    band = subs["position_band"]
    position = band.where(band.isna(), band.isin(FULL_POSITION).map({True: FULL_80, False: "u80"}))
    out.append(
        pd.DataFrame(
            {
                "round_id": subs["round_id"],
                "facet": POSITION_80,
                "group_value": position,
                "item": "",
                "value": None,
                "value2": None,
            }
        )
    )
    return pd.concat(out, ignore_index=True)[FACET_COLUMNS]


def factor_moments_by(facets: pd.DataFrame, facet: str) -> pd.DataFrame:
    """Per round, group and factor: the same sufficient statistics as `factor_moments`."""
    import pandas as pd

    rows = facets.loc[
        (facets["facet"] == facet) & (facets["item"] != "") & facets["value2"].notna()
    ]
    rows = rows.loc[rows["item"] != QUIT]
    e = pd.to_numeric(rows["value"]).astype(float)
    i = pd.to_numeric(rows["value2"]).astype(float)
    d = i - e
    parts = pd.DataFrame(
        {
            "round_id": rows["round_id"],
            "group": rows["group_value"].fillna(UNKNOWN),
            "factor_id": rows["item"],
            "sum_e": e, "sum_e2": e * e, "sum_i": i, "sum_i2": i * i, "sum_d": d, "sum_d2": d * d,
        }
    )  # fmt: skip
    grouped = parts.groupby(["round_id", "group", "factor_id"])
    out = grouped.sum()
    out["n"] = grouped.size()
    return out.reset_index()


def participation_rows(participation: pd.DataFrame, k: int) -> tuple[ParticipationRow, ...]:
    """Invited and answered per municipality; answered counts suppressed complementarily."""
    if participation.empty:
        return ()
    groups = participation["municipality"].fillna(UNKNOWN).astype(str)
    return participation_table(
        zip(groups, participation["invited"], participation["finished"], strict=True), k
    )


def participation_table(
    counts: Iterable[tuple[str | None, int, int]], k: int
) -> tuple[ParticipationRow, ...]:
    """`participation_rows` from (municipality, invited, finished) tuples, in plain Python:
    the few rows of `round status` need no DataFrame. Largest municipality first."""
    table: dict[str, list[int]] = {}
    for municipality, invited, finished in counts:
        group = UNKNOWN if municipality is None else str(municipality)
        sums = table.setdefault(group, [0, 0])
        sums[0] += int(invited)
        sums[1] += int(finished)
    hidden = hidden_groups({g: sums[1] for g, sums in table.items()}, k)
    ordered = sorted(sorted(table.items()), key=lambda item: -item[1][0])  # stable: ties by name
    return tuple(
        ParticipationRow(group, invited, None if group in hidden else finished)
        for group, (invited, finished) in ordered
    )


def comment_texts(frame: pd.DataFrame, consented: bool = False) -> list[str]:
    """Non-empty free-text answers of the round; `consented`: only those whose writer said
    yes to being quoted (none when the frame does not say)."""
    has_text = frame["text"].notna()
    if consented:
        if QUOTE_CONSENT not in frame.columns:
            return []
        has_text = has_text & frame[QUOTE_CONSENT].eq(True)
    texts = frame.loc[has_text, "text"].astype(str).str.strip()
    return [t for t in texts if t]


def comment_figures(
    texts: Sequence[str],
    consented: Callable[[], list[str]],
    survey: Survey,
    comment_threshold: int,
    *,
    lexicon: Lexicon | None,
    roster_names: Iterable[str],
    max_quotes: int,
    seed: str,
) -> tuple[tuple[tuple[str, int], ...] | None, tuple[tuple[str, str], ...]]:
    """Themes (None: too few comments) and the quotes whose writers said yes."""
    if len(texts) < comment_threshold:
        return None, ()
    lexicon = lexicon or load_lexicon()
    counts = theme_counts(texts, lexicon)
    # Counts of comments per theme carry no segment and no answer value; they are shown
    # once the comments as a whole reach the (higher) comment threshold.
    themes = tuple(sorted(counts.items(), key=lambda kv: -kv[1]))
    keep = frozenset(
        label for option in survey.scales["municipality"].options for label in option.label.values()
    )
    quotes = tuple(
        pick_quotes(consented(), lexicon, counts, max_quotes, seed=seed,
                    names=name_tokens(roster_names), keep=keep)
    )  # fmt: skip
    return themes, quotes


# --------------------------------------------------------------------------- the summary


def build_summary(
    responses: pd.DataFrame,
    participation: pd.DataFrame,
    survey: Survey,
    *,
    round_id: int,
    round_number: int,
    k: int = 5,
    comment_threshold: int = 10,
    previous: pd.DataFrame | None = None,
    previous_number: int | None = None,
    facets: pd.DataFrame | None = None,
    previous_facets: pd.DataFrame | None = None,
    roster_names: Iterable[str] = (),
    lexicon: Lexicon | None = None,
    max_quotes: int = MAX_QUOTES,
    seed: str = "",
) -> Summary:
    """The round's summary; every figure already suppressed where the rules require.

    Figures by group (quitting by profession, the position share) come from the unlinked
    `facets` records; without them (synthetic frames with segment columns) they are derived
    from the frame as sealing would store them.
    """
    check_k(k)
    comment_threshold = max(comment_threshold, k)
    factor_ids = survey.factor_ids
    frame = responses.loc[responses["round_id"] == round_id] if len(responses) else responses
    n_submissions = int(frame["submission_key"].nunique()) if len(frame) else 0
    facets = facets_of(frame) if facets is None else facets
    facets = facets.loc[facets["round_id"] == round_id] if len(facets) else facets

    moments = factor_moments(frame)
    factors = factor_stats(moments, factor_ids, k)
    changes: list[FactorChange] = []
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
            int(previous["submission_key"].nunique()),
            quit_before,
            enps(previous, k),
            position_share(facets_of(previous) if previous_facets is None else previous_facets, k),
            int(previous["round_id"].iloc[0]),
        )

    texts = comment_texts(frame)
    themes, quotes = comment_figures(
        texts, lambda: comment_texts(frame, consented=True), survey, comment_threshold,
        lexicon=lexicon, roster_names=roster_names, max_quotes=max_quotes,
        seed=f"{seed}:{round_id}",
    )  # fmt: skip

    invited = int(participation["invited"].sum()) if len(participation) else 0
    answered = int(participation["finished"].sum()) if len(participation) else 0
    notes = []
    if not shown(n_submissions, k):
        notes.append("too_few")
    return Summary(
        round_id=round_id,
        round_number=round_number,
        k=k,
        comment_threshold=comment_threshold,
        invited=invited,
        answered=answered if shown(answered, k) else None,
        submissions=n_submissions,
        participation=participation_rows(participation, k),
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
        notes=tuple(notes),
    )


def is_number(value: float | None) -> bool:
    return value is not None and not math.isnan(value)
