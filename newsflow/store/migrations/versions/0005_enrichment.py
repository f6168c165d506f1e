"""Enrichment, relationally: canonical entities shared across articles and languages,
their mentions per article, quotes with speakers, cited outlets, amounts, dates
mentioned, keywords, topics and the SimHash fingerprint for near-duplicates.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE newsflow.entities (
            key text PRIMARY KEY,
            type text NOT NULL,
            canonical text NOT NULL,
            country_code text,
            first_seen_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX entities_canonical_idx ON newsflow.entities (lower(canonical));

        CREATE TABLE newsflow.article_entities (
            article_id uuid NOT NULL REFERENCES newsflow.articles (id) ON DELETE CASCADE,
            entity_key text NOT NULL REFERENCES newsflow.entities (key),
            canonical text NOT NULL,
            surfaces text[] NOT NULL,
            mentions integer NOT NULL,
            first_offset integer NOT NULL,
            PRIMARY KEY (article_id, entity_key)
        );
        CREATE INDEX article_entities_entity_idx ON newsflow.article_entities (entity_key);
        CREATE INDEX article_entities_canonical_idx
            ON newsflow.article_entities (lower(canonical));

        CREATE TABLE newsflow.article_quotes (
            article_id uuid NOT NULL REFERENCES newsflow.articles (id) ON DELETE CASCADE,
            position integer NOT NULL,
            text text NOT NULL,
            speaker text,
            speaker_role text,
            start_offset integer NOT NULL,
            end_offset integer NOT NULL,
            PRIMARY KEY (article_id, position)
        );
        CREATE INDEX article_quotes_speaker_idx ON newsflow.article_quotes (lower(speaker));

        CREATE TABLE newsflow.article_cited_sources (
            article_id uuid NOT NULL REFERENCES newsflow.articles (id) ON DELETE CASCADE,
            position integer NOT NULL,
            name text NOT NULL,
            cue text NOT NULL,
            start_offset integer NOT NULL,
            end_offset integer NOT NULL,
            PRIMARY KEY (article_id, position)
        );
        CREATE INDEX article_cited_sources_name_idx ON newsflow.article_cited_sources (lower(name));

        CREATE TABLE newsflow.article_amounts (
            article_id uuid NOT NULL REFERENCES newsflow.articles (id) ON DELETE CASCADE,
            position integer NOT NULL,
            value double precision NOT NULL,
            unit text,
            of_what text,
            text text NOT NULL,
            start_offset integer NOT NULL,
            end_offset integer NOT NULL,
            PRIMARY KEY (article_id, position)
        );

        CREATE TABLE newsflow.article_dates (
            article_id uuid NOT NULL REFERENCES newsflow.articles (id) ON DELETE CASCADE,
            position integer NOT NULL,
            text text NOT NULL,
            date date,
            resolved boolean NOT NULL,
            start_offset integer NOT NULL,
            end_offset integer NOT NULL,
            PRIMARY KEY (article_id, position)
        );

        ALTER TABLE newsflow.articles
            ADD COLUMN keywords text[] NOT NULL DEFAULT '{}',
            ADD COLUMN topics text[] NOT NULL DEFAULT '{}',
            ADD COLUMN simhash bigint;

        -- the consumer contract (see 0004): stable views over done articles only
        CREATE VIEW newsflow.article_entities_v1 AS
            SELECT ae.article_id, ae.entity_key, e.type, ae.canonical,
                   e.canonical AS first_seen_name, e.country_code, ae.surfaces, ae.mentions
            FROM newsflow.article_entities ae
            JOIN newsflow.entities e ON e.key = ae.entity_key
            JOIN newsflow.articles_v1 a ON a.id = ae.article_id;
        CREATE VIEW newsflow.quotes_v1 AS
            SELECT q.article_id, q.position, q.text, q.speaker, q.speaker_role,
                   q.start_offset, q.end_offset
            FROM newsflow.article_quotes q JOIN newsflow.articles_v1 a ON a.id = q.article_id;
        CREATE VIEW newsflow.cited_sources_v1 AS
            SELECT c.article_id, c.position, c.name, c.cue
            FROM newsflow.article_cited_sources c
            JOIN newsflow.articles_v1 a ON a.id = c.article_id;
        CREATE VIEW newsflow.amounts_v1 AS
            SELECT m.article_id, m.position, m.value, m.unit, m.of_what, m.text
            FROM newsflow.article_amounts m JOIN newsflow.articles_v1 a ON a.id = m.article_id;
        CREATE VIEW newsflow.dates_mentioned_v1 AS
            SELECT d.article_id, d.position, d.text, d.date, d.resolved
            FROM newsflow.article_dates d JOIN newsflow.articles_v1 a ON a.id = d.article_id;

        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'newsflow_reader') THEN
                GRANT SELECT ON newsflow.article_entities_v1, newsflow.quotes_v1,
                    newsflow.cited_sources_v1, newsflow.amounts_v1,
                    newsflow.dates_mentioned_v1 TO newsflow_reader;
            END IF;
        END
        $$;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP VIEW newsflow.article_entities_v1, newsflow.quotes_v1, newsflow.cited_sources_v1,
            newsflow.amounts_v1, newsflow.dates_mentioned_v1;
        ALTER TABLE newsflow.articles
            DROP COLUMN keywords, DROP COLUMN topics, DROP COLUMN simhash;
        DROP TABLE newsflow.article_dates;
        DROP TABLE newsflow.article_amounts;
        DROP TABLE newsflow.article_cited_sources;
        DROP TABLE newsflow.article_quotes;
        DROP TABLE newsflow.article_entities;
        DROP TABLE newsflow.entities;
        """
    )
