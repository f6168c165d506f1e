"""Flower sees newsflow's tasks: a real `celery flower` on the test Redis (the test's own
key prefix, which kombu puts on the event channels too), a submission through the real
API, a real worker, and Flower's HTTP API listing the task as SUCCESS. The API enqueues
hand-built messages, so Flower learns of a task from the worker's task-received on."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from newsflow.embedded import free_port
from newsflow.settings import Settings
from tests.conftest import (
    ROOT,
    SEED,
    Servers,
    WorkerProcess,
    api_over_http,
    own_database,
    settings_env,
)

pytestmark = pytest.mark.integration

AUTH = ("newsflow", "test-only")


@pytest.fixture
def own(servers: Servers, settings: Settings) -> Iterator[Settings]:
    with own_database(servers, settings, "newsflow_flower") as own_settings:
        yield own_settings


def _until(check: object, what: str, timeout: float = 90) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check() if callable(check) else None
        except httpx.HTTPError:
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout} s")


def test_flower_lists_a_submitted_task_as_succeeded(
    own: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    port = free_port()
    logs = tmp_path_factory.mktemp("flower")
    env = settings_env(own)
    with (logs / "flower.log").open("wb") as flower_log:
        flower = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "--app=worker.celery_app",
                "flower",
                f"--port={port}",
                "--address=127.0.0.1",
                f"--basic-auth={AUTH[0]}:{AUTH[1]}",
            ],
            env=env,
            cwd=ROOT,
            stdout=flower_log,
            stderr=subprocess.STDOUT,
        )
    worker = WorkerProcess(env, logs / "worker.log", concurrency=1)
    flower_url = f"http://127.0.0.1:{port}"
    try:
        worker.wait_ready()
        # Flower has heard the worker's heartbeat: it is subscribed to the events
        _until(
            lambda: "celery@" in httpx.get(f"{flower_url}/workers?json=1", auth=AUTH).text,
            f"Flower sees the worker ({(logs / 'flower.log').read_text()[-2000:]})",
        )
        with api_over_http(own) as base:
            submission = {
                "source": "flower-test",
                "external_id": uuid.uuid4().hex,
                "text": SEED.read_text(),
            }
            response = httpx.post(f"{base}/v1/articles", json=submission)
            assert response.status_code == 202, response.text
        task_id = response.json()["id"]

        def task_state() -> str | None:
            tasks = httpx.get(f"{flower_url}/api/tasks", auth=AUTH, timeout=5).json()
            task = tasks.get(task_id)
            return task["state"] if task and task["state"] == "SUCCESS" else None

        _until(task_state, "Flower lists the task as SUCCESS")
        task = httpx.get(f"{flower_url}/api/tasks", auth=AUTH).json()[task_id]
        assert task["name"] == "newsflow.process_submission"
        assert task["result"] == "'done'"
        assert task["received"] is not None  # known from task-received on
        # the payload is not shown: the message's argsrepr names the submission only
        assert task["args"] == f"[submission {task_id}]"
        assert httpx.get(f"{flower_url}/api/tasks").status_code == 401  # no password
    finally:
        worker.stop()
        flower.terminate()
        flower.wait(20)
