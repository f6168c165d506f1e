"""SQL for the console's overview: submissions by status, what finished in the last hour,
and why submissions failed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

THROUGHPUT_BUCKET_MINUTES = 5


def status_counts(connection: Connection) -> dict[str, int]:
    rows = connection.execute(
        text("SELECT status, count(*) AS n FROM newsflow.submissions GROUP BY status")
    )
    return {row.status: row.n for row in rows}


def throughput_last_hour(connection: Connection) -> list[dict[str, Any]]:
    """Submissions that reached a final state in each 5-minute bucket of the last hour,
    oldest first (every bucket, empty ones too)."""
    rows = connection.execute(
        text(
            """
            WITH buckets AS (
                SELECT generate_series(0, 60 / :minutes - 1) AS n
            ), finished AS (
                SELECT floor(extract(epoch FROM now() - finished_at) / 60 / :minutes)::int AS n,
                       status
                FROM newsflow.submissions
                WHERE finished_at > now() - interval '1 hour'
            )
            SELECT b.n,
                   count(*) FILTER (WHERE f.status = 'done') AS done,
                   count(*) FILTER (WHERE f.status IN ('failed', 'dead')) AS failed
            FROM buckets b LEFT JOIN finished f ON f.n = b.n
            GROUP BY b.n ORDER BY b.n DESC
            """
        ),
        {"minutes": THROUGHPUT_BUCKET_MINUTES},
    )
    return [
        {
            "minutes_ago": (row.n + 1) * THROUGHPUT_BUCKET_MINUTES,
            "done": row.done,
            "failed": row.failed,
        }
        for row in rows
    ]


def failure_reasons(connection: Connection, limit: int = 20) -> list[dict[str, Any]]:
    """Failed and dead submissions grouped by the reason's head (the error up to its first
    colon: "fetch failed", "invalid submission", …), commonest first, with one example."""
    rows = connection.execute(
        text(
            """
            SELECT status, left(split_part(coalesce(error, '(no reason)'), ':', 1), 80) AS reason,
                   count(*) AS n, max(finished_at) AS last_at, min(error) AS example
            FROM newsflow.submissions
            WHERE status IN ('failed', 'dead')
            GROUP BY 1, 2 ORDER BY n DESC, reason LIMIT :limit
            """
        ),
        {"limit": limit},
    )
    return [dict(row._mapping) for row in rows]
