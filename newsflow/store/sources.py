"""SQL for sources (feeds newsflow polls): the operators' CRUD, and the pollers' claim
of due sources and record of each poll.

Claiming is a lease, not a lock held while fetching: in one short transaction a poller
takes due rows with ``FOR UPDATE SKIP LOCKED`` (rows another poller is taking are skipped,
not waited for) and moves their ``next_poll_at`` a lease ahead; then it fetches with no
transaction open, and records the outcome, which sets the real next poll. Any number of
pollers (Celery beat run twice, a poll from the CLI) poll each due source once; a poller
that dies mid-poll leaves its sources due again when the lease ends."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

COLUMNS = (
    "id, name, url, language, poll_interval_seconds, owner, enabled, created_at, "
    "updated_at, next_poll_at, etag, last_modified, last_fetch_at, last_status, "
    "last_http_status, last_error, last_problem, items_seen, items_new, total_items_new, "
    "error_streak"
)


def create(
    connection: Connection,
    *,
    name: str,
    url: str,
    language: str | None,
    poll_interval_seconds: int,
    owner: str,
) -> dict[str, Any] | None:
    """The new source (due at once), or None when the name is taken."""
    row = connection.execute(
        text(
            f"""INSERT INTO newsflow.sources
                (id, name, url, language, poll_interval_seconds, owner, created_at,
                 updated_at, next_poll_at)
            VALUES (:id, :name, :url, :language, :interval, :owner, now(), now(), now())
            ON CONFLICT (name) DO NOTHING
            RETURNING {COLUMNS}"""
        ),
        {
            "id": uuid.uuid4(),
            "name": name,
            "url": url,
            "language": language,
            "interval": poll_interval_seconds,
            "owner": owner,
        },
    ).first()
    return dict(row._mapping) if row else None


def list_sources(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(text(f"SELECT {COLUMNS} FROM newsflow.sources ORDER BY name"))
    return [dict(row._mapping) for row in rows]


def get(connection: Connection, name: str) -> dict[str, Any] | None:
    row = connection.execute(
        text(f"SELECT {COLUMNS} FROM newsflow.sources WHERE name = :name"), {"name": name}
    ).first()
    return dict(row._mapping) if row else None


_UPDATABLE = ("url", "language", "poll_interval_seconds", "enabled")


def update(connection: Connection, name: str, changes: dict[str, Any]) -> dict[str, Any] | None:
    """Change the given fields (of _UPDATABLE). A new URL forgets the old one's validators
    and health; enabling (again) or a new URL makes the source due at once."""
    assignments = [f"{column} = :{column}" for column in _UPDATABLE if column in changes]
    if "url" in changes:
        assignments += [
            "etag = NULL",
            "last_modified = NULL",
            "error_streak = 0",
            "last_error = NULL",
        ]
    if "url" in changes or changes.get("enabled"):
        assignments.append("next_poll_at = now()")
    row = connection.execute(
        text(
            f"""UPDATE newsflow.sources SET {", ".join([*assignments, "updated_at = now()"])}
            WHERE name = :name RETURNING {COLUMNS}"""
        ),
        {**{k: v for k, v in changes.items() if k in _UPDATABLE}, "name": name},
    ).first()
    return dict(row._mapping) if row else None


def make_due(connection: Connection, name: str) -> dict[str, Any] | None:
    """Poll at the next chance (`newsflow sources poll`), even one that is backing off."""
    row = connection.execute(
        text(
            f"""UPDATE newsflow.sources SET next_poll_at = now()
            WHERE name = :name RETURNING {COLUMNS}"""
        ),
        {"name": name},
    ).first()
    return dict(row._mapping) if row else None


def claim_due(
    connection: Connection, limit: int, lease_seconds: float, names: list[str] | None = None
) -> list[dict[str, Any]]:
    """Up to ``limit`` enabled sources whose poll is due, leased to the caller (their next
    poll moved ``lease_seconds`` ahead), earliest first. ``names``: only those."""
    only = "AND name = ANY(:names)" if names is not None else ""
    rows = connection.execute(
        text(
            f"""UPDATE newsflow.sources SET next_poll_at = now() + make_interval(secs => :lease)
            WHERE id IN (
                SELECT id FROM newsflow.sources
                WHERE enabled AND next_poll_at <= now() {only}
                ORDER BY next_poll_at
                LIMIT :limit
                FOR UPDATE SKIP LOCKED
            )
            RETURNING {COLUMNS}"""
        ),
        {"limit": limit, "lease": lease_seconds, "names": names},
    )
    return sorted((dict(row._mapping) for row in rows), key=lambda r: r["next_poll_at"])


def record_success(
    connection: Connection,
    source_id: uuid.UUID,
    *,
    http_status: int,
    etag: str | None,
    last_modified: str | None,
    items_seen: int,
    items_new: int,
    problem: str | None,
) -> None:
    """A poll that worked (200, or 304 Not Modified): the streak ends, the next poll is one
    interval on. A 304 keeps the validators and the problem the feed had."""
    not_modified = http_status == 304
    connection.execute(
        text(
            """UPDATE newsflow.sources SET
                last_fetch_at = now(),
                last_status = :status,
                last_http_status = :http_status,
                etag = CASE WHEN :not_modified THEN etag ELSE :etag END,
                last_modified = CASE WHEN :not_modified THEN last_modified
                                     ELSE :last_modified END,
                last_problem = CASE WHEN :not_modified THEN last_problem ELSE :problem END,
                items_seen = :seen,
                items_new = :new,
                total_items_new = total_items_new + :new,
                error_streak = 0,
                last_error = NULL,
                next_poll_at = now() + make_interval(secs => poll_interval_seconds)
            WHERE id = :id"""
        ),
        {
            "id": source_id,
            "status": "not_modified" if not_modified else "ok",
            "http_status": http_status,
            "not_modified": not_modified,
            "etag": etag,
            "last_modified": last_modified,
            "problem": problem,
            "seen": items_seen,
            "new": items_new,
        },
    )


def record_failure(
    connection: Connection,
    source_id: uuid.UUID,
    *,
    status: str,
    http_status: int | None,
    error: str,
    backoff_cap_seconds: float,
) -> datetime:
    """A poll that failed (``status``: error, or robots_disallowed): the streak grows and
    the next poll backs off, interval x 2^streak, at most ``backoff_cap_seconds`` (or the
    interval, when that is longer). Returns when it will be."""
    row = connection.execute(
        text(
            """UPDATE newsflow.sources SET
                last_fetch_at = now(),
                last_status = :status,
                last_http_status = :http_status,
                last_error = :error,
                items_seen = 0,
                items_new = 0,
                error_streak = error_streak + 1,
                next_poll_at = now() + make_interval(secs => GREATEST(
                    poll_interval_seconds,
                    LEAST(:cap, poll_interval_seconds * power(2, LEAST(error_streak + 1, 30)))
                ))
            WHERE id = :id
            RETURNING next_poll_at"""
        ),
        {
            "id": source_id,
            "status": status,
            "http_status": http_status,
            "error": error[:2000],
            "cap": backoff_cap_seconds,
        },
    ).one()
    next_poll: datetime = row.next_poll_at
    return next_poll
