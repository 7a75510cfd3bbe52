"""release ledger, answers' background as separate unlinked facet records, round moments

The ledger: every figure that left beholde, as a count of its contributors. The counts
kept with each posted summary (summary_posts.cells) move into it, so a database upgraded
from 0002 keeps refusing what differs by too few from what was posted.

Facets: `responses` and `holding` lose their six segment columns; what they held moves into
`facets` / `facet_holding`, one record per attribute (a factor's two values by municipality
and by profession, quitting by profession, position 80 % or more, age, tenure, shifts), each
under its own random key. The old segments were coarsened jointly until k people on the
roster shared them, so every single value kept there is shared by at least k as well.

Round moments: each closed round's sufficient statistics, stored when it is sealed.

Revision ID: 0003
Revises: 0002_network, 0002_summaries
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from random import SystemRandom

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


SEGMENT = ("municipality", "profession", "age_band", "tenure_band", "position_band", "shifts")
FULL_POSITION = ("80-99", "100")
_shuffle = SystemRandom().shuffle


def _facet_table(name: str) -> sa.Table:
    table = op.create_table(
        name,
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(length=20), nullable=False),
        sa.Column("group_value", sa.String(length=100), nullable=True),
        sa.Column("item", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("value2", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{name}_round_id"), ["round_id"], unique=False)
    return table


def _facets_of(rows: list[sa.Row]) -> list[dict[str, object]]:
    """The facet records of old segment-carrying rows, one submission at a time."""
    by_submission: dict[str, list[sa.Row]] = {}
    for row in rows:
        by_submission.setdefault(row.submission_key, []).append(row)
    out: list[dict[str, object]] = []
    for answers in by_submission.values():
        first = answers[0]
        segment = {f: getattr(first, f) for f in SEGMENT}
        band = segment["position_band"]
        segment["position_80"] = (
            None if band is None else ("80+" if band in FULL_POSITION else "u80")
        )
        values = {a.question_id: a.value for a in answers}
        base = {"round_id": first.round_id, "value": None, "value2": None}
        for factor in sorted({q[:-4] for q in values if q.endswith((".exp", ".imp"))}):
            exp, imp = values.get(f"{factor}.exp"), values.get(f"{factor}.imp")
            if exp is not None and imp is not None:
                for facet in ("municipality", "profession"):
                    out.append(base | {"facet": facet, "group_value": segment[facet],
                                       "item": factor, "value": exp, "value2": imp})  # fmt: skip
        if values.get("quit") is not None:
            out.append(base | {"facet": "profession", "group_value": segment["profession"],
                               "item": "quit", "value": values["quit"]})  # fmt: skip
        for facet in ("position_80", "age_band", "tenure_band", "shifts"):
            out.append(base | {"facet": facet, "group_value": segment[facet], "item": ""})
    _shuffle(out)
    for record in out:
        record["id"] = secrets.token_hex(16)
    return out


def upgrade() -> None:
    bind = op.get_bind()
    for source, target in (("responses", "facets"), ("holding", "facet_holding")):
        table = _facet_table(target)
        old = sa.table(
            source,
            sa.column("round_id", sa.Integer()),
            sa.column("submission_key", sa.String()),
            sa.column("question_id", sa.String()),
            sa.column("value", sa.Integer()),
            *(sa.column(f, sa.String()) for f in SEGMENT),
        )
        records = _facets_of(list(bind.execute(sa.select(old))))
        if records:
            op.bulk_insert(table, records)
        with op.batch_alter_table(source, schema=None) as batch_op:
            for field in SEGMENT:
                batch_op.drop_column(field)
    with op.batch_alter_table("facets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_facets_round_facet_item", ["round_id", "facet", "item"], unique=False
        )
    op.create_table(
        "round_moments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(length=20), nullable=False),
        sa.Column("group_value", sa.String(length=100), nullable=False),
        sa.Column("factor_id", sa.String(length=40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        *(sa.Column(c, sa.Float(), nullable=False)
          for c in ("sum_e", "sum_e2", "sum_i", "sum_i2", "sum_d", "sum_d2")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_moments")),
    )  # fmt: skip
    with op.batch_alter_table("round_moments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_round_moments_round_id"), ["round_id"], unique=False)
    # Rounds closed before this revision get their moments computed from the answers when a
    # trend is read (storage/summaries.trend_moments); nothing is lost by not storing them here.
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
            cell = _ledger_key(str(key))
            if cell is not None:
                measure, group = cell
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
    """Back to 0002's schema. The facets cannot be joined back to their submissions (that is
    their point), so the segment columns come back empty."""
    with op.batch_alter_table("released_cells", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_released_cells_round_id"))
    op.drop_table("released_cells")
    op.drop_table("round_moments")
    sizes = {"municipality": 100, "profession": 50, "shifts": 5}
    for source, target in (("responses", "facets"), ("holding", "facet_holding")):
        with op.batch_alter_table(source, schema=None) as batch_op:
            for field in SEGMENT:
                batch_op.add_column(
                    sa.Column(field, sa.String(length=sizes.get(field, 20)), nullable=True)
                )
        op.drop_table(target)
