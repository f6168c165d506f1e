"""PostgreSQL goes away for a while: intake goes on, tasks retry with backoff, and every
submission finishes once it is back."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from newsflow.embedded import EmbeddedPostgres
from tests.faults.conftest import FaultStack, seed_submission

pytestmark = pytest.mark.faults
OUTAGE_SECONDS = float(os.environ.get("NEWSFLOW_FAULT_DB_OUTAGE_SECONDS", "30"))


def test_postgres_down_30s_api_keeps_accepting_and_all_finish(stack: FaultStack) -> None:
    stack.start_worker()
    with stack.client() as client:
        stack.postgres.stop_server()
        went_down = time.monotonic()
        try:
            accepted = [
                client.post("/v1/articles", json=seed_submission(f"d{n}")) for n in range(40)
            ]
            reading = client.get(f"/v1/articles/{accepted[0].json()['id']}")
            time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - went_down)))
        finally:
            stack.postgres.start_server()

    assert [r.status_code for r in accepted] == [202] * 40
    assert reading.status_code == 503  # reads need the database; they say so
    assert reading.headers["Retry-After"]
    stack.wait_until(
        "all 40 done after the outage", lambda: stack.count("status = 'done'") == 40, 120
    )


def test_retries_exhausted_while_postgres_is_down_the_submission_still_finishes(
    private_postgres: EmbeddedPostgres, tmp_path: Path
) -> None:
    # no retries at all before giving up: every task gives up at its first fault, and
    # giving up cannot be recorded while PostgreSQL is down; the message must be kept
    # (retried at the longest backoff), never dropped with the submission left unfinished
    stack = FaultStack(
        private_postgres, tmp_path, transient_retry_max=0, transient_retry_backoff_max=2
    )
    try:
        stack.start_worker()
        with stack.client() as client:
            stack.postgres.stop_server()
            try:
                accepted = [
                    client.post("/v1/articles", json=seed_submission(f"x{n}")) for n in range(5)
                ]
                # long enough for every task to fail once and give up
                stack.wait_until(
                    "the worker to give up on all five",
                    lambda: (
                        sum(
                            w.log_path.read_text().count("could not record that")
                            for w in stack.workers
                        )
                        >= 5
                    ),
                    60,
                )
            finally:
                stack.postgres.start_server()
        assert [r.status_code for r in accepted] == [202] * 5
        stack.wait_until(
            "all five done once PostgreSQL is back", lambda: stack.count("status = 'done'") == 5, 90
        )
    finally:
        stack.close()
