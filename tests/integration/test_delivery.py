"""What the task does when Redis delivers a message more than once (crash, visibility
timeout): one article, never two; a message that keeps killing the worker ends `dead`.
Runs the task body against the real PostgreSQL, without a broker."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from newsflow.contract import Status
from newsflow.settings import Settings
from newsflow.store import submissions
from newsflow.store.db import transaction
from newsflow.taskmessage import ProcessMessage
from tests.conftest import SEED, sql_row
from worker.process import process

pytestmark = pytest.mark.integration


def _message(text: str) -> ProcessMessage:
    return {
        "id": str(uuid.uuid4()),
        "received_at": datetime.now(UTC).isoformat(),
        "idempotency_key": None,
        "submission": {"source": "delivery-test", "text": text},
    }


def _rows(database_url: str, submission_id: str) -> tuple[Any, ...]:
    return sql_row(
        database_url,
        """
        SELECT (SELECT count(*) FROM newsflow.submissions WHERE id = %(id)s),
               (SELECT count(*) FROM newsflow.articles WHERE id = %(id)s),
               (SELECT count(*) FROM newsflow.article_blocks WHERE article_id = %(id)s)
        """,
        {"id": submission_id},
    )


def test_redelivered_message_writes_the_article_once(settings: Settings, database_url: str) -> None:
    message = _message(SEED.read_text())

    first = process(message, settings, delivery="task-1:0")
    blocks_after_first = _rows(database_url, message["id"])[2]
    second = process(message, settings, delivery="task-1:0")

    assert first == second == Status.done
    assert _rows(database_url, message["id"]) == (1, 1, blocks_after_first)


def test_concurrent_copies_of_one_message_write_one_article(
    settings: Settings, database_url: str
) -> None:
    message = _message(SEED.read_text())

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda n: process(message, settings, f"task-2:{n}"), range(4)))

    assert results == [Status.done] * 4
    submissions, articles, blocks = _rows(database_url, message["id"])
    assert (submissions, articles) == (1, 1)
    assert blocks == 10  # caption, 8 paragraphs, one subheading: not multiplied


def test_message_that_keeps_crashing_the_worker_ends_dead(
    settings: Settings, database_url: str
) -> None:
    message = _message(SEED.read_text())
    limited = settings.model_copy(update={"max_deliveries": 2})
    # Each landing without a finish is what a worker killed mid-task leaves behind.
    for _ in range(2):
        with transaction(database_url) as connection:
            submissions.land_raw_submission(
                connection,
                submission_id=uuid.UUID(message["id"]),
                source="delivery-test",
                external_id=None,
                idempotency_key=None,
                kind="text",
                payload_json='{"source": "delivery-test", "text": "x"}',
                received_at=datetime.now(UTC),
                message="task-3:0",
            )

    status = process(message, limited, delivery="task-3:0")

    assert status == Status.dead
    state, error, attempts = sql_row(
        database_url,
        "SELECT status, error, attempts FROM newsflow.submissions WHERE id = %s",
        (message["id"],),
    )
    assert (state, attempts) == ("dead", 3)
    assert "died 2 times" in error
    assert _rows(database_url, message["id"])[1] == 0
