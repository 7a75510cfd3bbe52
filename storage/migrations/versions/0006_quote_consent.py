"""quote consent: a comment may be quoted only when its writer said yes right after writing it

Revision ID: 0006_quote_consent
Revises: 0005
Create Date: 2026-12-01 10:10:00

The consent is a column on the comment itself (pending, holding, responses), so it travels
with the anonymous answer and is never linked to a person. Comments stored before this
migration were written under the promise "shown only as themes": they stay unquotable.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_quote_consent"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("pending_answers", "holding", "responses")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("quote_ok", sa.Boolean(), nullable=False, server_default=sa.false())
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("quote_ok")
