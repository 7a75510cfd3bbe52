"""The gap (importance − experienced) per group and factor: the dashboard's heatmap.

Pure: rows of a factor's two values by group in, cells out, with the same rules as every
other breakdown — a group under k is hidden, and complementary suppression hides more groups
until the hidden ones together hold at least k (else total minus visible gives them).
`grid_cells` lists what a grid shows for the release ledger (surveys/disclosure.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from surveys.anonymity import hidden_groups
from surveys.disclosure import Cell, group_cells


@dataclass(frozen=True)
class GridCell:
    """One group's gap for one factor; `gap` None when hidden (under k) or `held`."""

    group: str
    gap: float | None
    n: int | None
    held: bool = False  # held back by the release ledger although n ≥ k
    few: bool = False  # hidden because under k (else hidden to protect a small group)


@dataclass(frozen=True)
class GridRow:
    """One factor across groups; `total` (never shown) gives the hidden groups' residue."""

    factor_id: str
    total: int
    cells: tuple[GridCell, ...]


def gap_measure(factor_id: str) -> str:
    return f"gap:{factor_id}:municipality"


def gap_grid(
    rows: Iterable[tuple[str, str, float | None, float | None]], k: int
) -> dict[str, GridRow]:
    """Factor → one cell per group from (factor, group, experienced, importance) rows."""
    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0.0]))
    for factor_id, group, experienced, importance in rows:
        if experienced is None or importance is None:
            continue
        cell = sums[factor_id][group]
        cell[0] += 1
        cell[1] += float(importance) - float(experienced)
    out: dict[str, GridRow] = {}
    for factor_id in sorted(sums):
        groups = sums[factor_id]
        hidden = hidden_groups({g: int(v[0]) for g, v in groups.items()}, k)
        cells = tuple(
            GridCell(g, None, None, few=v[0] < k)
            if g in hidden
            else GridCell(g, v[1] / v[0], int(v[0]))
            for g, v in sorted(groups.items())
        )
        out[factor_id] = GridRow(factor_id, sum(int(v[0]) for v in groups.values()), cells)
    return out


def grid_cells(round_id: int, row: GridRow) -> list[Cell]:
    """What one factor's row shows: its visible groups and the residue of the hidden ones."""
    counts = {c.group: c.n for c in row.cells}
    return group_cells(round_id, gap_measure(row.factor_id), row.total, counts)


def held(row: GridRow) -> GridRow:
    """The whole row held back by the ledger (no new residue can appear)."""
    cells = tuple(GridCell(c.group, None, None, held=c.gap is not None, few=c.few)
                  for c in row.cells)  # fmt: skip
    return GridRow(row.factor_id, row.total, cells)
