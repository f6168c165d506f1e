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


def entity_timeline(connection: Connection, key: str) -> list[dict[str, Any]]:
    """Articles that mention the entity per month (of publication, else of processing)."""
    rows = connection.execute(
        text(
            """
            SELECT date_trunc('month', coalesce(a.published_at, a.processed_at)) AS month,
                   count(*) AS articles
            FROM newsflow.article_entities ae
            JOIN newsflow.articles a ON a.id = ae.article_id
            WHERE ae.entity_key = :key
            GROUP BY 1 ORDER BY 1
            """
        ),
        {"key": key},
    )
    return [dict(row._mapping) for row in rows]


def co_entities(connection: Connection, key: str, limit: int = 20) -> list[dict[str, Any]]:
    """Entities mentioned in the same articles, by the number of articles they share."""
    rows = connection.execute(
        text(
            """
            SELECT e.key, e.type, e.canonical, count(*) AS shared
            FROM newsflow.article_entities mine
            JOIN newsflow.article_entities other
                ON other.article_id = mine.article_id AND other.entity_key <> mine.entity_key
            JOIN newsflow.entities e ON e.key = other.entity_key
            WHERE mine.entity_key = :key
            GROUP BY e.key ORDER BY shared DESC, e.key LIMIT :limit
            """
        ),
        {"key": key, "limit": limit},
    )
    return [dict(row._mapping) for row in rows]
