"""Translations of an article, computed when asked, so they are right whatever order the
articles arrived in: another language, close in time, sharing most canonical entities
(which are keyed across languages: `country:LT` is Lithuania, Литва and Литва) and
figures. Duplicates are found when an article is written: newsflow/store/duplicates.py."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

WINDOW = "3 days"

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


def find_translations(connection: Connection, article_id: uuid.UUID) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in connection.execute(_TRANSLATIONS, {"id": article_id})]
