"""SQL for submissions: landing the raw payload, counting deliveries, final states."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.engine import Connection

from newsflow.contract import Status
from newsflow.store.db import driver_connection
from newsflow.taskmessage import ProcessMessage


@dataclass(frozen=True)
class Landing:
    status: Status
    attempts: int
    deliveries: int
    # which article and version it is, as first landed (see articles.Claim)
    owner: str | None = None
    article_id: uuid.UUID | None = None
    version: int | None = None
    submission_hash: str | None = None


_LAND = """
    INSERT INTO newsflow.submissions AS s
        (id, source, external_id, idempotency_key, kind, payload, received_at, status,
         attempts, deliveries, last_message, landed_at, updated_at, owner, article_id, version,
         submission_hash)
    VALUES
        (%(id)s, %(source)s, %(external_id)s, %(idempotency_key)s, %(kind)s,
         %(payload)s::jsonb, %(received_at)s, 'processing', 1, 1, %(message)s, now(), now(),
         %(owner)s, %(article_id)s, %(version)s, %(submission_hash)s)
    ON CONFLICT (id) DO UPDATE SET
        attempts = s.attempts + 1,
        -- the same message delivered again means the last try never finished
        -- (the worker died, or the visibility timeout passed)
        deliveries = CASE WHEN s.last_message = EXCLUDED.last_message
                          THEN s.deliveries + 1 ELSE 1 END,
        last_message = EXCLUDED.last_message,
        status = CASE WHEN s.status IN ('done', 'failed', 'dead')
                      THEN s.status ELSE 'processing' END,
        updated_at = now(),
        -- what it is stays what it was first landed as (or became when stored)
        owner = coalesce(s.owner, EXCLUDED.owner),
        article_id = coalesce(s.article_id, EXCLUDED.article_id),
        version = coalesce(s.version, EXCLUDED.version),
        submission_hash = coalesce(s.submission_hash, EXCLUDED.submission_hash)
    RETURNING status, attempts, deliveries, owner, article_id, version, submission_hash
"""


def land_raw_submission(
    connection: Connection,
    *,
    submission_id: uuid.UUID,
    source: str,
    external_id: str | None,
    idempotency_key: str | None,
    kind: str,
    payload_json: str,
    received_at: datetime,
    message: str,
    wait_for_flush: bool = True,
    owner: str | None = None,
    article_id: uuid.UUID | None = None,
    version: int | None = None,
    submission_hash: str | None = None,
) -> Landing:
    """Keep the raw submission before anything else can fail. ``message`` identifies one
    delivery attempt (task id and retry number): seeing it again counts a redelivery.

    ``wait_for_flush=False`` commits without waiting for the WAL flush (PostgreSQL's
    ``synchronous_commit = off``, for this transaction only). The worker lands so: the
    task message stays unacknowledged in Redis until the article's own (flushed) commit,
    which flushes this landing with it, so only a PostgreSQL crash in between can lose
    the landing, and then the message is delivered and landed again."""
    params = {
        "id": submission_id,
        "source": source,
        "external_id": external_id,
        "idempotency_key": idempotency_key,
        "kind": kind,
        "payload": payload_json,
        "received_at": received_at,
        "message": message,
        "owner": owner,
        "article_id": article_id,
        "version": version,
        "submission_hash": submission_hash,
    }
    pg = driver_connection(connection)
    with pg.pipeline(), pg.cursor() as cursor:
        if not wait_for_flush:
            cursor.execute("SET LOCAL synchronous_commit TO off")
        cursor.execute(_LAND, params)
        row = cursor.fetchone()
    if row is None:  # RETURNING answers one row, inserted or updated
        raise RuntimeError(f"landing {submission_id} returned nothing")
    status, attempts, deliveries, *claim = row
    return Landing(Status(status), attempts, deliveries, *claim)


# for pipelines on the driver's cursor. Locking the submission row serialises two copies
# of one task (a redelivery while the first still runs): the second waits here, then sees
# the first one's result.
LOCK_STATUS = "SELECT status FROM newsflow.submissions WHERE id = %(id)s FOR UPDATE"
# to a final state, unless it already reached one (also on the driver's cursor: persist)
FINISH = """
    UPDATE newsflow.submissions
    SET status = %(status)s, error = %(error)s, finished_at = now(), updated_at = now()
    WHERE id = %(id)s AND status NOT IN ('done', 'failed', 'dead')
"""


def finish(
    connection: Connection, submission_id: uuid.UUID, status: Status, error: str | None = None
) -> bool:
    """Move a submission to a final state, unless it already reached one."""
    result = connection.exec_driver_sql(
        FINISH, {"id": submission_id, "status": status.value, "error": error}
    )
    return result.rowcount == 1


def get_submission(connection: Connection, submission_id: uuid.UUID) -> dict[str, Any] | None:
    row = connection.execute(
        text(
            """
            SELECT id, source, external_id, received_at, status, attempts, error, finished_at,
                   payload, owner, article_id, version
            FROM newsflow.submissions WHERE id = :id
            """
        ),
        {"id": submission_id},
    ).one_or_none()
    return dict(row._mapping) if row else None


_LISTED = """
    id, source, external_id, idempotency_key, received_at, status, attempts, error,
    finished_at, payload, owner, article_id, version
"""


def list_submissions(
    connection: Connection,
    status: Status,
    limit: int,
    after: uuid.UUID | None = None,
    newest_first: bool = False,
) -> list[dict[str, Any]]:
    """Submissions in one state, oldest first (or newest, for the console), continuing
    after ``after`` (keyset)."""
    order, beyond = ("DESC", "<") if newest_first else ("ASC", ">")
    rows = connection.execute(
        text(
            f"""
            SELECT {_LISTED} FROM newsflow.submissions
            WHERE status = :status AND (CAST(:after AS uuid) IS NULL OR id {beyond} :after)
            ORDER BY id {order} LIMIT :limit
            """
        ),
        {"status": status.value, "after": after, "limit": limit},
    )
    return [dict(row._mapping) for row in rows]


def reopen(
    connection: Connection,
    submission_id: uuid.UUID,
    from_statuses: tuple[str, ...] = ("failed", "dead"),
) -> dict[str, Any] | None:
    """Put a final submission back to processing, with a fresh delivery count, for a
    replay (failed, dead) or a reprocess (done too). Returns it, or None when it is not in
    one of ``from_statuses``. The caller enqueues before it commits: a worker that lands
    the task first waits on this row's lock."""
    row = connection.execute(
        text(
            f"""
            UPDATE newsflow.submissions
            SET status = 'processing', deliveries = 0, last_message = NULL,
                error = NULL, finished_at = NULL, updated_at = now()
            WHERE id = :id AND status = ANY(:statuses)
            RETURNING {_LISTED}
            """
        ),
        {"id": submission_id, "statuses": list(from_statuses)},
    ).one_or_none()
    return dict(row._mapping) if row else None


def reprocess_message(row: dict[str, Any]) -> ProcessMessage:
    """The task message that processes a stored submission again, from its raw payload."""
    return {
        "id": str(row["id"]),
        "received_at": row["received_at"].isoformat(),
        "idempotency_key": row["idempotency_key"],
        "submission": row["payload"],
        "owner": row.get("owner"),
    }


def stale_article_ids(
    connection: Connection, current: dict[str, str], always: list[str], limit: int
) -> list[uuid.UUID]:
    """Done articles enriched by another version of one of the ``current`` enrichers
    (name -> version), or missing one that every article gets (``always``)."""
    rows = connection.execute(
        text(
            """
            SELECT a.id FROM newsflow.articles a
            JOIN newsflow.submissions s ON s.id = a.id AND s.status = 'done'
            WHERE EXISTS (
                    SELECT 1 FROM jsonb_array_elements(a.document -> 'enrichers') AS e
                    WHERE CAST(:current AS jsonb) ->> (e ->> 'name') <> e ->> 'version')
               OR NOT (
                    SELECT coalesce(array_agg(e ->> 'name'), '{}')
                    FROM jsonb_array_elements(a.document -> 'enrichers') AS e
                  ) @> CAST(:always AS text[])
            ORDER BY a.id LIMIT :limit
            """
        ),
        {"current": orjson.dumps(current).decode(), "always": always, "limit": limit},
    )
    return [row.id for row in rows]


def count_failed_and_dead(connection: Connection) -> dict[str, int]:
    """How many submissions are `failed` and `dead` (kept with their payload for a replay),
    by status; read through the partial index on those two."""
    rows = connection.execute(
        text(
            """
            SELECT status, count(*) AS n FROM newsflow.submissions
            WHERE status IN ('failed', 'dead') GROUP BY status
            """
        )
    ).all()
    return {"failed": 0, "dead": 0} | {row.status: row.n for row in rows}
