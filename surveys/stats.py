"""Small, dependency-free statistics for the summaries (no SciPy needed).

Everything works from sufficient statistics (n, sum, sum of squares) so that the same code
serves a pandas frame of one round and an SQL aggregate over many rounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

Z95 = NormalDist().inv_cdf(0.975)

# Two-sided 95 % quantiles of Student's t for 1–30 degrees of freedom.
_T95 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t95(df: float) -> float:
    """The 97.5 % quantile of t with `df` degrees of freedom (for a 95 % interval).

    A table up to 30, then the Cornish–Fisher expansion, which is within 0.001 from there on.
    """
    if df < 1:
        return math.inf
    if df <= 30:
        return _T95[max(0, math.floor(df) - 1)]  # rounding df down is the cautious side
    z = Z95
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a 95 % interval and the number of answers behind it."""

    value: float
    low: float
    high: float
    n: int

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def mean_var(n: int, total: float, total_sq: float) -> tuple[float, float]:
    """Mean and sample variance from n, Σx and Σx² (variance 0 when n < 2)."""
    if n <= 0:
        return math.nan, math.nan
    mean = total / n
    if n < 2:
        return mean, 0.0
    var = max(0.0, (total_sq - total * total / n) / (n - 1))
    return mean, var


def mean_interval(n: int, total: float, total_sq: float) -> Estimate:
    """Mean with a t-based 95 % interval (used for paired differences: the gap)."""
    mean, var = mean_var(n, total, total_sq)
    if n < 2:
        return Estimate(mean, -math.inf, math.inf, n)
    half = t95(n - 1) * math.sqrt(var / n)
    return Estimate(mean, mean - half, mean + half, n)


def welch_difference(
    n1: int, mean1: float, var1: float, n2: int, mean2: float, var2: float
) -> Estimate:
    """mean2 − mean1 with a Welch 95 % interval: two rounds are independent samples."""
    if n1 < 2 or n2 < 2:
        return Estimate(mean2 - mean1, -math.inf, math.inf, min(n1, n2))
    a, b = var1 / n1, var2 / n2
    se = math.sqrt(a + b)
    if se == 0:
        diff = mean2 - mean1
        return Estimate(diff, diff, diff, min(n1, n2))
    df = (a + b) ** 2 / ((a * a) / (n1 - 1) + (b * b) / (n2 - 1))
    half = t95(df) * se
    diff = mean2 - mean1
    return Estimate(diff, diff - half, diff + half, min(n1, n2))


def wilson(successes: int, n: int) -> Estimate:
    """A share with its Wilson 95 % interval: honest near 0 %, 100 % and for small n."""
    if n <= 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    p = successes / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), n)


def two_share_difference(x1: int, n1: int, x2: int, n2: int) -> Estimate:
    """p2 − p1 with Newcombe's hybrid Wilson 95 % interval (method 10)."""
    a, b = wilson(x1, n1), wilson(x2, n2)
    diff = b.value - a.value
    low = diff - math.sqrt((b.value - b.low) ** 2 + (a.high - a.value) ** 2)
    high = diff + math.sqrt((b.high - b.value) ** 2 + (a.value - a.low) ** 2)
    return Estimate(diff, low, high, min(n1, n2))


def net_promoter(scores: list[int] | tuple[int, ...]) -> Estimate:
    """eNPS in points (% 9–10 minus % 0–6) with a normal-approximation 95 % interval."""
    n = len(scores)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    promoters = sum(1 for s in scores if s >= 9) / n
    detractors = sum(1 for s in scores if s <= 6) / n
    nps = promoters - detractors
    var = (promoters + detractors - nps * nps) / n
    half = Z95 * math.sqrt(max(var, 0.0))
    return Estimate(100 * nps, 100 * max(-1.0, nps - half), 100 * min(1.0, nps + half), n)
