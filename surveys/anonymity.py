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


def hidden_groups(counts: dict[str, int], k: int) -> set[str]:
    """Groups to hide when the total is shown too: complementary suppression.

    Every group under k is hidden, an empty one too ("0 of 4 answered" says what each of
    the four did). If that leaves the hidden groups together under k, a reader could get
    them as "total minus the visible groups", so the smallest visible groups are hidden as
    well until the hidden ones hold at least k answers between them. When the total itself
    is under k, everything is hidden.
    """
    check_k(k)
    present = dict(counts)
    if sum(present.values()) < k:
        return set(present)
    hidden = {g for g, n in present.items() if n < k}
    while hidden and sum(present[g] for g in hidden) < k:
        visible = sorted((n, g) for g, n in present.items() if g not in hidden)
        if not visible:
            break
        hidden.add(visible[0][1])
    return hidden


def may_post(submissions: int, last_posted: int | None, k: int) -> bool:
    """Whether a new summary of the same answers may go out.

    Two summaries that differ by fewer than k submissions would show, by difference, the
    answers of those few people; so after the first, a summary needs k new submissions.
    """
    check_k(k)
    return last_posted is None or abs(submissions - last_posted) >= k
