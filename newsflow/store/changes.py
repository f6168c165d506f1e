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

On a streaming replica (NEWSFLOW_READ_DATABASE_URL) the same rule holds: a hot standby
counts as running every transaction the primary may still have open (an xid it has not seen
finish, including those between the last xid it saw and a newer one), so its snapshot xmin
never passes a transaction that has not committed there yet. A replica only lags: the
feed page says by how much (``replica_lag_seconds``).

The cursor is opaque to clients: 32 hex digits, the xid and the position (64 bits each).
``now`` starts at the current end of the feed: ``(xmin, 0)``.

Retention (``prune_feed``, migration 0006). ``changed_at`` is the writing transaction's
start, so it does not grow with (xid, position): deleting every row older than the cutoff
would leave holes, and a consumer resuming after the last deleted row would skip the newer
rows between. Pruning deletes a *prefix* instead: the exposed rows (xid below the snapshot
xmin, so final) that sort before the first exposed row not older than the cutoff. An old
row behind a newer one waits for the next prune. ``newsflow.feed_pruned`` records the last
row deleted; every row at or before it is gone, every row after it is still there. A
cursor below it has missed changes: ``check_not_pruned`` raises ``CursorPruned``, and the
consumer is told to resume after that point (the oldest change kept comes next).
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from newsflow.contract import article_url

START = (0, 0)
NOW = "now"
NOTIFY_CHANNEL = "newsflow_articles"
CURSOR_PATTERN = "^[0-9a-f]{32}$"
MAX_POSITION = 2**63 - 1


# advisory lock key of pruning (a constant nothing else uses): one pruner at a time per
# database, and the others skip instead of queueing behind its row locks
PRUNE_LOCK_KEY = 0x6E66_0FEE_D9E0_0001


class BadCursor(ValueError):
    """A cursor that this server did not hand out."""


class CursorPruned(LookupError):
    """Changes after this cursor were pruned: the consumer has missed some."""

    def __init__(self, resume_after: tuple[int, int]) -> None:
        super().__init__(f"changes up to {encode_cursor(*resume_after)} were pruned")
        self.resume_after = resume_after


@dataclass(frozen=True)
class PruneResult:
    deleted: int
    more: bool  # stopped by the time budget with old rows left
    busy: bool  # another pruner holds the lock: it does the work


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
    version: int = 1  # the article's version now (migration 0011)

    @property
    def cursor(self) -> str:
        return encode_cursor(self.xid, self.position)

    def as_change(self, base_url: str) -> dict[str, Any]:
        """The change as JSON, as pushed (webhooks, the event stream): the fields of a
        ``GET /v1/feed`` item, ``document`` only when it was read."""
        change: dict[str, Any] = {
            "cursor": self.cursor,
            "id": str(self.article_id),
            "status": self.status,
            "title": self.title,
            "language": self.language,
            "published_at": _iso(self.published_at),
            "processed_at": _iso(self.processed_at),
            "changed_at": _iso(self.changed_at),
            "links": {"self": article_url(base_url, self.article_id)},
        }
        if self.document is not None:
            change["document"] = self.document
        return change


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


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
                   f.title, f.language, f.published_at, f.processed_at, f.version,
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
            version=row.version,
        )
        for row in rows
    ]


def replica_lag_seconds(connection: Connection) -> float | None:
    """How far behind the primary a streaming replica's feed is, in seconds; None on the
    primary. 0 when the replica has replayed all it received (an idle primary writes
    nothing, so the age of the last replayed commit alone would look like lag)."""
    value = connection.execute(
        text(
            """
            SELECT CASE
                     WHEN NOT pg_is_in_recovery() THEN NULL
                     WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                     ELSE greatest(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp()))
                   END
            """
        )
    ).scalar()
    return None if value is None else round(float(value), 3)


def pruned_through(connection: Connection) -> tuple[int, int] | None:
    """The last change pruning deleted, or None if the feed was never pruned. Every change
    at or before it is gone; every change after it is kept."""
    row = connection.execute(
        text("SELECT xid::text AS xid, position FROM newsflow.feed_pruned")
    ).one_or_none()
    return (int(row.xid), row.position) if row else None


def oldest_cursor(connection: Connection) -> tuple[int, int]:
    """Where "from the beginning" starts: just before the oldest change kept."""
    return pruned_through(connection) or START


def check_not_pruned(connection: Connection, after: tuple[int, int]) -> None:
    """Raise ``CursorPruned`` if changes after the cursor ``after`` were pruned. Call it
    *after* ``read_feed``: a prune that commits between the two is then still caught,
    whereas checking first could pass and then read a page with a freshly pruned hole."""
    horizon = pruned_through(connection)
    if horizon is not None and after < horizon:
        raise CursorPruned(horizon)


def prune_feed(
    engine: Engine,
    retention_days: int,
    *,
    batch_size: int = 1000,
    time_budget: float | None = None,
) -> PruneResult:
    """Delete the feed's changes older than ``retention_days`` (by the database's clock),
    as a prefix in feed order (see the module docstring), ``batch_size`` rows per
    transaction so no lock is held for long. ``time_budget`` (seconds) stops it between
    batches, for callers that must not block; the next call carries on."""
    if retention_days <= 0:
        raise ValueError("retention_days must be positive (0 means keep forever)")
    started = time.monotonic()
    with engine.connect() as connection:
        # the prefix ends at the first exposed row young enough to keep, or at xmin if
        # every exposed row is old; rows before it are final, so the bound holds for
        # every batch below even as new changes arrive
        bound = connection.execute(
            text(
                """
                SELECT coalesce(young.xid, horizon.xmin)::text AS xid,
                       coalesce(young.position, 0) AS position
                FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) horizon
                LEFT JOIN LATERAL (
                    SELECT f.xid, f.position FROM newsflow.feed f
                    WHERE f.xid < horizon.xmin
                      AND f.changed_at >= now() - make_interval(days => :days)
                    ORDER BY f.xid, f.position
                    LIMIT 1
                ) young ON true
                """
            ),
            {"days": retention_days},
        ).one()
    deleted = 0
    while True:
        with engine.begin() as connection:
            locked = connection.execute(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": PRUNE_LOCK_KEY}
            ).scalar_one()
            if not locked:
                return PruneResult(deleted, more=False, busy=True)
            rows = connection.execute(
                text(
                    """
                    DELETE FROM newsflow.feed WHERE position IN (
                        SELECT position FROM newsflow.feed
                        WHERE (xid, position) < (CAST(:xid AS xid8), :position)
                        ORDER BY xid, position
                        LIMIT :batch
                    )
                    RETURNING xid::text AS xid, position
                    """
                ),
                {"xid": bound.xid, "position": bound.position, "batch": batch_size},
            ).all()
            if rows:
                last_xid, last_position = max((int(row.xid), row.position) for row in rows)
                # in the same transaction as the delete: the record never lags the rows
                connection.execute(
                    text(
                        """
                        INSERT INTO newsflow.feed_pruned AS p (singleton, xid, position)
                        VALUES (true, CAST(:xid AS xid8), :position)
                        ON CONFLICT (singleton) DO UPDATE
                            SET xid = EXCLUDED.xid, position = EXCLUDED.position,
                                pruned_at = now()
                            WHERE (p.xid, p.position) < (EXCLUDED.xid, EXCLUDED.position)
                        """
                    ),
                    {"xid": str(last_xid), "position": last_position},
                )
        deleted += len(rows)
        if len(rows) < batch_size:
            return PruneResult(deleted, more=False, busy=False)
        if time_budget is not None and time.monotonic() - started >= time_budget:
            return PruneResult(deleted, more=True, busy=False)


def feed_lag(connection: Connection) -> dict[str, Any]:
    """How far the feed trails the writers: changes committed or being written but not yet
    exposed (their xid is not below the snapshot xmin), the age of the oldest of them, and
    the oldest transaction holding the feed back (the one that started writing first)."""
    row = connection.execute(
        text(
            """
            SELECT
                (SELECT count(*) FROM newsflow.feed
                 WHERE xid >= pg_snapshot_xmin(pg_current_snapshot())) AS held_back,
                (SELECT extract(epoch FROM now() - min(changed_at)) FROM newsflow.feed
                 WHERE xid >= pg_snapshot_xmin(pg_current_snapshot())) AS oldest_held_seconds,
                (SELECT extract(epoch FROM now() - min(xact_start)) FROM pg_stat_activity
                 WHERE backend_xid IS NOT NULL) AS oldest_writer_seconds
            """
        )
    ).one()
    return dict(row._mapping)


def feed_lag_seconds(connection: Connection) -> float:
    """How long the oldest committed change not yet exposed has waited (0 when none)."""
    return max(0.0, float(feed_lag(connection)["oldest_held_seconds"] or 0))
