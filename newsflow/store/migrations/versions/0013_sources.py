"""Sources: feeds newsflow polls itself, with their conditional-GET validators and health.

``next_poll_at`` is also the poller's lease: a poller claims due rows with
``FOR UPDATE SKIP LOCKED`` and moves them ahead before it fetches (see
newsflow/store/sources.py), so any number of pollers poll each source once.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE newsflow.sources (
            id uuid PRIMARY KEY,
            name text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
            url text NOT NULL,
            language text,
            poll_interval_seconds integer NOT NULL CHECK (poll_interval_seconds > 0),
            owner text NOT NULL,
            enabled boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            next_poll_at timestamptz NOT NULL,
            etag text,
            last_modified text,
            last_fetch_at timestamptz,
            last_status text,
            last_http_status integer,
            last_error text,
            last_problem text,
            items_seen integer NOT NULL DEFAULT 0,
            items_new integer NOT NULL DEFAULT 0,
            total_items_new bigint NOT NULL DEFAULT 0,
            error_streak integer NOT NULL DEFAULT 0
        );
        CREATE INDEX sources_due ON newsflow.sources (next_poll_at) WHERE enabled;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE newsflow.sources;")
