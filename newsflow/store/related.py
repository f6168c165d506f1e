"""Duplicates and translations of an article, computed when asked, so they are right
whatever order the articles arrived in.

- exact duplicate: the same normalised body (content hash);
- near duplicate: SimHash fingerprints within a few bits, same language, close in time;
- translation: another language, close in time, sharing most canonical entities (which
  are keyed across languages: `country:LT` is Lithuania, Литва and Литва) and figures."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

NEAR_DUPLICATE_BITS = 6
WINDOW = "3 days"

_DUPLICATES = text(
    f"""
    WITH me AS (
        SELECT id, language, content_hash, simhash,
               coalesce(published_at, processed_at) AS at
        FROM newsflow.articles WHERE id = :id
    )
    SELECT a.id, a.title, a.language, a.source,
           CASE WHEN a.content_hash = me.content_hash THEN 'exact' ELSE 'near' END AS kind,
           bit_count(CAST(a.simhash # me.simhash AS bit(64))) AS distance
    FROM newsflow.articles a, me
    WHERE a.id <> me.id
      AND (a.content_hash = me.content_hash
           OR (a.language IS NOT DISTINCT FROM me.language
               AND coalesce(a.published_at, a.processed_at)
                   BETWEEN me.at - interval '{WINDOW}' AND me.at + interval '{WINDOW}'
               AND bit_count(CAST(a.simhash # me.simhash AS bit(64))) <= :bits))
    ORDER BY distance, a.id
    LIMIT 50
    """
)

_TRANSLATIONS = text(
    f"""
    WITH me AS (
        SELECT id, language, coalesce(published_at, processed_at) AS at
        FROM newsflow.articles WHERE id = :id
    ),
    my_entities AS (
        SELECT entity_key FROM newsflow.article_entities WHERE article_id = :id
    ),
    my_amounts AS (
        SELECT DISTINCT value FROM newsflow.article_amounts WHERE article_id = :id
    ),
    candidates AS (
        SELECT a.id, a.title, a.language, a.source
        FROM newsflow.articles a, me
        WHERE a.id <> me.id AND a.language IS DISTINCT FROM me.language
          AND coalesce(a.published_at, a.processed_at)
              BETWEEN me.at - interval '{WINDOW}' AND me.at + interval '{WINDOW}'
    ),
    scored AS (
        SELECT c.*,
            (SELECT count(*) FROM newsflow.article_entities e
             WHERE e.article_id = c.id AND e.entity_key IN (SELECT entity_key FROM my_entities))
                AS shared_entities,
            (SELECT count(*) FROM newsflow.article_entities e WHERE e.article_id = c.id)
                AS their_entities,
            (SELECT count(DISTINCT value) FROM newsflow.article_amounts m
             WHERE m.article_id = c.id AND m.value IN (SELECT value FROM my_amounts))
                AS shared_amounts
        FROM candidates c
    )
    SELECT id, title, language, source, shared_entities, shared_amounts,
           round(CAST(shared_entities AS numeric)
                 / greatest(1, least(their_entities, (SELECT count(*) FROM my_entities))), 2)
               AS overlap
    FROM scored
    WHERE shared_entities >= 3
      AND CAST(shared_entities AS numeric)
          / greatest(1, least(their_entities, (SELECT count(*) FROM my_entities))) >= 0.5
    ORDER BY overlap DESC, shared_amounts DESC, id
    LIMIT 20
    """
)


def find_duplicates(connection: Connection, article_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = connection.execute(_DUPLICATES, {"id": article_id, "bits": NEAR_DUPLICATE_BITS})
    return [dict(row._mapping) for row in rows]


def find_translations(connection: Connection, article_id: uuid.UUID) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in connection.execute(_TRANSLATIONS, {"id": article_id})]
