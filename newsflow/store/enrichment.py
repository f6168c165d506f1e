"""SQL for an article's enrichment rows: replaced as a whole on every (re)processing, in
the caller's transaction, so a redelivery or a re-enrichment never duplicates them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from newsflow.contract import ArticleDocument

_CHILD_TABLES = (
    "article_entities",
    "article_quotes",
    "article_cited_sources",
    "article_amounts",
    "article_dates",
)


def _insert(connection: Connection, sql: str, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        connection.execute(text(sql), list(rows))


def replace_enrichment(
    connection: Connection, article_id: uuid.UUID, document: ArticleDocument
) -> None:
    for table in _CHILD_TABLES:
        connection.execute(
            text(f"DELETE FROM newsflow.{table} WHERE article_id = :id"), {"id": article_id}
        )
    # shared entity rows, in key order: concurrent writers then lock them in the same
    # order and cannot deadlock each other
    entities = sorted(document.entities, key=lambda entity: entity.key)
    _insert(
        connection,
        """
        INSERT INTO newsflow.entities (key, type, canonical, country_code)
        VALUES (:key, :type, :canonical, :country_code)
        ON CONFLICT (key) DO NOTHING
        """,
        [
            {"key": e.key, "type": e.type, "canonical": e.canonical, "country_code": e.country_code}
            for e in entities
        ],
    )
    _insert(
        connection,
        """
        INSERT INTO newsflow.article_entities
            (article_id, entity_key, canonical, surfaces, mentions, first_offset)
        VALUES (:article_id, :key, :canonical, :surfaces, :mentions, :first_offset)
        """,
        [
            {
                "article_id": article_id,
                "key": e.key,
                "canonical": e.canonical,
                "surfaces": sorted({m.text for m in e.mentions}),
                "mentions": len(e.mentions),
                "first_offset": min((m.start for m in e.mentions), default=0),
            }
            for e in entities
        ],
    )
    _insert(
        connection,
        """
        INSERT INTO newsflow.article_quotes
            (article_id, position, text, speaker, speaker_role, start_offset, end_offset)
        VALUES (:article_id, :position, :text, :speaker, :speaker_role, :start, :end)
        """,
        [
            {"article_id": article_id, "position": n, **q.model_dump()}
            for n, q in enumerate(document.quotes)
        ],
    )
    _insert(
        connection,
        """
        INSERT INTO newsflow.article_cited_sources
            (article_id, position, name, cue, start_offset, end_offset)
        VALUES (:article_id, :position, :name, :cue, :start, :end)
        """,
        [
            {"article_id": article_id, "position": n, **c.model_dump()}
            for n, c in enumerate(document.cited_sources)
        ],
    )
    _insert(
        connection,
        """
        INSERT INTO newsflow.article_amounts
            (article_id, position, value, unit, of_what, text, start_offset, end_offset)
        VALUES (:article_id, :position, :value, :unit, :of, :text, :start, :end)
        """,
        [
            {"article_id": article_id, "position": n, **a.model_dump()}
            for n, a in enumerate(document.amounts)
        ],
    )
    _insert(
        connection,
        """
        INSERT INTO newsflow.article_dates
            (article_id, position, text, date, resolved, start_offset, end_offset)
        VALUES (:article_id, :position, :text, :date, :resolved, :start, :end)
        """,
        [
            {"article_id": article_id, "position": n, **d.model_dump()}
            for n, d in enumerate(document.dates_mentioned)
        ],
    )
    connection.execute(
        text("UPDATE newsflow.articles SET keywords = :keywords, topics = :topics WHERE id = :id"),
        {
            "id": article_id,
            "keywords": [k.text for k in document.keywords],
            "topics": document.topics,
        },
    )
