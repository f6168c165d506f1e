"""The change feed: every committed insert or update of an article, each exactly once, in
an order a consumer can follow with a cursor and never miss a change.

The trap: a position taken from a sequence inside a transaction is not the order in which
changes become visible. Writer A takes position 5, writer B takes position 6 and commits
first; a reader that sees 6 and moves its cursor past it will never see 5 when A commits.

The design (migration 0004, no worker code involved):

* A trigger on ``newsflow.articles`` (AFTER INSERT OR UPDATE, so a re-processed article
  re-enters the feed) writes a row into ``newsflow.feed`` in the writer's own transaction:
  a bigserial ``position`` and ``xid = pg_current_xact_id()``, the id of the writing
  transaction; once per article and transaction (unique (article_id, xid)), so a worker
  that writes the row and then updates it in the same transaction makes one change. It
  also sends ``NOTIFY newsflow_articles, '<article id>'``, which PostgreSQL delivers only
  at commit.
* A reader exposes only rows with ``xid < pg_snapshot_xmin(pg_current_snapshot())``: every
  transaction with an id below the oldest transaction still running has finished, so this
  set is final — nothing can be added to it later (a new transaction always gets a larger
  id than any running one). Every committed row in it is visible to the reader's snapshot.
* The feed is ordered, and the cursor is taken, by ``(xid, position)``, not by position
  alone. Ordering by position with the same filter would still skip: B may have taken its
  xid before A (it wrote its submission row first) yet its feed position after A's, and
  commit first; once A is the oldest running transaction B's row (xid < A) is exposed at
  position 6 while A's position 5 is not yet committed. By xid, every row exposed later has
  ``xid >= `` the xmin of every earlier read, which is above any cursor handed out, so
  it always sorts after the consumer's cursor: no change is skipped and none is repeated.

The cost: a change is exposed only once every transaction on the server that started
writing before it has finished, so one long-running writing transaction (anywhere on the
cluster) delays the feed, it never loses anything. The NOTIFY is a wake-up hint: a
consumer that LISTENs then reads the feed from its cursor, and reads again shortly if the
change is not exposed yet.

The cursor is opaque to clients: 32 hex digits, the xid and the position (64 bits each).
``now`` starts at the current end of the feed: ``(xmin, 0)``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

START = (0, 0)
NOW = "now"
NOTIFY_CHANNEL = "newsflow_articles"
CURSOR_PATTERN = "^[0-9a-f]{32}$"
MAX_POSITION = 2**63 - 1


class BadCursor(ValueError):
    """A cursor that this server did not hand out."""


@dataclass(frozen=True)
class FeedRow:
    xid: int
    position: int
    article_id: uuid.UUID
    changed_at: datetime
    status: str
    title: str | None
    language: str | None
    published_at: datetime | None
    processed_at: datetime | None
    document: dict[str, Any] | None

    @property
    def cursor(self) -> str:
        return encode_cursor(self.xid, self.position)


def encode_cursor(xid: int, position: int) -> str:
    return f"{xid:016x}{position:016x}"


def decode_cursor(cursor: str) -> tuple[int, int]:
    """Any 32 hex digits decode (positions beyond a bigint are clamped)."""
    if not re.fullmatch(CURSOR_PATTERN, cursor):
        raise BadCursor(f"not a feed cursor: {cursor!r}")
    return int(cursor[:16], 16), min(int(cursor[16:], 16), MAX_POSITION)


def current_end(connection: Connection) -> tuple[int, int]:
    """The cursor of the feed's current end: every change exposed later sorts after it."""
    xmin = connection.execute(
        text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
    ).scalar_one()
    return int(xmin), 0


_DOCUMENT = """
    jsonb_set(a.document || jsonb_build_object('attempts', s.attempts), '{links}',
              jsonb_build_object('self', CAST(:base_url AS text) || '/v1/articles/' || a.id))
"""


def read_feed(
    connection: Connection,
    after: tuple[int, int],
    limit: int,
    *,
    include_document: bool = False,
    base_url: str = "",
) -> list[FeedRow]:
    """Up to ``limit`` changes after the cursor ``(xid, position)``, in feed order."""
    document = _DOCUMENT if include_document else "NULL::jsonb"
    joins = (
        """
        JOIN newsflow.articles a ON a.id = f.article_id
        JOIN newsflow.submissions s ON s.id = f.article_id
        """
        if include_document
        else ""
    )
    rows = connection.execute(
        text(
            f"""
            SELECT f.xid::text AS xid, f.position, f.article_id, f.changed_at, f.status,
                   f.title, f.language, f.published_at, f.processed_at,
                   {document} AS document
            FROM newsflow.article_feed f {joins}
            WHERE (f.xid, f.position) > (CAST(:xid AS xid8), :position)
            ORDER BY f.xid, f.position
            LIMIT :limit
            """
        ),
        {
            "xid": str(after[0]),
            "position": after[1],
            "limit": limit,
            "base_url": base_url,
        },
    )
    return [
        FeedRow(
            xid=int(row.xid),
            position=row.position,
            article_id=row.article_id,
            changed_at=row.changed_at,
            status=row.status,
            title=row.title,
            language=row.language,
            published_at=row.published_at,
            processed_at=row.processed_at,
            document=row.document,
        )
        for row in rows
    ]
