"""Revisions, durable identity, canonical URLs and duplicates found at ingest.

* ``articles.owner``: the API key owner whose claims made the article (see 0007). The
  ``(owner, source, external_id)`` claim is now UNIQUE in PostgreSQL too, so a
  resubmission after its Redis claim expired is still recognised when the worker lands it.
  Articles stored before this migration have ``owner`` NULL: nothing recorded whose they
  were, and NULLs are distinct in a unique index, so existing rows that share a
  ``(source, external_id)`` (e.g. of two owners) all stay as they are, none is changed or
  deleted; they are simply never matched by the identity (a resend within 30 days is still
  caught by its Redis claim).
* ``articles.version`` (the current one) and ``newsflow.article_versions``: one row per
  version, with the document of every version but the current one (whose document is the
  article's own), and the view ``newsflow.article_versions_v1``.
* ``submissions.owner / article_id / version / submission_hash``: which article and
  version a submission became, for replays and for ``GET /v1/articles/{submission id}``.
* ``articles.canonical_url`` and ``newsflow.article_duplicates`` (exact, same canonical
  URL, near), found when an article is written; near duplicates through four indexed
  16-bit bands of the SimHash (see newsflow/store/duplicates.py).

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-03
"""

from alembic import op

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE newsflow.submissions
            ADD COLUMN owner text,
            ADD COLUMN article_id uuid,
            ADD COLUMN version integer,
            ADD COLUMN submission_hash text;

        ALTER TABLE newsflow.articles
            ADD COLUMN owner text,
            ADD COLUMN version integer NOT NULL DEFAULT 1,
            ADD COLUMN canonical_url text;
        CREATE UNIQUE INDEX articles_identity_idx
            ON newsflow.articles (owner, source, external_id) WHERE external_id IS NOT NULL;
        CREATE INDEX articles_canonical_url_idx ON newsflow.articles (canonical_url);
        CREATE INDEX articles_simhash_band0_idx ON newsflow.articles ((simhash & 65535));
        CREATE INDEX articles_simhash_band1_idx
            ON newsflow.articles (((simhash >> 16) & 65535));
        CREATE INDEX articles_simhash_band2_idx
            ON newsflow.articles (((simhash >> 32) & 65535));
        CREATE INDEX articles_simhash_band3_idx
            ON newsflow.articles (((simhash >> 48) & 65535));

        CREATE TABLE newsflow.article_versions (
            article_id uuid NOT NULL REFERENCES newsflow.articles (id) ON DELETE CASCADE,
            version integer NOT NULL,
            submission_id uuid NOT NULL UNIQUE
                REFERENCES newsflow.submissions (id) ON DELETE CASCADE,
            received_at timestamptz NOT NULL,
            content_hash text NOT NULL,
            submission_hash text,
            title text,
            -- NULL for the current version: its document is the article's
            document jsonb,
            PRIMARY KEY (article_id, version)
        );
        INSERT INTO newsflow.article_versions
            (article_id, version, submission_id, received_at, content_hash, title)
        SELECT a.id, 1, a.id, s.received_at, a.content_hash, a.title
        FROM newsflow.articles a JOIN newsflow.submissions s ON s.id = a.id;
        UPDATE newsflow.submissions s SET article_id = s.id, version = 1
        FROM newsflow.articles a WHERE a.id = s.id;

        CREATE TABLE newsflow.article_duplicates (
            article_id uuid NOT NULL REFERENCES newsflow.articles (id) ON DELETE CASCADE,
            original_id uuid NOT NULL REFERENCES newsflow.articles (id) ON DELETE CASCADE,
            kind text NOT NULL CHECK (kind IN ('exact', 'url', 'near')),
            distance integer NOT NULL,
            PRIMARY KEY (article_id, original_id)
        );
        CREATE INDEX article_duplicates_original_idx
            ON newsflow.article_duplicates (original_id);

        CREATE VIEW newsflow.article_versions_v1 AS
            SELECT v.article_id, v.version, v.submission_id, v.received_at, v.content_hash,
                   v.title, v.version = a.version AS current,
                   coalesce(v.document, CASE WHEN v.version = a.version THEN a.document END)
                       AS document
            FROM newsflow.article_versions v
            JOIN newsflow.articles a ON a.id = v.article_id
            JOIN newsflow.submissions s ON s.id = a.id
            WHERE s.status = 'done';

        -- the feed says which version each change is (a column added at the end)
        CREATE OR REPLACE VIEW newsflow.article_feed AS
            SELECT f.xid, f.position, f.article_id, f.changed_at, s.status, a.title,
                   a.language, a.published_at, a.processed_at, a.version
            FROM newsflow.feed f
            JOIN newsflow.articles a ON a.id = f.article_id
            JOIN newsflow.submissions s ON s.id = f.article_id
            WHERE f.xid < pg_snapshot_xmin(pg_current_snapshot());

        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'newsflow_reader') THEN
                GRANT SELECT ON newsflow.article_versions_v1 TO newsflow_reader;
            END IF;
        END
        $$;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP VIEW newsflow.article_feed;
        CREATE VIEW newsflow.article_feed AS
            SELECT f.xid, f.position, f.article_id, f.changed_at, s.status, a.title,
                   a.language, a.published_at, a.processed_at
            FROM newsflow.feed f
            JOIN newsflow.articles a ON a.id = f.article_id
            JOIN newsflow.submissions s ON s.id = f.article_id
            WHERE f.xid < pg_snapshot_xmin(pg_current_snapshot());
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'newsflow_reader') THEN
                GRANT SELECT ON newsflow.article_feed TO newsflow_reader;
            END IF;
        END
        $$;
        """
    )
    op.execute(
        """
        DROP VIEW newsflow.article_versions_v1;
        DROP TABLE newsflow.article_duplicates;
        DROP TABLE newsflow.article_versions;
        DROP INDEX newsflow.articles_simhash_band0_idx, newsflow.articles_simhash_band1_idx,
            newsflow.articles_simhash_band2_idx, newsflow.articles_simhash_band3_idx,
            newsflow.articles_canonical_url_idx, newsflow.articles_identity_idx;
        ALTER TABLE newsflow.articles
            DROP COLUMN owner, DROP COLUMN version, DROP COLUMN canonical_url;
        ALTER TABLE newsflow.submissions
            DROP COLUMN owner, DROP COLUMN article_id, DROP COLUMN version,
            DROP COLUMN submission_hash;
        """
    )
