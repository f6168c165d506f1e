"""Submissions (raw, with their state), articles and their blocks.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE newsflow.submissions (
            id uuid PRIMARY KEY,
            source text NOT NULL,
            external_id text,
            idempotency_key text,
            kind text NOT NULL,
            payload jsonb NOT NULL,
            received_at timestamptz NOT NULL,
            status text NOT NULL
                CONSTRAINT submissions_status
                CHECK (status IN ('processing', 'done', 'failed', 'dead')),
            attempts integer NOT NULL DEFAULT 0,
            deliveries integer NOT NULL DEFAULT 0,
            last_message text,
            error text,
            landed_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            finished_at timestamptz
        );
        CREATE INDEX submissions_status_idx ON newsflow.submissions (status)
            WHERE status IN ('failed', 'dead');
        CREATE INDEX submissions_source_external_id_idx
            ON newsflow.submissions (source, external_id);

        CREATE TABLE newsflow.articles (
            id uuid PRIMARY KEY REFERENCES newsflow.submissions (id) ON DELETE CASCADE,
            source text NOT NULL,
            external_id text,
            url text,
            title text,
            lead text,
            body text NOT NULL,
            language text,
            language_confidence real,
            published_at timestamptz,
            authors text[] NOT NULL DEFAULT '{}',
            site text,
            word_count integer NOT NULL,
            content_hash text NOT NULL,
            document jsonb NOT NULL,
            processed_at timestamptz NOT NULL
        );
        CREATE INDEX articles_content_hash_idx ON newsflow.articles (content_hash);
        CREATE INDEX articles_published_at_idx ON newsflow.articles (published_at);
        CREATE INDEX articles_language_idx ON newsflow.articles (language);

        CREATE TABLE newsflow.article_blocks (
            article_id uuid NOT NULL REFERENCES newsflow.articles (id) ON DELETE CASCADE,
            position integer NOT NULL,
            kind text NOT NULL,
            text text NOT NULL,
            start_offset integer NOT NULL,
            end_offset integer NOT NULL,
            PRIMARY KEY (article_id, position)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE newsflow.article_blocks;
        DROP TABLE newsflow.articles;
        DROP TABLE newsflow.submissions;
        """
    )
