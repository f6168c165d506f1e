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
# a translation shares at least this many entities, and at least half of the smaller set
MIN_SHARED_ENTITIES = 3

_ME = text(
    f"""
    SELECT a.language,
           coalesce(a.published_at, a.processed_at) - interval '{WINDOW}' AS window_start,
           coalesce(a.published_at, a.processed_at) + interval '{WINDOW}' AS window_end,
           array(SELECT entity_key FROM newsflow.article_entities WHERE article_id = a.id)
               AS entity_keys
    FROM newsflow.articles a WHERE a.id = :id
    """
)

# Only an article that mentions one of ours can share entities with it: the candidates come
# from the entity postings and the publication-time index, joined (the planner picks which
# one leads from the bounds and the keys, given as values), never from a scan of the window
# with three subqueries per article in it.
_TRANSLATIONS = text(
    f"""
    WITH shared AS (
        SELECT a.id, a.title, a.language, a.source, count(*) AS shared_entities
        FROM newsflow.article_entities e
        JOIN newsflow.articles a ON a.id = e.article_id
        WHERE e.entity_key = ANY(:entity_keys) AND a.id <> :id
          AND a.language IS DISTINCT FROM CAST(:language AS text)
          AND coalesce(a.published_at, a.processed_at) BETWEEN :window_start AND :window_end
        GROUP BY a.id
        HAVING count(*) >= {MIN_SHARED_ENTITIES}
    ), scored AS (
        SELECT s.*,
            (SELECT count(*) FROM newsflow.article_entities e WHERE e.article_id = s.id)
                AS their_entities,
            (SELECT count(DISTINCT value) FROM newsflow.article_amounts m
             WHERE m.article_id = s.id AND m.value IN (
                 SELECT value FROM newsflow.article_amounts WHERE article_id = :id))
                AS shared_amounts
        FROM shared s
    )
    SELECT id, title, language, source, shared_entities, shared_amounts,
           round(CAST(shared_entities AS numeric)
                 / greatest(1, least(their_entities, :my_entities)), 2) AS overlap
    FROM scored
    WHERE CAST(shared_entities AS numeric)
          / greatest(1, least(their_entities, :my_entities)) >= 0.5
    ORDER BY overlap DESC, shared_amounts DESC, id
    LIMIT 20
    """
)


def find_translations(connection: Connection, article_id: uuid.UUID) -> list[dict[str, Any]]:
    me = connection.execute(_ME, {"id": article_id}).one_or_none()
    if me is None or len(me.entity_keys) < MIN_SHARED_ENTITIES:
        return []
    rows = connection.execute(
        _TRANSLATIONS,
        {**me._asdict(), "id": article_id, "my_entities": len(me.entity_keys)},
    )
    return [dict(row._mapping) for row in rows]
