"""PostgreSQL goes away for a while: intake goes on, tasks retry with backoff, and every
submission finishes once it is back."""

from __future__ import annotations

import os
import time

import pytest

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
