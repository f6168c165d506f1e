"""Indexes and one function for the console's pages and for search, each for a query that
read far more rows than it returned (measured with EXPLAIN ANALYZE on 100,000 articles; see
bench/consumers.py):

* ``submissions (finished_at) INCLUDE (status)``: the overview's throughput over the last
  hour read every submission.
* ``submissions (status)``: the overview's counts by status, from the index alone.
* ``article_entities (entity_key, article_id)`` instead of ``(entity_key)``: an entity's
  articles newest first, and the articles that share an article's entities, from the
  index alone.
* ``articles (coalesce(published_at, processed_at))``: the time window of translations.
* ``newsflow.entity_keys(keys, names)``: the entity filter's keys (by key or by a name in
  any language). A STABLE function, so the planner evaluates it while planning and
  estimates the filter from the keys' statistics: with a subquery it estimated 300 keys,
  walked every submission newest first and tested each one.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE INDEX submissions_finished_at_idx
            ON newsflow.submissions (finished_at) INCLUDE (status);
        CREATE INDEX submissions_by_status_idx ON newsflow.submissions (status);
        CREATE INDEX article_entities_entity_article_idx
            ON newsflow.article_entities (entity_key, article_id);
        DROP INDEX newsflow.article_entities_entity_idx;
        CREATE INDEX articles_published_or_processed_idx
            ON newsflow.articles ((coalesce(published_at, processed_at)));

        CREATE FUNCTION newsflow.entity_keys(keys text[], names text[]) RETURNS text[]
        LANGUAGE sql STABLE PARALLEL SAFE AS $$
            SELECT coalesce(array_agg(key), '{}') FROM (
                SELECT key FROM newsflow.entities
                WHERE key = ANY(keys) OR lower(canonical) = ANY(names)
                UNION
                SELECT entity_key FROM newsflow.article_entities
                WHERE lower(canonical) = ANY(names)
            ) found
        $$;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP FUNCTION newsflow.entity_keys(text[], text[]);
        DROP INDEX newsflow.articles_published_or_processed_idx;
        CREATE INDEX article_entities_entity_idx ON newsflow.article_entities (entity_key);
        DROP INDEX newsflow.article_entities_entity_article_idx;
        DROP INDEX newsflow.submissions_by_status_idx;
        DROP INDEX newsflow.submissions_finished_at_idx;
        """
    )
