"""drop conversation_members.banned_until (bans live in conversation_bans since 0002)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (batch mode: SQLite rebuilds the table, PostgreSQL alters it)."""
    with op.batch_alter_table("conversation_members") as batch:
        batch.drop_column("banned_until")


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("conversation_members") as batch:
        batch.add_column(
            sa.Column("banned_until", server.db.types.UTCDateTime(timezone=True), nullable=True)
        )
