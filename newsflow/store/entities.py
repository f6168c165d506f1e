"""SQL for canonical entities across articles and languages."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from newsflow.store.search import escape_like


def search_entities(
    connection: Connection, query: str, entity_type: str | None, limit: int
) -> list[dict[str, Any]]:
    """Entities whose name, in any language, starts with ``query``; most mentioned first."""
    pattern = escape_like(query.lower()) + "%"
    rows = connection.execute(
        text(
            """
            WITH matched AS (
                SELECT key FROM newsflow.entities WHERE lower(canonical) LIKE :pattern
                UNION
                SELECT entity_key FROM newsflow.article_entities
                WHERE lower(canonical) LIKE :pattern
            )
            SELECT e.key, e.type, e.canonical, e.country_code,
                   array_agg(DISTINCT ae.canonical) AS names,
                   count(DISTINCT ae.article_id) AS articles
            FROM newsflow.entities e
            JOIN matched m ON m.key = e.key
            JOIN newsflow.article_entities ae ON ae.entity_key = e.key
            WHERE CAST(:type AS text) IS NULL OR e.type = :type
            GROUP BY e.key
            ORDER BY articles DESC, e.key
            LIMIT :limit
            """
        ),
        {"pattern": pattern, "type": entity_type, "limit": limit},
    )
    return [dict(row._mapping) for row in rows]


def get_entity(connection: Connection, key: str) -> dict[str, Any] | None:
    row = connection.execute(
        text(
            """
            SELECT e.key, e.type, e.canonical, e.country_code,
                   coalesce(array_agg(DISTINCT ae.canonical)
                            FILTER (WHERE ae.canonical IS NOT NULL), '{}') AS names,
                   count(DISTINCT ae.article_id) AS articles
            FROM newsflow.entities e
            LEFT JOIN newsflow.article_entities ae ON ae.entity_key = e.key
            WHERE e.key = :key GROUP BY e.key
            """
        ),
        {"key": key},
    ).one_or_none()
    return dict(row._mapping) if row else None


def entity_articles(
    connection: Connection, key: str, limit: int, before: uuid.UUID | None
) -> list[dict[str, Any]]:
    """Articles that mention the entity, newest first (ids are time-ordered), keyset-paged."""
    rows = connection.execute(
        text(
            """
            SELECT a.id, a.title, a.language, a.source, a.published_at, ae.canonical,
                   ae.mentions
            FROM newsflow.article_entities ae
            JOIN newsflow.articles a ON a.id = ae.article_id
            WHERE ae.entity_key = :key AND (CAST(:before AS uuid) IS NULL OR a.id < :before)
            ORDER BY a.id DESC LIMIT :limit
            """
        ),
        {"key": key, "before": before, "limit": limit},
    )
    return [dict(row._mapping) for row in rows]
