"""SQL of webhook subscriptions, their delivery state, attempts and dead letters
(migration 0009). The deliverer's loop is ``worker/webhooks.py``; the routes
``api/webhooks.py``.

Each subscription follows the change feed with a cursor of its own, ``(cursor_xid,
cursor_position)``: every change up to it was delivered, dead-lettered, or did not match
the filters. The first matching change after it is the *head*; while it fails, nothing
after it is sent (``pending_*``, ``attempts``, ``next_attempt_at`` say where the retries
are). Writes that move the cursor compare it with the one the deliverer started from, so an
update through the API (rewinding or skipping) wins over a delivery in flight.

One deliverer per subscription at a time: a session advisory lock on the subscription's id
(``try_lock``), taken on a connection in autocommit. Not a row lock: ``SELECT … FOR UPDATE``
needs a transaction with an id, held open through the HTTP call, and the change feed only
exposes changes of transactions older than every running one (``newsflow.store.changes``),
so every slow receiver would delay the feed for every consumer.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

# first 32 bits of every webhook's advisory lock key: apart from other advisory locks
LOCK_NAMESPACE = "newsflow.webhook:"


@dataclass(frozen=True)
class Webhook:
    id: uuid.UUID
    url: str
    secret: str
    filters: dict[str, Any]
    include_document: bool
    active: bool
    description: str | None
    cursor: tuple[int, int]
    pending: tuple[int, int] | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime
    dead: int  # dead letters not being replayed


@dataclass(frozen=True)
class DeadLetter:
    id: int
    article_id: uuid.UUID
    cursor: tuple[int, int]
    change: dict[str, Any]
    attempts: int
    last_error: str | None
    dead_at: datetime
    replay_requested_at: datetime | None


@dataclass(frozen=True)
class Attempt:
    id: int
    article_id: uuid.UUID
    cursor: tuple[int, int]
    attempt: int
    replay: bool
    status_code: int | None
    error: str | None
    attempted_at: datetime


_SELECT = """
    SELECT w.id, w.url, w.secret, w.filters, w.include_document, w.active, w.description,
           w.cursor_xid::text AS cursor_xid, w.cursor_position,
           w.pending_xid::text AS pending_xid, w.pending_position, w.attempts,
           w.next_attempt_at, w.last_error, w.delivered_at, w.created_at, w.updated_at,
           (SELECT count(*) FROM newsflow.webhook_dead d
            WHERE d.webhook_id = w.id AND d.replay_requested_at IS NULL) AS dead
    FROM newsflow.webhooks w
"""


def _webhook(row: Any) -> Webhook:
    return Webhook(
        id=row.id,
        url=row.url,
        secret=row.secret,
        filters=dict(row.filters),
        include_document=row.include_document,
        active=row.active,
        description=row.description,
        cursor=(int(row.cursor_xid), row.cursor_position),
        pending=(int(row.pending_xid), row.pending_position) if row.pending_xid else None,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        dead=row.dead,
    )


def create(
    connection: Connection,
    *,
    url: str,
    secret: str,
    filters: dict[str, Any],
    include_document: bool,
    active: bool,
    description: str | None,
    cursor: tuple[int, int],
) -> Webhook:
    webhook_id = connection.execute(
        text(
            """
            INSERT INTO newsflow.webhooks (id, url, secret, filters, include_document, active,
                                           description, cursor_xid, cursor_position)
            VALUES (:id, :url, :secret, CAST(:filters AS jsonb), :include_document, :active,
                    :description, CAST(:xid AS xid8), :position)
            RETURNING id
            """
        ),
        {
            "id": uuid.uuid4(),
            "url": url,
            "secret": secret,
            "filters": json.dumps(filters),
            "include_document": include_document,
            "active": active,
            "description": description,
            "xid": str(cursor[0]),
            "position": cursor[1],
        },
    ).scalar_one()
    found = get(connection, webhook_id)
    assert found is not None
    return found


def get(connection: Connection, webhook_id: uuid.UUID) -> Webhook | None:
    row = connection.execute(text(_SELECT + " WHERE w.id = :id"), {"id": webhook_id}).one_or_none()
    return _webhook(row) if row else None


def list_webhooks(connection: Connection) -> list[Webhook]:
    return [_webhook(row) for row in connection.execute(text(_SELECT + " ORDER BY w.created_at"))]


def active_ids(connection: Connection) -> list[uuid.UUID]:
    """Subscriptions that may have something to deliver now (active, not waiting for a
    retry)."""
    rows = connection.execute(
        text(
            """
            SELECT id FROM newsflow.webhooks
            WHERE active AND (next_attempt_at IS NULL OR next_attempt_at <= now())
            ORDER BY id
            """
        )
    )
    return [row.id for row in rows]


def update(connection: Connection, webhook_id: uuid.UUID, changes: dict[str, Any]) -> bool:
    """Set the given fields (url, secret, filters, include_document, active, description,
    cursor). A new cursor drops the head's retry state: delivery restarts after it."""
    sets = ["updated_at = now()"]
    params: dict[str, Any] = {"id": webhook_id}
    for name in ("url", "secret", "include_document", "active", "description"):
        if name in changes:
            sets.append(f"{name} = :{name}")
            params[name] = changes[name]
    if "filters" in changes:
        sets.append("filters = CAST(:filters AS jsonb)")
        params["filters"] = json.dumps(changes["filters"])
    if "cursor" in changes:
        xid, position = changes["cursor"]
        sets.append(
            "cursor_xid = CAST(:xid AS xid8), cursor_position = :position, pending_xid = NULL, "
            "pending_position = NULL, attempts = 0, next_attempt_at = NULL, last_error = NULL"
        )
        params.update(xid=str(xid), position=position)
    if changes.get("active"):  # resuming: try at once
        sets.append("next_attempt_at = NULL")
    result = connection.execute(
        text(f"UPDATE newsflow.webhooks SET {', '.join(sets)} WHERE id = :id"), params
    )
    return result.rowcount == 1


def delete(connection: Connection, webhook_id: uuid.UUID) -> bool:
    result = connection.execute(
        text("DELETE FROM newsflow.webhooks WHERE id = :id"), {"id": webhook_id}
    )
    return result.rowcount == 1


# --- one deliverer at a time -----------------------------------------------------------------


def try_lock(connection: Connection, webhook_id: uuid.UUID) -> bool:
    """Take the subscription's session advisory lock on ``connection`` (autocommit), or
    False if another deliverer holds it. Released by ``unlock`` or when the session ends."""
    return bool(
        connection.execute(
            text("SELECT pg_try_advisory_lock(hashtextextended(:key, 0))"),
            {"key": f"{LOCK_NAMESPACE}{webhook_id}"},
        ).scalar_one()
    )


def unlock(connection: Connection, webhook_id: uuid.UUID) -> None:
    connection.execute(
        text("SELECT pg_advisory_unlock(hashtextextended(:key, 0))"),
        {"key": f"{LOCK_NAMESPACE}{webhook_id}"},
    )


# --- delivery state --------------------------------------------------------------------------


def _cursor_params(prefix: str, cursor: tuple[int, int]) -> dict[str, Any]:
    return {f"{prefix}_xid": str(cursor[0]), f"{prefix}_position": cursor[1]}


_SAME_CURSOR = (
    "cursor_xid = CAST(:old_xid AS xid8) AND cursor_position = :old_position AND id = :id"
)
_CLEAR_HEAD = (
    "pending_xid = NULL, pending_position = NULL, attempts = 0, next_attempt_at = NULL, "
    "last_error = NULL"
)


def advance(
    connection: Connection,
    webhook_id: uuid.UUID,
    old: tuple[int, int],
    new: tuple[int, int],
    error: str | None = None,
) -> bool:
    """Move the cursor past changes that did not match (or were pruned: ``error`` says
    so); False if the API moved it first."""
    result = connection.execute(
        text(
            f"""
            UPDATE newsflow.webhooks
            SET cursor_xid = CAST(:new_xid AS xid8), cursor_position = :new_position,
                last_error = coalesce(:error, last_error)
            WHERE {_SAME_CURSOR}
            """
        ),
        {
            "id": webhook_id,
            "error": error,
            **_cursor_params("old", old),
            **_cursor_params("new", new),
        },
    )
    return result.rowcount == 1


def record_attempt(
    connection: Connection,
    webhook_id: uuid.UUID,
    article_id: uuid.UUID,
    cursor: tuple[int, int],
    attempt: int,
    *,
    replay: bool,
    status_code: int | None,
    error: str | None,
) -> None:
    connection.execute(
        text(
            """
            INSERT INTO newsflow.webhook_attempts
                (webhook_id, article_id, xid, position, attempt, replay, status_code, error)
            VALUES (:id, :article_id, CAST(:xid AS xid8), :position, :attempt, :replay,
                    :status_code, :error)
            """
        ),
        {
            "id": webhook_id,
            "article_id": article_id,
            "xid": str(cursor[0]),
            "position": cursor[1],
            "attempt": attempt,
            "replay": replay,
            "status_code": status_code,
            "error": error,
        },
    )


def delivered(
    connection: Connection, webhook_id: uuid.UUID, old: tuple[int, int], head: tuple[int, int]
) -> bool:
    """The head change was delivered: the cursor moves to it, its retry state goes
    (``last_error`` stays: the most recent failure, for whoever looks later)."""
    result = connection.execute(
        text(
            f"""
            UPDATE newsflow.webhooks
            SET cursor_xid = CAST(:new_xid AS xid8), cursor_position = :new_position,
                pending_xid = NULL, pending_position = NULL, attempts = 0,
                next_attempt_at = NULL, delivered_at = now()
            WHERE {_SAME_CURSOR}
            """
        ),
        {"id": webhook_id, **_cursor_params("old", old), **_cursor_params("new", head)},
    )
    return result.rowcount == 1


def retry_later(
    connection: Connection,
    webhook_id: uuid.UUID,
    old: tuple[int, int],
    head: tuple[int, int],
    attempts: int,
    delay_seconds: float,
    error: str,
) -> None:
    """The head failed ``attempts`` times: wait ``delay_seconds`` before the next."""
    connection.execute(
        text(
            f"""
            UPDATE newsflow.webhooks
            SET pending_xid = CAST(:new_xid AS xid8), pending_position = :new_position,
                attempts = :attempts, last_error = :error,
                next_attempt_at = now() + make_interval(secs => :delay)
            WHERE {_SAME_CURSOR}
            """
        ),
        {
            "id": webhook_id,
            "attempts": attempts,
            "error": error,
            "delay": delay_seconds,
            **_cursor_params("old", old),
            **_cursor_params("new", head),
        },
    )


def dead_letter(
    connection: Connection,
    webhook_id: uuid.UUID,
    old: tuple[int, int],
    head: tuple[int, int],
    change: dict[str, Any],
    attempts: int,
    error: str,
) -> None:
    """Give up on the head: keep it in the dead letters and move the cursor past it."""
    moved = connection.execute(
        text(
            f"""
            UPDATE newsflow.webhooks
            SET cursor_xid = CAST(:new_xid AS xid8), cursor_position = :new_position,
                {_CLEAR_HEAD}
            WHERE {_SAME_CURSOR}
            """
        ),
        {"id": webhook_id, **_cursor_params("old", old), **_cursor_params("new", head)},
    ).rowcount
    if not moved:
        return  # the API moved the cursor meanwhile: delivery restarts from there
    connection.execute(
        text(
            """
            INSERT INTO newsflow.webhook_dead
                (webhook_id, article_id, xid, position, change, attempts, last_error)
            VALUES (:id, :article_id, CAST(:xid AS xid8), :position, CAST(:change AS jsonb),
                    :attempts, :error)
            ON CONFLICT (webhook_id, xid, position) DO UPDATE
                SET change = EXCLUDED.change, attempts = webhook_dead.attempts + EXCLUDED.attempts,
                    last_error = EXCLUDED.last_error, dead_at = now(), replay_requested_at = NULL
            """
        ),
        {
            "id": webhook_id,
            "article_id": uuid.UUID(change["id"]),
            "xid": str(head[0]),
            "position": head[1],
            "change": json.dumps(change),
            "attempts": attempts,
            "error": error,
        },
    )


# --- dead letters and their replay -----------------------------------------------------------

_DEAD = """
    SELECT id, article_id, xid::text AS xid, position, change, attempts, last_error, dead_at,
           replay_requested_at
    FROM newsflow.webhook_dead
"""


def _dead(row: Any) -> DeadLetter:
    return DeadLetter(
        id=row.id,
        article_id=row.article_id,
        cursor=(int(row.xid), row.position),
        change=dict(row.change),
        attempts=row.attempts,
        last_error=row.last_error,
        dead_at=row.dead_at,
        replay_requested_at=row.replay_requested_at,
    )


def list_dead(
    connection: Connection, webhook_id: uuid.UUID, limit: int, after_id: int = 0
) -> list[DeadLetter]:
    """Dead letters in the order they died (id), after ``after_id``."""
    rows = connection.execute(
        text(_DEAD + " WHERE webhook_id = :id AND id > :after ORDER BY id LIMIT :limit"),
        {"id": webhook_id, "after": after_id, "limit": limit},
    )
    return [_dead(row) for row in rows]


def request_replay(
    connection: Connection, webhook_id: uuid.UUID, ids: list[int] | None = None
) -> int:
    """Mark dead letters (all, or these ids) to be delivered again; how many were marked."""
    condition = "" if ids is None else " AND id = ANY(:ids)"
    result = connection.execute(
        text(
            "UPDATE newsflow.webhook_dead SET replay_requested_at = now() "
            f"WHERE webhook_id = :id AND replay_requested_at IS NULL{condition}"
        ),
        {"id": webhook_id, "ids": ids or []},
    )
    # a head waiting for its retry waits no longer: the replays go first
    connection.execute(
        text("UPDATE newsflow.webhooks SET next_attempt_at = NULL WHERE id = :id"),
        {"id": webhook_id},
    )
    return int(result.rowcount)


def next_replay(connection: Connection, webhook_id: uuid.UUID) -> DeadLetter | None:
    """The first dead letter marked for replay, in feed order."""
    row = connection.execute(
        text(
            _DEAD + " WHERE webhook_id = :id AND replay_requested_at IS NOT NULL "
            "ORDER BY xid, position LIMIT 1"
        ),
        {"id": webhook_id},
    ).one_or_none()
    return _dead(row) if row else None


def replayed(connection: Connection, dead_id: int) -> None:
    """A replayed dead letter was delivered: it leaves the list."""
    connection.execute(text("DELETE FROM newsflow.webhook_dead WHERE id = :id"), {"id": dead_id})


def replay_failed(
    connection: Connection, webhook_id: uuid.UUID, dead_id: int, attempts: int, error: str
) -> None:
    """A replay used up its attempts: back in the dead letters, not being replayed."""
    connection.execute(
        text(
            """
            UPDATE newsflow.webhook_dead
            SET attempts = attempts + :attempts, last_error = :error, dead_at = now(),
                replay_requested_at = NULL
            WHERE id = :id
            """
        ),
        {"id": dead_id, "attempts": attempts, "error": error},
    )
    connection.execute(
        text(f"UPDATE newsflow.webhooks SET {_CLEAR_HEAD} WHERE id = :id"), {"id": webhook_id}
    )


def replay_retry_later(
    connection: Connection,
    webhook_id: uuid.UUID,
    head: tuple[int, int],
    attempts: int,
    delay_seconds: float,
    error: str,
) -> None:
    connection.execute(
        text(
            """
            UPDATE newsflow.webhooks
            SET pending_xid = CAST(:xid AS xid8), pending_position = :position,
                attempts = :attempts, last_error = :error,
                next_attempt_at = now() + make_interval(secs => :delay)
            WHERE id = :id
            """
        ),
        {
            "id": webhook_id,
            "xid": str(head[0]),
            "position": head[1],
            "attempts": attempts,
            "error": error,
            "delay": delay_seconds,
        },
    )


def clear_head(connection: Connection, webhook_id: uuid.UUID) -> None:
    connection.execute(
        text(f"UPDATE newsflow.webhooks SET {_CLEAR_HEAD} WHERE id = :id"), {"id": webhook_id}
    )


# --- the attempt log -------------------------------------------------------------------------


def list_attempts(
    connection: Connection, webhook_id: uuid.UUID, limit: int, before_id: int | None = None
) -> list[Attempt]:
    """Attempts, newest first, before ``before_id``."""
    rows = connection.execute(
        text(
            """
            SELECT id, article_id, xid::text AS xid, position, attempt, replay, status_code,
                   error, attempted_at
            FROM newsflow.webhook_attempts
            WHERE webhook_id = :id AND id < :before
            ORDER BY id DESC LIMIT :limit
            """
        ),
        {"id": webhook_id, "before": before_id or 2**63 - 1, "limit": limit},
    )
    return [
        Attempt(
            id=row.id,
            article_id=row.article_id,
            cursor=(int(row.xid), row.position),
            attempt=row.attempt,
            replay=row.replay,
            status_code=row.status_code,
            error=row.error,
            attempted_at=row.attempted_at,
        )
        for row in rows
    ]


def prune_attempts(connection: Connection, retention_days: int) -> int:
    """Drop attempts older than the feed's retention."""
    result = connection.execute(
        text(
            "DELETE FROM newsflow.webhook_attempts "
            "WHERE attempted_at < now() - make_interval(days => :days)"
        ),
        {"days": retention_days},
    )
    return int(result.rowcount)
