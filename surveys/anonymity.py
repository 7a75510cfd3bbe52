"""Anonymity rules for anything shown: no figure for a group smaller than k."""

from __future__ import annotations

MIN_K = 3


def check_k(k: int) -> int:
    """k may be raised but never set below 3: smaller groups make people recognisable."""
    if k < MIN_K:
        raise ValueError(f"k must be at least {MIN_K}")
    return k


def shown(n: int, k: int) -> bool:
    """Whether a group of n answers may be shown."""
    return n >= check_k(k)
