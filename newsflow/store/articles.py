"""SQL for articles: the idempotent write of one processed article, and reading it back."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection

from newsflow.store.tables import article_blocks, article_images, articles


def upsert_article(
    connection: Connection,
    row: dict[str, Any],
    blocks: Sequence[dict[str, Any]],
    images: Sequence[dict[str, Any]] = (),
) -> None:
    """Write the article and replace its child rows. Keyed on the submission id, so a
    redelivered task overwrites instead of adding a second article."""
    statement = pg_insert(articles).values(**row)
    updates = {name: statement.excluded[name] for name in row if name != "id"}
    connection.execute(statement.on_conflict_do_update(index_elements=["id"], set_=updates))
    connection.execute(delete(article_blocks).where(article_blocks.c.article_id == row["id"]))
    connection.execute(delete(article_images).where(article_images.c.article_id == row["id"]))
    if blocks:
        connection.execute(insert(article_blocks), list(blocks))
    if images:
        connection.execute(insert(article_images), list(images))


def get_article_document(connection: Connection, article_id: uuid.UUID) -> dict[str, Any] | None:
    document = connection.execute(
        text("SELECT document FROM newsflow.articles WHERE id = :id"), {"id": article_id}
    ).scalar_one_or_none()
    return dict(document) if document is not None else None
