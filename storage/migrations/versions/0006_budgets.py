"""Rate budgets shared across instances; an index for per-chat order in the outbox.

`rate_spends` holds one row per platform call in a shared rate window (storage/budgets.py).
`ix_outbox_chat` serves the claim's "no earlier message of this chat is still pending" check.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_budgets"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_spends",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_rate_spends_key_at", "rate_spends", ["key", "at"])
    op.create_index("ix_outbox_chat", "outbox", ["platform", "chat_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_outbox_chat", table_name="outbox")
    op.drop_index("ix_rate_spends_key_at", table_name="rate_spends")
    op.drop_table("rate_spends")
