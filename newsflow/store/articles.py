"""SQL for articles: the idempotent write of one processed article, and reading it back.

An article is written as a whole, in bulk: the row (with its document) by one upsert, then
every child row (blocks, images, entities, quotes, cited sources, amounts, dates) by one
multi-row ``INSERT … SELECT`` per table that reads the rows out of the document just
stored. The statements go in one pipeline (one network round trip), so the cost no longer
grows with the number of rows or tables, and the child rows are, by construction, what the
stored document says."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Connection

from newsflow.contract import FINAL_STATUSES, Status
from newsflow.store import enrichment, submissions
from newsflow.store.db import driver_connection
from newsflow.store.enrichment import from_document

_ARTICLE_COLUMNS = (
    "id",
    "source",
    "external_id",
    "url",
    "title",
    "lead",
    "body",
    "language",
    "language_confidence",
    "published_at",
    "authors",
    "site",
    "word_count",
    "content_hash",
    "simhash",
    "document",
    "processed_at",
    "keywords",
    "topics",
)
_CASTS = {
    "document": "::jsonb",
    "authors": "::text[]",
    "keywords": "::text[]",
    "topics": "::text[]",
}

UPSERT_ARTICLE = (
    "INSERT INTO newsflow.articles ({columns}) VALUES ({values}) "
    "ON CONFLICT (id) DO UPDATE SET {updates}".format(
        columns=", ".join(_ARTICLE_COLUMNS),
        values=", ".join(f"%({c})s{_CASTS.get(c, '')}" for c in _ARTICLE_COLUMNS),
        updates=", ".join(f"{c} = EXCLUDED.{c}" for c in _ARTICLE_COLUMNS if c != "id"),
    )
)

CHILD_TABLES = ("article_blocks", "article_images", *enrichment.TABLES)

# one statement for every child table (different tables: no ordering between them)
DELETE_CHILDREN = (
    "WITH "
    + ", ".join(
        f"d{n} AS (DELETE FROM newsflow.{table} WHERE article_id = %(id)s)"
        for n, table in enumerate(CHILD_TABLES[:-1])
    )
    + f" DELETE FROM newsflow.{CHILD_TABLES[-1]} WHERE article_id = %(id)s"
)

INSERT_BLOCKS_AND_IMAGES = (
    from_document(
        "article_blocks",
        "kind, text, start_offset, end_offset",
        "blocks",
        'kind text, text text, "start" int, "end" int',
        'r.kind, r.text, r."start", r."end"',
    ),
    from_document(
        "article_images",
        "url, caption, credit, people, role",
        "images",
        "url text, caption text, credit text, people text[], role text",
        "r.url, r.caption, r.credit, coalesce(r.people, '{}'), r.role",
    ),
)


def write_article(cursor: psycopg.Cursor[Any], row: dict[str, Any]) -> None:
    """Queue the write of one article and all its child rows on ``cursor`` (in pipeline
    mode: sent together, checked at the caller's sync). Keyed on the submission id, so a
    redelivered task replaces the article and its children instead of adding to them;
    the caller holds the submission's row lock, so two writers never interleave.
    ``row["document"]`` is the document as JSON text."""
    missing = set(_ARTICLE_COLUMNS) - row.keys()
    if missing:
        raise ValueError(f"article row without {sorted(missing)}")
    key = {"id": row["id"]}
    cursor.execute(UPSERT_ARTICLE, row)
    cursor.execute(DELETE_CHILDREN, key)
    for statement in (*INSERT_BLOCKS_AND_IMAGES, *enrichment.INSERTS):
        cursor.execute(statement, key)


def store_processed_article(connection: Connection, row: dict[str, Any]) -> bool:
    """The worker's write of one processed article: lock its submission, then write the
    article with its child rows and mark the submission done. False, writing nothing, when
    another delivery already finished the submission.

    Two round trips: the row lock (a concurrent copy of the task waits here, then sees the
    first one's result), then every write in one pipeline."""
    pg = driver_connection(connection)
    key = {"id": row["id"]}
    with pg.cursor() as cursor:
        locked = cursor.execute(submissions.LOCK_STATUS, key).fetchone()
        if locked is None:
            raise LookupError(f"submission {row['id']} was never landed")
        if Status(locked[0]) in FINAL_STATUSES:
            return False
    with pg.pipeline(), pg.cursor() as cursor:
        write_article(cursor, row)
        cursor.execute(submissions.FINISH, {**key, "status": "done", "error": None})
    return True


def get_article_document(connection: Connection, article_id: uuid.UUID) -> dict[str, Any] | None:
    document = connection.execute(
        text("SELECT document FROM newsflow.articles WHERE id = :id"), {"id": article_id}
    ).scalar_one_or_none()
    return dict(document) if document is not None else None
