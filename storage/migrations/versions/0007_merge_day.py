"""join the three changes made side by side after 0005 (attendance, rate budgets, quotes)

Nothing changes in the schema here; this revision only makes the three one line again so that
`beholde db upgrade` has a single head to go to.

Revision ID: 0007
Revises: 0006_attendance, 0006_budgets, 0006_quote_consent
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007"
down_revision: str | Sequence[str] | None = (
    "0006_attendance",
    "0006_budgets",
    "0006_quote_consent",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to do: the three parents touch different tables."""


def downgrade() -> None:
    """Nothing to undo."""
