"""conversations.access_version, bumped on PostgreSQL whenever who may post in a conversation changes

The send queue checks a batch without locking (see ``server.services.send_stores``) and writes it
only to conversations whose ``access_version`` is still the one its checks read. Triggers keep
the counter, so no code path that changes memberships or blocks can forget it:
- a member joins or leaves, or their role or admin mute (``muted_until``) changes;
- a block between the two members of a direct chat is made or lifted.
SQLite needs no triggers: a send batch holds its database's write lock from its checks to its
commit, so the column stays 0 there.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 21:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MEMBER_FUNCTION = """
CREATE FUNCTION openchat_member_access_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE conversations SET access_version = access_version + 1
  WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.conversation_id ELSE NEW.conversation_id END;
  RETURN NULL;
END $$
"""
_BLOCK_FUNCTION = """
CREATE FUNCTION openchat_block_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  pair user_blocks%ROWTYPE;
BEGIN
  IF TG_OP = 'DELETE' THEN pair := OLD; ELSE pair := NEW; END IF;
  UPDATE conversations SET access_version = access_version + 1
  WHERE direct_key = least(pair.blocker_id, pair.blocked_id) || ':'
    || greatest(pair.blocker_id, pair.blocked_id);
  RETURN NULL;
END $$
"""
_TRIGGERS = (
    """CREATE TRIGGER member_joined_or_left AFTER INSERT OR DELETE ON conversation_members
    FOR EACH ROW EXECUTE FUNCTION openchat_member_access_changed()""",
    """CREATE TRIGGER member_role_or_mute_changed AFTER UPDATE OF role, muted_until
    ON conversation_members FOR EACH ROW
    WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.muted_until IS DISTINCT FROM NEW.muted_until)
    EXECUTE FUNCTION openchat_member_access_changed()""",
    """CREATE TRIGGER block_made_or_lifted AFTER INSERT OR DELETE ON user_blocks
    FOR EACH ROW EXECUTE FUNCTION openchat_block_changed()""",
)


def upgrade() -> None:
    """Apply this revision (the triggers on PostgreSQL only)."""
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(
            sa.Column("access_version", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(_MEMBER_FUNCTION)
    op.execute(_BLOCK_FUNCTION)
    for trigger in _TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    """Revert this revision."""
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER block_made_or_lifted ON user_blocks")
        op.execute("DROP TRIGGER member_role_or_mute_changed ON conversation_members")
        op.execute("DROP TRIGGER member_joined_or_left ON conversation_members")
        op.execute("DROP FUNCTION openchat_block_changed()")
        op.execute("DROP FUNCTION openchat_member_access_changed()")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("access_version")
