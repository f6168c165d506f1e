"""Logs and traces across the API and the worker, as an operator reads them: with
NEWSFLOW_LOG_FORMAT=json a real API (`newsflow api`, over HTTP) and a real worker write one
JSON object per line; a request's traceparent and X-Request-ID reach the worker's lines
for its submission through the task message; the access log line and the worker's done
line say what happened and how long each stage took."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from newsflow.embedded import free_port
from newsflow.settings import Settings
from tests.conftest import ROOT, SEED, Servers, WorkerProcess, own_database, settings_env

pytestmark = pytest.mark.integration

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"


def _json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of the log, each of which must be a JSON object."""
    lines = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                pytest.fail(f"{path.name} line {number} is not JSON: {line[:300]}")
    return lines


@pytest.fixture
def services(servers: Servers, settings: Settings, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A JSON-logging API subprocess and worker on a database and Redis prefix of their own."""
    with own_database(servers, settings, "newsflow_logs") as own:
        port = free_port()
        env = {
            **settings_env(own),
            "NEWSFLOW_LOG_FORMAT": "json",
            "NEWSFLOW_API_PORT": str(port),
            "NEWSFLOW_PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
        api_log = tmp_path / "api.log"
        with api_log.open("wb") as api_output:
            api = subprocess.Popen(
                [sys.executable, "-m", "cli", "api"],
                env=env,
                cwd=ROOT,
                stdout=api_output,
                stderr=subprocess.STDOUT,
            )
        worker = WorkerProcess(env, tmp_path / "worker.log")
        try:
            base_url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert api.poll() is None, api_log.read_text()
                assert time.monotonic() < deadline, api_log.read_text()
                time.sleep(0.1)
            worker.wait_ready()
            yield {"url": base_url, "api_log": api_log, "worker_log": worker.log_path}
        finally:
            api.terminate()
            api.wait(20)
            worker.stop()


def _wait_done(client: httpx.Client, ids: list[str]) -> None:
    deadline = time.monotonic() + 90
    for submission_id in ids:
        while client.get(f"/v1/articles/{submission_id}").json()["status"] != "done":
            assert time.monotonic() < deadline, f"{submission_id} not done"
            time.sleep(0.1)


def test_trace_and_request_id_reach_the_workers_lines(services: dict[str, Any]) -> None:
    with httpx.Client(base_url=services["url"], timeout=10) as client:
        accepted = client.post(
            "/v1/articles",
            json={"source": "logs", "text": SEED.read_text()},
            headers={"traceparent": TRACEPARENT, "X-Request-ID": "req-one.1"},
        )
        assert accepted.status_code == 202, accepted.text
        assert accepted.headers["X-Request-ID"] == "req-one.1"
        batch = client.post(
            "/v1/articles/batch",
            json=[{"source": "logs", "text": f"Headline {n}\n\nA paragraph {n}."} for n in (1, 2)],
            headers={"X-Request-ID": "req-batch"},  # no traceparent: the API starts a trace
        )
        assert batch.status_code == 202, batch.text
        invalid_id = client.get("/healthz", headers={"X-Request-ID": "has spaces"})
        submission_id = accepted.json()["id"]
        batch_ids = [item["id"] for item in batch.json()["items"]]
        _wait_done(client, [submission_id, *batch_ids])
    time.sleep(0.5)  # the worker logs its done line after the commit the API reads

    # a made-up request id is answered instead of one that is not valid
    assert invalid_id.headers["X-Request-ID"] not in ("", "has spaces")

    api_lines = _json_lines(services["api_log"])
    access = [line for line in api_lines if line["logger"] == "newsflow.access"]
    submit = next(line for line in access if line.get("request_id") == "req-one.1")
    assert submit["method"] == "POST"
    assert submit["route"] == "/v1/articles"
    assert submit["status"] == 202
    assert isinstance(submit["duration_ms"], int | float)
    assert submit["duration_ms"] >= 0
    assert submit["trace_id"] == TRACE_ID
    assert submit["parent_span_id"] == CALLER_SPAN
    assert submit["submission_id"] == submission_id
    read = next(line for line in access if line["route"] == "/v1/articles/{article_id}")
    assert read["method"] == "GET"
    assert read["status"] == 200
    batch_access = next(line for line in access if line.get("request_id") == "req-batch")
    assert batch_access["route"] == "/v1/articles/batch"

    worker_lines = _json_lines(services["worker_log"])
    own = [line for line in worker_lines if line.get("submission_id") == submission_id]
    assert own, "no worker line names the submission"
    for line in own:
        assert line["trace_id"] == TRACE_ID
        assert line["parent_span_id"] == submit["span_id"]  # the API's span is the parent
        assert line["request_id"] == "req-one.1"
        assert line["delivery"].startswith(submission_id)
    done = next(line for line in own if line.get("status") == "done")
    assert set(done["stages_ms"]) == {"land", "parse", "enrich", "persist"}
    assert all(ms >= 0 for ms in done["stages_ms"].values())
    assert done["total_ms"] >= max(done["stages_ms"].values())

    for batch_id in batch_ids:
        lines = [line for line in worker_lines if line.get("submission_id") == batch_id]
        assert lines
        assert {line["request_id"] for line in lines} == {"req-batch"}
        assert {line["trace_id"] for line in lines} == {batch_access["trace_id"]}
