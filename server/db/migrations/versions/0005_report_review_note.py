"""reports.review_note: what the reviewing administrator wrote about the outcome

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (batch mode: SQLite rebuilds the table, PostgreSQL alters it)."""
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("review_note", sa.Text(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("review_note")
