"""For consumers: full-text search, a change feed that never skips, stable views and a
read-only role.

* ``newsflow.articles.search``: a stored tsvector (title A, lead B, body C) built with the
  text-search configuration of the article's language (``newsflow.search_config``:
  english for en, russian for ru, simple for uk and everything else), GIN-indexed.
* ``newsflow.feed``: one row per transaction that inserts or updates an article (however
  many times it writes the row), written by a trigger in the writer's own transaction,
  with that transaction's id (see ``newsflow.store.changes``
  for why the feed is read in (xid, position) order below the oldest running transaction).
  The trigger also sends ``NOTIFY newsflow_articles, '<article id>'``, delivered at commit.
* Views, the contract for SQL consumers (the tables behind them may change):
  ``newsflow.articles_v1``, ``newsflow.article_blocks_v1``, ``newsflow.article_images_v1``
  (done articles only) and ``newsflow.article_feed`` (committed changes, in feed order).
* ``newsflow_reader``: NOLOGIN, USAGE on the schema and SELECT on the views only. Roles
  belong to the server, not the database, so it is created only if missing; downgrade
  revokes its grants here and leaves the role for other databases.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION newsflow.search_config(language text) RETURNS regconfig
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT CASE split_part(lower(coalesce(language, '')), '-', 1)
                WHEN 'en' THEN 'english'::regconfig
                WHEN 'ru' THEN 'russian'::regconfig
                ELSE 'simple'::regconfig
            END
        $$;

        ALTER TABLE newsflow.articles ADD COLUMN search tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector(newsflow.search_config(language), coalesce(title, '')), 'A')
            || setweight(to_tsvector(newsflow.search_config(language), coalesce(lead, '')), 'B')
            || setweight(to_tsvector(newsflow.search_config(language), body), 'C')
        ) STORED;
        CREATE INDEX articles_search_idx ON newsflow.articles USING gin (search);
        CREATE INDEX articles_source_idx ON newsflow.articles (source);
        CREATE INDEX submissions_received_at_id_idx
            ON newsflow.submissions (received_at, id);

        CREATE TABLE newsflow.feed (
            position bigserial PRIMARY KEY,
            xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
            article_id uuid NOT NULL REFERENCES newsflow.articles (id) ON DELETE CASCADE,
            changed_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX feed_xid_position_idx ON newsflow.feed (xid, position);
        -- one change per article per transaction, however many times it writes the row
        CREATE UNIQUE INDEX feed_article_id_xid_idx ON newsflow.feed (article_id, xid);

        CREATE FUNCTION newsflow.article_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO newsflow.feed (article_id) VALUES (NEW.id)
                ON CONFLICT (article_id, xid) DO NOTHING;
            PERFORM pg_notify('newsflow_articles', NEW.id::text);
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER articles_feed AFTER INSERT OR UPDATE ON newsflow.articles
            FOR EACH ROW EXECUTE FUNCTION newsflow.article_changed();

        CREATE VIEW newsflow.articles_v1 AS
            SELECT a.id, a.source, a.external_id, a.url, a.title, a.lead, a.body, a.language,
                   a.published_at, a.processed_at, a.authors, a.site, a.word_count,
                   a.content_hash, a.document
            FROM newsflow.articles a
            JOIN newsflow.submissions s ON s.id = a.id
            WHERE s.status = 'done';

        CREATE VIEW newsflow.article_blocks_v1 AS
            SELECT b.article_id, b.position, b.kind, b.text, b.start_offset, b.end_offset
            FROM newsflow.article_blocks b
            JOIN newsflow.submissions s ON s.id = b.article_id
            WHERE s.status = 'done';

        CREATE VIEW newsflow.article_images_v1 AS
            SELECT i.article_id, i.position, i.url, i.caption, i.credit, i.people, i.role
            FROM newsflow.article_images i
            JOIN newsflow.submissions s ON s.id = i.article_id
            WHERE s.status = 'done';

        -- only changes of transactions older than every running one: see newsflow.store.changes
        CREATE VIEW newsflow.article_feed AS
            SELECT f.xid, f.position, f.article_id, f.changed_at, s.status, a.title,
                   a.language, a.published_at, a.processed_at
            FROM newsflow.feed f
            JOIN newsflow.articles a ON a.id = f.article_id
            JOIN newsflow.submissions s ON s.id = f.article_id
            WHERE f.xid < pg_snapshot_xmin(pg_current_snapshot());

        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'newsflow_reader') THEN
                CREATE ROLE newsflow_reader NOLOGIN;
            END IF;
        EXCEPTION
            -- another database on this server created it at the same moment
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'cannot create role newsflow_reader; create it and re-grant';
        END
        $$;

        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'newsflow_reader') THEN
                GRANT USAGE ON SCHEMA newsflow TO newsflow_reader;
                GRANT SELECT ON newsflow.articles_v1, newsflow.article_blocks_v1,
                    newsflow.article_images_v1, newsflow.article_feed TO newsflow_reader;
            END IF;
        END
        $$;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'newsflow_reader') THEN
                REVOKE ALL ON newsflow.articles_v1, newsflow.article_blocks_v1,
                    newsflow.article_images_v1, newsflow.article_feed FROM newsflow_reader;
                REVOKE USAGE ON SCHEMA newsflow FROM newsflow_reader;
            END IF;
        END
        $$;
        DROP VIEW newsflow.article_feed;
        DROP VIEW newsflow.article_images_v1;
        DROP VIEW newsflow.article_blocks_v1;
        DROP VIEW newsflow.articles_v1;
        DROP TRIGGER articles_feed ON newsflow.articles;
        DROP FUNCTION newsflow.article_changed();
        DROP TABLE newsflow.feed;
        DROP INDEX newsflow.submissions_received_at_id_idx;
        DROP INDEX newsflow.articles_source_idx;
        ALTER TABLE newsflow.articles DROP COLUMN search;
        DROP FUNCTION newsflow.search_config(text);
        """
    )
