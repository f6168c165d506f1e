"""Workers die; every submission still ends in a final state exactly once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from api.intake import SubmissionIntake
from newsflow.taskmessage import ProcessMessage
from tests.conftest import SEED, sql_row
from tests.faults.conftest import FaultStack, seed_submission

pytestmark = pytest.mark.faults
SEED_TEXT = SEED.read_text()


def _assert_each_exactly_once(stack: FaultStack, count: int) -> None:
    """``count`` submissions done, one article each, and every child row once."""
    database_url = stack.settings.require_database_url()
    assert stack.count("status = 'done'") == count
    articles, blocks, distinct_blocks, documented_blocks = sql_row(
        database_url,
        """
        SELECT (SELECT count(*) FROM newsflow.articles),
               (SELECT count(*) FROM newsflow.article_blocks),
               (SELECT count(DISTINCT (article_id, position)) FROM newsflow.article_blocks),
               (SELECT sum(jsonb_array_length(document -> 'blocks')) FROM newsflow.articles)
        """,
    )
    assert articles == count
    assert blocks == distinct_blocks == documented_blocks


def test_sigkill_mid_run_then_restart_every_submission_done_once(stack: FaultStack) -> None:
    with stack.client() as client:
        # two slow ones first, so the kill surely catches tasks mid-way through
        slow = [
            client.post("/v1/articles", json={"source": "faults", "text": f"SLOW 4\n\n{seed}"})
            for seed in (SEED_TEXT, SEED_TEXT + " Again.")
        ]
        for n in range(498):
            assert client.post("/v1/articles", json=seed_submission(f"k{n}")).status_code == 202
    slow_ids = [response.json()["id"] for response in slow]
    first = stack.start_worker()

    stack.wait_until(
        "the slow ones to be running",
        lambda: stack.count("id = ANY(%s) AND status = 'processing'", (slow_ids,)) == 2,
        60,
    )
    first.kill()
    # on a loaded machine a slow one may finish between the check and the kill; the
    # others were cut off mid-way and must be delivered again
    cut_off = [i for i in slow_ids if stack.count("id = %s AND status <> 'done'", (i,))]
    assert cut_off, "the kill caught no task mid-way"

    stack.start_worker()
    stack.wait_until("all 500 done", lambda: stack.count("status = 'done'") == 500, 600)

    _assert_each_exactly_once(stack, 500)
    assert stack.count("id = ANY(%s) AND attempts = 2", (cut_off,)) == len(cut_off)


def test_sigterm_mid_run_finishes_or_requeues_without_duplicates(stack: FaultStack) -> None:
    first = stack.start_worker()
    with stack.client() as client:
        for n in range(200):
            assert client.post("/v1/articles", json=seed_submission(f"t{n}")).status_code == 202

    stack.wait_until("some progress", lambda: stack.count("status = 'done'") >= 20, 60)
    first.stop(timeout=40)
    assert first.process.returncode is not None

    stack.start_worker()
    stack.wait_until("all 200 done", lambda: stack.count("status = 'done'") == 200, 300)
    _assert_each_exactly_once(stack, 200)


def test_poison_submission_ends_dead_and_the_queue_keeps_flowing(stack: FaultStack) -> None:
    stack.start_worker()
    with stack.client() as client:
        poison = client.post(
            "/v1/articles", json={"source": "faults", "text": "CRASH\n\nThis kills its worker."}
        ).json()["id"]
        for n in range(30):
            assert client.post("/v1/articles", json=seed_submission(f"p{n}")).status_code == 202

        stack.wait_until(
            "the poison to be dead and the rest done",
            lambda: stack.count("status = 'done'") == 30 and stack.count("status = 'dead'") == 1,
            300,
        )
        document = client.get(f"/v1/articles/{poison}").json()

    assert document["status"] == "dead"
    assert "died 3 times" in document["error"]
    assert document["attempts"] == stack.settings.max_deliveries + 1
    _assert_each_exactly_once(stack, 30)


def test_two_copies_of_one_message_running_at_once_write_once(stack: FaultStack) -> None:
    """What Redis does when a task outlives the visibility timeout: a second copy runs
    while the first is still working. Both copies go through the real broker here."""
    stack.start_worker(concurrency=2)
    submission_id = uuid.uuid4()
    message: ProcessMessage = {
        "id": str(submission_id),
        "received_at": datetime.now(UTC).isoformat(),
        "idempotency_key": None,
        "submission": {"source": "faults", "text": "SLOW 1.5\n\n" + seed_submission()["text"]},
    }
    with stack.client() as client:
        intake: SubmissionIntake = client.app.state.intake  # type: ignore[attr-defined]
        intake.enqueue(message, task_id=str(submission_id))
        intake.enqueue(message, task_id=str(submission_id))
        stack.wait_until(
            "both copies to finish",
            lambda: (
                stack.count("id = %s AND status = 'done' AND attempts = 2", (submission_id,)) == 1
            ),
            30,
        )
        document = client.get(f"/v1/articles/{submission_id}").json()
    articles, blocks = sql_row(
        stack.settings.require_database_url(),
        """
        SELECT (SELECT count(*) FROM newsflow.articles WHERE id = %(id)s),
               (SELECT count(*) FROM newsflow.article_blocks WHERE article_id = %(id)s)
        """,
        {"id": submission_id},
    )
    assert articles == 1
    assert blocks == len(document["blocks"])  # not doubled
