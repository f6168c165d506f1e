"""Redis dies: nothing that got a 202 is lost, the API never answers 500, and the
worker comes back by itself."""

from __future__ import annotations

import pytest

from newsflow.embedded import EmbeddedRedis
from tests.faults.conftest import FaultStack, seed_submission

pytestmark = pytest.mark.faults


def _restart_redis(stack: FaultStack) -> None:
    """The same data directory and port: Redis replays its append-only file."""
    stack.redis = EmbeddedRedis(stack.redis.data_dir, stack.redis.port, "always").start()


def test_redis_sigkill_after_1000_accepted_loses_none(stack: FaultStack) -> None:
    with stack.client() as client:
        for n in range(1000):
            response = client.post("/v1/articles", json=seed_submission(f"r{n}"))
            assert response.status_code == 202

    stack.redis.kill()  # no shutdown, no final fsync: only what each write fsynced
    _restart_redis(stack)
    stack.start_worker()

    stack.wait_until("all 1000 done", lambda: stack.count("status = 'done'") == 1000, 900)
    assert stack.count() == 1000


def test_post_while_redis_is_down_is_503_then_works_again(stack: FaultStack) -> None:
    with stack.client() as client:
        stack.redis.kill()
        down = client.post("/v1/articles", json=seed_submission())
        ready = client.get("/readyz")
        _restart_redis(stack)
        up = client.post("/v1/articles", json=seed_submission())

    assert down.status_code == 503
    assert down.headers["Retry-After"]
    assert down.json()["title"] == "Queue unavailable"
    assert ready.status_code == 503
    assert up.status_code == 202


def test_worker_keeps_consuming_after_repeated_redis_restarts(stack: FaultStack) -> None:
    """Celery workers have been known to stop consuming after a reconnection
    (celery#8030): after each of three Redis crashes, new work must still get done."""
    stack.start_worker()
    with stack.client() as client:
        for round_number in range(3):
            stack.redis.kill()
            _restart_redis(stack)
            for n in range(5):
                response = client.post("/v1/articles", json=seed_submission(f"x{round_number}-{n}"))
                assert response.status_code == 202
            expected = 5 * (round_number + 1)
            stack.wait_until(
                f"round {round_number + 1} done",
                lambda expected=expected: stack.count("status = 'done'") == expected,
                60,
            )
