"""/metrics as Prometheus scrapes it: the API's over real HTTP after real submissions, and
the worker's endpoint (its parent process, the pool children's counts included) after a
real task, with the queue gauges read from Redis. Real API, Redis, PostgreSQL, worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

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
from worker.pipeline.enrich import ENRICHERS

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    """Every sample of a /metrics page, by name and labels."""
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _article(external_id: str) -> dict[str, str]:
    return {"source": "metrics-test", "external_id": external_id, "text": SEED.read_text()}


@pytest.fixture
def own(servers: Servers, settings: Settings) -> Iterator[Settings]:
    with own_database(servers, settings, "newsflow_metrics") as own_settings:
        yield own_settings


def test_api_counts_submissions_by_outcome_and_requests_by_route_template(own: Settings) -> None:
    with api_over_http(own) as base:
        before = scrape(f"{base}/metrics")
        external_id = uuid.uuid4().hex
        first = httpx.post(f"{base}/v1/articles", json=_article(external_id))
        assert first.status_code == 202, first.text
        again = httpx.post(f"{base}/v1/articles", json=_article(external_id))
        assert again.status_code == 200, again.text
        invalid = httpx.post(f"{base}/v1/articles", json={"source": "metrics-test"})
        assert invalid.status_code == 422
        too_large = httpx.post(
            f"{base}/v1/articles",
            content=b"x" * (own.max_body_bytes + 1),
            headers={"Content-Type": "application/json"},
        )
        assert too_large.status_code == 413
        batch = httpx.post(
            f"{base}/v1/articles/batch",
            json=[_article(uuid.uuid4().hex), _article(external_id), {"source": ""}],
        )
        assert batch.json()["accepted"] == 1, batch.text
        article_id = first.json()["id"]
        assert httpx.get(f"{base}/v1/articles/{article_id}").status_code == 200
        assert httpx.get(f"{base}/no/such/{article_id}").status_code == 404
        after = scrape(f"{base}/metrics")

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    submissions = "newsflow_submissions_total"
    assert delta(submissions, door="article", outcome="accepted", reason="") == 1
    assert delta(submissions, door="article", outcome="repeated", reason="") == 1
    assert delta(submissions, door="article", outcome="refused", reason="invalid") == 1
    assert delta(submissions, door="article", outcome="refused", reason="too_large") == 1
    assert delta(submissions, door="batch", outcome="accepted", reason="") == 1
    assert delta(submissions, door="batch", outcome="repeated", reason="") == 1
    assert delta(submissions, door="batch", outcome="refused", reason="invalid") == 1

    requests = "newsflow_http_requests_total"
    assert delta(requests, route="/v1/articles", method="POST", status="202") == 1
    assert delta(requests, route="/v1/articles", method="POST", status="413") == 1
    assert delta(requests, route="/v1/articles/batch", method="POST", status="202") == 1
    one_article = {"route": "/v1/articles/{article_id}", "method": "GET", "status": "200"}
    assert delta(requests, **one_article) == 1
    assert delta(requests, route="unmatched", method="GET", status="404") == 1
    # timed too, and never by the raw path: no label holds the article's id
    duration = "newsflow_http_request_duration_seconds_count"
    assert delta(duration, route="/v1/articles", method="POST") == 4
    assert not [key for key in after if any(article_id in v for _, v in key[1])]


def test_api_counts_redis_errors_and_refuses_with_503(own: Settings) -> None:
    unreachable = own.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    with api_over_http(unreachable) as base:
        before = scrape(f"{base}/metrics")
        response = httpx.post(f"{base}/v1/articles", json=_article(uuid.uuid4().hex))
        assert response.status_code == 503, response.text
        after = scrape(f"{base}/metrics")
    errors = "newsflow_redis_errors_total"
    # each attempt that failed to connect (api/app.py retries)
    failed = value(after, errors, error="ConnectionError") - value(
        before, errors, error="ConnectionError"
    )
    assert failed >= 1
    refused = {"door": "article", "outcome": "refused", "reason": "unavailable"}
    name = "newsflow_submissions_total"
    assert value(after, name, **refused) - value(before, name, **refused) == 1


def _pool_children(parent: int) -> list[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [int(pid) for pid in children]


def _wait_for(condition: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s")


def test_worker_metrics_count_tasks_stages_and_queue(
    own: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    port = free_port()
    worker_settings = own.model_copy(update={"worker_metrics_port": port})
    # this worker takes pushed articles only: a `url` submission stays in its queue
    worker = WorkerProcess(
        settings_env(worker_settings),
        tmp_path_factory.mktemp("metrics-worker") / "worker.log",
        queues=own.queue,
    )
    metrics_url = f"http://127.0.0.1:{port}/metrics"
    try:
        worker.wait_ready()
        with api_over_http(own) as base:
            response = httpx.post(f"{base}/v1/articles", json=_article(uuid.uuid4().hex))
            assert response.status_code == 202, response.text
            article = f"{base}/v1/articles/{response.json()['id']}"
            _wait_for(lambda: httpx.get(article).json()["status"] == "done", "done")
            url_submission = {"source": "metrics-test", "url": "http://127.0.0.1:9/a"}
            posted_from = time.time()
            assert httpx.post(f"{base}/v1/articles", json=url_submission).status_code == 202
            posted_by = time.time()
        samples = scrape(metrics_url)
        assert value(samples, "newsflow_worker_tasks_total", outcome="done") == 1
        assert value(samples, "newsflow_worker_deliveries_total", redelivered="false") == 1
        for stage in ("land", "parse", "enrich", "persist"):
            assert value(samples, "newsflow_worker_stage_seconds_count", stage=stage) == 1, stage
            assert value(samples, "newsflow_worker_stage_seconds_sum", stage=stage) > 0, stage
        assert value(samples, "newsflow_worker_stage_seconds_count", stage="fetch") == 0
        english = [e.name for e in ENRICHERS if e.languages is None or "en" in e.languages]
        assert "entities" in english
        for enricher in english:
            enricher_count = "newsflow_worker_enricher_seconds_count"
            assert value(samples, enricher_count, enricher=enricher, language="en") == 1, enricher
        # the url submission waits in the fetch queue, nobody consumes it
        assert value(samples, "newsflow_queue_messages", queue=own.fetch_queue) == 1
        assert value(samples, "newsflow_queue_messages", queue=own.queue) == 0
        age = value(samples, "newsflow_queue_oldest_message_age_seconds", queue=own.fetch_queue)
        # its age counts from its acceptance, between the two clock readings around it
        assert time.time() - posted_by - 1 <= age <= time.time() - posted_from + 1
        assert value(samples, "newsflow_metrics_source_up", source="redis") == 1
        assert value(samples, "newsflow_metrics_source_up", source="postgres") == 1
        assert ("newsflow_feed_lag_seconds", frozenset()) in samples
        assert value(samples, "newsflow_dead_letters", status="dead") == 0

        # a pool child killed and replaced: its counts are still served, from one port
        children = _pool_children(worker.process.pid)
        for child in children:
            os.kill(child, signal.SIGKILL)
        _wait_for(
            lambda: len(set(_pool_children(worker.process.pid)) - set(children)) == 2,
            "the pool replaced its children",
        )
        samples = scrape(metrics_url)
        assert value(samples, "newsflow_worker_tasks_total", outcome="done") == 1
        assert value(samples, "newsflow_worker_stage_seconds_count", stage="parse") == 1
    finally:
        worker.stop()


def test_api_with_two_uvicorn_workers_serves_their_sum(
    own: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`newsflow api --workers 2`: whichever worker answers a scrape, it adds up both
    workers' counts (prometheus_client's multiprocess mode, newsflow/metrics.py)."""
    port = free_port()
    env = settings_env(own.model_copy(update={"api_port": port}))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log_path = tmp_path_factory.mktemp("metrics-api") / "api.log"
    with log_path.open("wb") as log:
        api = subprocess.Popen(
            [sys.executable, "-m", "cli", "api", "--workers", "2"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            try:
                return httpx.get(f"{base}/healthz").status_code == 200
            except httpx.HTTPError:
                return False

        _wait_for(healthy, f"the API answers ({log_path.read_text()[-2000:]})")
        submissions = 12
        for _ in range(submissions):
            # a connection each, so both uvicorn workers take some
            with httpx.Client() as client:
                response = client.post(f"{base}/v1/articles", json=_article(uuid.uuid4().hex))
                assert response.status_code == 202, response.text
        for _ in range(6):  # a connection each: both workers answer some
            samples = scrape(f"{base}/metrics")
            name = "newsflow_submissions_total"
            accepted = value(samples, name, door="article", outcome="accepted", reason="")
            assert accepted == submissions
    finally:
        api.terminate()
        api.wait(30)
