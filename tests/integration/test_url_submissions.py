"""`url` submissions: the worker fetches the page itself, safely."""

from __future__ import annotations

import http.server
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from newsflow.embedded import free_port
from newsflow.settings import Settings
from newsflow.taskmessage import queue_key
from tests.conftest import SEED, PageServer, WorkerProcess, settings_env, wait_for_final

pytestmark = pytest.mark.integration

PAGE = """<html><head><meta charset="windows-1251"><title>Новини | Сайт</title></head>
<body><article><h1>Уряд ухвалив новий бюджет</h1>
<p>Уряд України у вівторок ухвалив бюджет на наступний рік після довгого обговорення.</p>
<p>Міністр фінансів заявив, що видатки на оборону становитимуть понад двадцять відсотків.</p>
<p>Депутати мають розглянути документ у першому читанні вже наступного тижня.</p>
</article></body></html>"""


def test_url_submission_is_fetched_decoded_and_parsed(
    client: TestClient, worker: WorkerProcess, page_server: PageServer
) -> None:
    page_server.pages["/budget"] = ("text/html", PAGE.encode("windows-1251"))
    response = client.post(
        "/v1/articles", json={"source": "crawler", "url": page_server.url("/budget")}
    )
    assert response.status_code == 202, response.text

    article = wait_for_final(client, response.json()["id"])

    assert article["status"] == "done", article["error"]
    assert article["title"] == "Уряд ухвалив новий бюджет"
    assert article["language"] == "uk"
    assert any("видатки на оборону" in b["text"] for b in article["blocks"])


def test_url_to_a_private_address_is_refused(client: TestClient, worker: WorkerProcess) -> None:
    response = client.post(
        "/v1/articles", json={"source": "crawler", "url": "http://169.254.169.254/latest/meta-data"}
    )
    assert response.status_code == 202

    article = wait_for_final(client, response.json()["id"])

    assert article["status"] == "failed"
    assert article["error"].startswith("fetch refused")
    assert "169.254.169.254" in article["error"]


def test_url_with_a_missing_page_fails_with_the_status(
    client: TestClient, worker: WorkerProcess, page_server: PageServer
) -> None:
    response = client.post("/v1/articles", json={"source": "c", "url": page_server.url("/gone")})

    article = wait_for_final(client, response.json()["id"])

    assert article["status"] == "failed"
    assert "404" in article["error"]


class SlowSite:
    """A site answering by path: /drip/... sends its headers, then one body byte every
    0.2 s; /status/<code>/... answers that status. Counts the requests per path."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                hits[self.path] += 1
                if self.path.startswith("/status/"):
                    self.send_response(int(self.path.split("/")[2]))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                try:
                    for _ in range(100_000):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.2)
                except OSError:  # the fetcher hung up at its deadline
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@dataclass
class SplitStack:
    settings: Settings
    client: TestClient
    site: SlowSite
    redis: redis.Redis
    articles_worker: WorkerProcess


FETCH_RETRY_MAX = 1


@pytest.fixture(scope="module")
def split(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SplitStack]:
    """A worker group for each queue, as docker-compose.yml runs them, on a Redis prefix of
    their own (the session's worker consumes both queues of the session prefix). The fetch
    worker starts only when a test asks for it."""
    from api.app import create_app

    site = SlowSite()
    isolated = settings.model_copy(
        update={
            "redis_key_prefix": f"{settings.redis_key_prefix}split:",
            "fetch_allowed_ports": [*settings.fetch_allowed_ports, site.port],
            "fetch_deadline_seconds": 1.5,
            "fetch_retry_max": FETCH_RETRY_MAX,
            "fetch_retry_backoff_base": 0.2,
            "fetch_retry_backoff_max": 0.5,
        }
    )
    folder = tmp_path_factory.mktemp("split-workers")
    articles_worker = WorkerProcess(
        settings_env(isolated), folder / "articles.log", concurrency=1, queues=isolated.queue
    )
    client = redis.Redis.from_url(isolated.require_redis_url())
    try:
        articles_worker.wait_ready()
        with TestClient(create_app(isolated), raise_server_exceptions=False) as api:
            yield SplitStack(isolated, api, site, client, articles_worker)
    finally:
        articles_worker.stop()
        site.server.shutdown()
        client.close()


@pytest.fixture(scope="module")
def fetch_worker(
    split: SplitStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    log = tmp_path_factory.mktemp("fetch-worker") / "fetch.log"
    process = WorkerProcess(
        settings_env(split.settings), log, concurrency=1, queues=split.settings.fetch_queue
    )
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def _status(stack: SplitStack, submission_id: str) -> str:
    response = stack.client.get(f"/v1/articles/{submission_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def test_url_submissions_go_to_the_fetch_queue(split: SplitStack, page_server: PageServer) -> None:
    """At intake, single and batch: a `url` alone goes to NEWSFLOW_FETCH_QUEUE, which the
    articles worker does not consume; pushed articles are done meanwhile."""
    page_server.pages["/queued"] = ("text/html", PAGE.encode("windows-1251"))
    one = split.client.post("/v1/articles", json={"source": "c", "url": page_server.url("/queued")})
    batch = split.client.post(
        "/v1/articles/batch",
        json=[
            {"source": "c", "url": page_server.url("/queued"), "external_id": "b-url"},
            {"source": "c", "text": SEED.read_text(), "external_id": "b-text"},
        ],
    )
    pushed = split.client.post("/v1/articles", json={"source": "c", "text": SEED.read_text()})
    assert one.status_code == batch.status_code == pushed.status_code == 202
    url_ids = [one.json()["id"], batch.json()["items"][0]["id"]]
    text_ids = [batch.json()["items"][1]["id"], pushed.json()["id"]]

    for text_id in text_ids:
        assert wait_for_final(split.client, text_id)["status"] == "done"

    fetch_key = queue_key(split.settings, split.settings.fetch_queue)
    assert split.redis.llen(fetch_key) == 2
    assert {_status(split, url_id) for url_id in url_ids} == {"queued"}


def test_a_pushed_article_is_not_delayed_behind_slow_sites(
    split: SplitStack, fetch_worker: WorkerProcess
) -> None:
    """Three sites dripping a byte every 0.2 s, then a pushed article: the article is done
    while the sites are still being fetched; each site is tried FETCH_RETRY_MAX + 1 times,
    bounded by the fetch deadline, then `failed` with the reason."""
    drips = [f"/drip/{uuid.uuid4().hex}" for _ in range(3)]
    url_ids = []
    for path in drips:
        response = split.client.post(
            "/v1/articles", json={"source": "c", "url": split.site.url(path)}
        )
        url_ids.append(response.json()["id"])
    pushed = split.client.post("/v1/articles", json={"source": "c", "text": SEED.read_text()})

    assert wait_for_final(split.client, pushed.json()["id"], timeout=30)["status"] == "done"
    assert "queued" in {_status(split, url_id) for url_id in url_ids}

    for url_id, path in zip(url_ids, drips, strict=True):
        document = wait_for_final(split.client, url_id, timeout=60)
        assert document["status"] == "failed"
        assert document["error"].startswith("fetch failed, gave up after 1 retries")
        assert "deadline of 1.5 s exceeded" in document["error"]
        assert split.site.hits[path] == FETCH_RETRY_MAX + 1


@pytest.mark.parametrize(
    ("status", "attempts"), [(500, FETCH_RETRY_MAX + 1), (429, FETCH_RETRY_MAX + 1), (403, 1)]
)
def test_fetch_retries_have_their_own_budget_and_4xx_is_final(
    split: SplitStack, fetch_worker: WorkerProcess, status: int, attempts: int
) -> None:
    path = f"/status/{status}/{uuid.uuid4().hex}"
    response = split.client.post("/v1/articles", json={"source": "c", "url": split.site.url(path)})

    document = wait_for_final(split.client, response.json()["id"], timeout=60)

    assert document["status"] == "failed"
    assert f"HTTP {status}" in document["error"]
    assert split.site.hits[path] == attempts
