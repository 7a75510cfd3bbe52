"""release ledger: every figure that left beholde, as a count of its contributors

Moves the counts kept with each posted summary (summary_posts.cells) into the ledger, so a
database upgraded from 0002 keeps refusing what differs by too few from what was posted.

Revision ID: 0003
Revises: 0002_network, 0002_summaries
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = ("0002_network", "0002_summaries")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Keys of summary_posts.cells → (measure, group) in the ledger.
_SIMPLE = {
    "quit:*": ("quit", "*"),
    "enps": ("enps", "*"),
    "position": ("position_80", "*"),
    "comments": ("comments", "*"),
}


def _ledger_key(key: str) -> tuple[str, str] | None:
    if key in _SIMPLE:
        return _SIMPLE[key]
    if key.startswith("factor:"):
        return key, "*"
    if key.startswith("quit:") and key != "quit:~rest":
        return "quit:profession", key.removeprefix("quit:")
    return None  # the old residue named no groups; its groups are hidden as a whole now


def upgrade() -> None:
    ledger = op.create_table(
        "released_cells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=60), nullable=False),
        sa.Column("group", sa.String(length=200), nullable=False),
        sa.Column("contributors", sa.Integer(), nullable=False),
        sa.Column("released_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_released_cells")),
    )
    with op.batch_alter_table("released_cells", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_released_cells_round_id"), ["round_id"], unique=False)
    posts = sa.table(
        "summary_posts",
        sa.column("round_id", sa.Integer()),
        sa.column("cells", sa.JSON()),
        sa.column("created_at", sa.DateTime()),
    )
    rows = []
    for round_id, cells, created_at in op.get_bind().execute(
        sa.select(posts.c.round_id, posts.c.cells, posts.c.created_at)
    ):
        for key, n in (cells or {}).items():
            target = _ledger_key(str(key))
            if target is not None:
                measure, group = target
                rows.append(
                    {
                        "round_id": round_id,
                        "measure": measure,
                        "group": group,
                        "contributors": int(n),
                        "released_on": created_at.date(),
                        "source": "post",
                    }
                )
    if rows:
        op.bulk_insert(ledger, rows)


def downgrade() -> None:
    with op.batch_alter_table("released_cells", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_released_cells_round_id"))
    op.drop_table("released_cells")
