"""SQL for canonical entities across articles and languages."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from newsflow.store.search import escape_like

# a page of entities ends at (articles, key): most mentioned first, then by key
CURSOR_PATTERN = "^[0-9a-f]{1,16}[.]([0-9a-f]{2}){1,1000}$"


def encode_cursor(articles: int, key: str) -> str:
    return f"{articles:x}.{key.encode().hex()}"


def decode_cursor(cursor: str) -> tuple[int, str]:
    """The (articles, key) a page ended at. Every string of CURSOR_PATTERN decodes (one
    encode_cursor never gave pages from a meaningless place, as with article cursors);
    ValueError for any other."""
    if not re.fullmatch(CURSOR_PATTERN, cursor):
        raise ValueError(f"not an entity cursor: {cursor!r}")
    count, _, hex_key = cursor.partition(".")
    # PostgreSQL text holds no NUL and only UTF-8: no key has either
    key = bytes.fromhex(hex_key).decode(errors="replace").replace("\x00", "")
    return min(int(count, 16), 2**63 - 1), key  # a count beyond a bigint sorts first


def search_entities(
    connection: Connection,
    query: str,
    entity_type: str | None,
    limit: int,
    after: tuple[int, str] | None = None,
) -> list[dict[str, Any]]:
    """Entities whose name, in any language, starts with ``query``; most mentioned first,
    then by key, continuing after ``after`` (a page's last (articles, key)). A count that
    changes while paging may move an entity across the cursor."""
    pattern = escape_like(query.lower()) + "%"
    count = "count(DISTINCT ae.article_id)"
    having = f"HAVING ({count} < :after_count OR ({count} = :after_count AND e.key > :after_key))"
    rows = connection.execute(
        text(
            f"""
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
            {having if after else ""}
            ORDER BY articles DESC, e.key
            LIMIT :limit
            """
        ),
        {
            "pattern": pattern,
            "type": entity_type,
            "limit": limit,
            "after_count": after[0] if after else None,
            "after_key": after[1] if after else None,
        },
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
