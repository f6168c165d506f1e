"""Feed retention: remember how far the change feed has been pruned.

``newsflow.feed_pruned`` holds at most one row: the (xid, position) of the last change that
pruning deleted (``newsflow.store.changes.prune_feed``). Pruning only ever deletes a prefix of
the feed in (xid, position) order, so every change at or before that point is gone and
every change after it is still there: a consumer whose cursor is below it has missed
changes, and ``GET /v1/feed`` tells it so (410) instead of silently carrying on.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE newsflow.feed_pruned (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            xid xid8 NOT NULL,
            position bigint NOT NULL,
            pruned_at timestamptz NOT NULL DEFAULT now()
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE newsflow.feed_pruned;")
