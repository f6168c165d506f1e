"""Sources newsflow polls itself, against a real feed server on loopback, with real
PostgreSQL, Redis and (for the last test) two Celery workers each running beat."""

from __future__ import annotations

import http.server
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import redis
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from cli.main import main as cli
from newsflow.embedded import free_port
from newsflow.settings import Settings
from newsflow.taskmessage import queue_key
from tests.conftest import (
    Servers,
    WorkerProcess,
    api_over_http,
    own_database,
    settings_env,
    sql_row,
)
from tests.integration.test_url_submissions import PAGE
from tests.unit.newsflow.test_feeds import ATOM, RSS, RSS_1_0
from worker.sources import poll_due

pytestmark = pytest.mark.integration

RSS_0_91 = b"""<rss version="0.91"><channel><title>Old</title><language>en</language>
<item><title>Old news</title><link>https://old.example/1</link>
<description>Old news, read by an old format.</description></item></channel></rss>"""


class FeedServer:
    """Serves feeds, pages and robots.txt on 127.0.0.1 and remembers every request:
    `validators` answer a conditional GET with 304, `failing` paths answer 500."""

    def __init__(self) -> None:
        self.port = free_port()
        self.pages: dict[str, tuple[str, bytes]] = {}
        self.validators: dict[str, tuple[str, str]] = {}  # path -> (ETag, Last-Modified)
        self.failing: set[str] = set()
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []
        lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                with lock:
                    server.hits[self.path] += 1
                    server.requests.append((self.path, dict(self.headers.items())))
                if self.path in server.failing:
                    self._answer(500, "text/plain", b"down")
                    return
                etag, modified = server.validators.get(self.path, (None, None))
                if etag and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                found = server.pages.get(self.path)
                if found is None:
                    self._answer(404, "text/plain", b"not found")
                    return
                extra = {"ETag": etag, "Last-Modified": modified} if etag else {}
                self._answer(200, *found, extra)

            def _answer(
                self,
                status: int,
                content_type: str,
                body: bytes,
                extra: dict[str, Any] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def site() -> Iterator[FeedServer]:
    server = FeedServer()  # a port of its own: robots.txt is cached per host and port
    yield server
    server.server.shutdown()


@pytest.fixture
def own(servers: Servers, settings: Settings, site: FeedServer) -> Iterator[Settings]:
    with own_database(servers, settings, "newsflow_sources") as own:
        yield own.model_copy(
            update={
                "fetch_allowed_ports": [*settings.fetch_allowed_ports, site.port],
                "source_host_delay_seconds": 0.01,
                "source_backoff_max_seconds": 3600.0,
            }
        )


@pytest.fixture
def api(own: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(own), raise_server_exceptions=False) as client:
        yield client


def _add(api: TestClient, name: str, url: str, interval: int = 600, **extra: Any) -> dict:
    body = {"name": name, "url": url, "poll_interval_seconds": interval, **extra}
    response = api.post("/v1/sources", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _health(api: TestClient, name: str) -> dict[str, Any]:
    response = api.get(f"/v1/sources/{name}")
    assert response.status_code == 200, response.text
    health: dict[str, Any] = response.json()["health"]
    return health


def _poll_again(api: TestClient, own: Settings, name: str) -> None:
    """Make the source due (as `newsflow sources poll` does) and poll in this process."""
    assert api.post(f"/v1/sources/{name}/poll").status_code == 202
    (outcome,) = poll_due(own, [name])
    assert outcome.name == name


def test_sources_are_created_listed_shown_updated_and_disabled(
    api: TestClient, site: FeedServer
) -> None:
    created = _add(api, "wire", site.url("/feed.xml"), language="uk")
    assert created["health"]["last_status"] is None
    assert created["enabled"] is True

    assert api.post("/v1/sources", json={"name": "wire", "url": site.url("/x")}).status_code == 409
    bad_url = api.post("/v1/sources", json={"name": "b", "url": "file:///etc/passwd"})
    too_often = api.post(
        "/v1/sources", json={"name": "c", "url": site.url("/"), "poll_interval_seconds": 59}
    )
    for refused in (bad_url, too_often):
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"

    assert [s["name"] for s in api.get("/v1/sources").json()["items"]] == ["wire"]
    changed = api.patch("/v1/sources/wire", json={"poll_interval_seconds": 120})
    assert changed.json()["poll_interval_seconds"] == 120
    assert api.post("/v1/sources/wire/disable").json()["enabled"] is False
    assert api.post("/v1/sources/wire/poll").status_code == 409
    assert api.get("/v1/sources/nope").status_code == 404


def test_feeds_of_each_kind_are_polled_into_submissions_once(
    api: TestClient, own: Settings, site: FeedServer
) -> None:
    feeds = {"rss2": RSS, "rss1": RSS_1_0, "atom": ATOM, "rss091": RSS_0_91}
    types = {"rss2": "application/rss+xml", "rss1": "application/rdf+xml"}
    for name, document in feeds.items():
        site.pages[f"/{name}.xml"] = (types.get(name, "application/xml"), document)
        _add(api, name, site.url(f"/{name}.xml"))

    outcomes = {o.name: o for o in poll_due(own)}

    assert {name: (o.status, o.items_seen, o.items_new) for name, o in outcomes.items()} == {
        "rss2": ("ok", 3, 3), "rss1": ("ok", 2, 2), "atom": ("ok", 1, 1), "rss091": ("ok", 1, 1),
    }  # fmt: skip
    assert _queued_submissions(own) == 7
    health = _health(api, "rss1")
    assert (health["items_seen"], health["items_new"], health["error_streak"]) == (2, 2, 0)
    assert datetime.fromisoformat(health["next_poll_at"]) > datetime.fromisoformat(
        health["last_fetch_at"]
    )

    _poll_again(api, own, "rss2")  # the same items again: no new submission
    health = _health(api, "rss2")
    assert (health["last_status"], health["items_seen"], health["items_new"]) == ("ok", 3, 0)
    assert health["total_items_new"] == 3
    assert _queued_submissions(own) == 7
    assert poll_due(own) == []  # nothing else is due


def _queued_submissions(settings: Settings) -> int:
    """Submission tasks waiting in Redis (not the poll tasks the API sent)."""
    client = redis.Redis.from_url(settings.require_redis_url())
    messages = [
        message
        for queue in (settings.queue, settings.fetch_queue)
        for message in client.lrange(queue_key(settings, queue), 0, -1)
    ]
    client.close()
    return sum(b'"task":"newsflow.process_submission"' in m for m in messages)


def test_a_feed_that_did_not_change_answers_304_to_a_conditional_get(
    api: TestClient, own: Settings, site: FeedServer
) -> None:
    site.pages["/cond.xml"] = ("application/rss+xml", RSS)
    site.validators["/cond.xml"] = ('"v1"', "Fri, 24 Nov 2023 10:30:00 GMT")
    _add(api, "cond", site.url("/cond.xml"))
    poll_due(own)

    _poll_again(api, own, "cond")

    (first, second) = [headers for path, headers in site.requests if path == "/cond.xml"]
    assert "If-None-Match" not in first
    assert second["If-None-Match"] == '"v1"'
    assert second["If-Modified-Since"] == "Fri, 24 Nov 2023 10:30:00 GMT"
    health = _health(api, "cond")
    assert (health["last_status"], health["last_http_status"]) == ("not_modified", 304)
    assert health["total_items_new"] == 3
    _poll_again(api, own, "cond")  # the validators are kept after a 304
    assert site.requests[-1][1]["If-None-Match"] == '"v1"'


def test_a_feed_robots_txt_disallows_is_not_fetched(
    api: TestClient, own: Settings, site: FeedServer
) -> None:
    site.pages["/robots.txt"] = ("text/plain", b"User-agent: *\nDisallow: /private/\n")
    site.pages["/private/feed.xml"] = ("application/rss+xml", RSS)
    site.pages["/public/feed.xml"] = ("application/rss+xml", ATOM)
    _add(api, "private", site.url("/private/feed.xml"))
    _add(api, "public", site.url("/public/feed.xml"))

    outcomes = {o.name: o.status for o in poll_due(own)}

    assert outcomes == {"private": "robots_disallowed", "public": "ok"}
    assert site.hits["/private/feed.xml"] == 0
    assert site.hits["/public/feed.xml"] == 1
    assert site.hits["/robots.txt"] == 1  # once for the host, cached
    health = _health(api, "private")
    assert "robots.txt" in health["last_error"]
    assert health["error_streak"] == 1


def test_a_feed_failing_five_times_shows_the_streak_and_backs_off(
    api: TestClient, own: Settings, site: FeedServer
) -> None:
    site.failing.add("/broken.xml")
    interval = 60
    _add(api, "broken", site.url("/broken.xml"), interval=interval)
    waits = []
    for attempt in range(5):
        if attempt:
            _poll_again(api, own, "broken")
        else:
            poll_due(own)
        health = _health(api, "broken")
        next_poll = datetime.fromisoformat(health["next_poll_at"])
        waits.append((next_poll - datetime.fromisoformat(health["last_fetch_at"])).total_seconds())

    assert health["error_streak"] == 5
    assert health["last_status"] == "error"
    assert health["last_http_status"] == 500
    assert "HTTP 500" in health["last_error"]
    assert site.hits["/broken.xml"] == 5
    # interval x 2^streak: 120 s after the first failure ... 1920 s after the fifth
    assert [round(w / interval) for w in waits] == [2, 4, 8, 16, 32]
    assert poll_due(own) == []  # backing off: not due
    # and the console's Sources page says the same to an operator
    console = api.get("/sources")
    assert console.status_code == 200
    row = console.text[console.text.index('id="source-broken"') :].split("</tr>")[0]
    assert '<td class="streak">5</td>' in row
    assert "HTTP 500" in row

    site.failing.clear()
    site.pages["/broken.xml"] = ("application/rss+xml", RSS)
    _poll_again(api, own, "broken")
    health = _health(api, "broken")
    assert (health["error_streak"], health["last_error"], health["items_new"]) == (0, None, 3)


def test_the_backoff_is_capped(api: TestClient, own: Settings, site: FeedServer) -> None:
    site.failing.add("/down.xml")
    _add(api, "down", site.url("/down.xml"), interval=600)
    capped = own.model_copy(update={"source_backoff_max_seconds": 1800.0})
    poll_due(capped)
    for _ in range(3):
        assert api.post("/v1/sources/down/poll").status_code == 202
        poll_due(capped, ["down"])
    health = _health(api, "down")
    wait = datetime.fromisoformat(health["next_poll_at"]) - datetime.fromisoformat(
        health["last_fetch_at"]
    )
    assert health["error_streak"] == 4
    assert round(wait.total_seconds()) == 1800


def test_the_cli_adds_lists_shows_and_disables_sources(own: Settings, site: FeedServer) -> None:
    runner = CliRunner()
    with api_over_http(own) as url:
        added = runner.invoke(
            cli, ["sources", "add", "cli-feed", site.url("/f.xml"), "--api-url", url]
        )
        assert added.exit_code == 0, added.output
        listed = runner.invoke(cli, ["sources", "list", "--api-url", url])
        assert "cli-feed" in listed.output
        assert "never polled" in listed.output
        shown = runner.invoke(cli, ["sources", "show", "cli-feed", "--json", "--api-url", url])
        assert '"error_streak": 0' in shown.output
        disabled = runner.invoke(cli, ["sources", "disable", "cli-feed", "--api-url", url])
        assert "disabled" in disabled.output
        missing = runner.invoke(cli, ["sources", "show", "nope", "--api-url", url])
        assert missing.exit_code == 4  # the API refused the request (cli/errors.py)
        assert "nope" in missing.output


def _feed_of_pages(site: FeedServer, feed: str, count: int) -> list[str]:
    items, paths = [], []
    for n in range(count):
        path = f"/{feed}/page-{n}.html"
        site.pages[path] = ("text/html", PAGE.encode("windows-1251"))
        paths.append(path)
        items.append(
            f"<item><guid>{feed}-{n}</guid><title>{feed} {n}</title>"
            f"<link>{site.url(path)}</link><description>Summary {n}</description></item>"
        )
    document = f"<rss version='2.0'><channel><title>{feed}</title>{''.join(items)}</channel></rss>"
    site.pages[f"/{feed}.xml"] = ("application/rss+xml", document.encode())
    return paths


def test_two_workers_with_beat_poll_each_feed_once_and_fetch_each_item_once(
    api: TestClient, own: Settings, site: FeedServer, tmp_path: Any
) -> None:
    fast = own.model_copy(update={"source_poll_tick_seconds": 0.5})
    pages = []
    for feed in ("alpha", "beta", "gamma"):
        pages += _feed_of_pages(site, feed, 4)
        _add(api, feed, site.url(f"/{feed}.xml"), interval=3600)
    workers = [
        WorkerProcess(settings_env(fast), tmp_path / f"w{n}.log", concurrency=2, celery_args=["-B"])
        for n in range(2)
    ]
    try:
        for worker in workers:
            worker.wait_ready()
        deadline = time.monotonic() + 120
        while _articles(own) < len(pages) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # several more ticks of both beats: nothing more may be fetched
        hits_before_cli = Counter(site.hits)
        # `newsflow sources poll` asks the API, which queues a poll a worker runs
        with api_over_http(own) as url:
            polled = CliRunner().invoke(cli, ["sources", "poll", "alpha", "--api-url", url])
        logs = [w.log_path.read_text() for w in workers]
    finally:
        for worker in workers:
            worker.stop()

    assert all("beat: Starting" in log for log in logs), logs[0][-2000:]
    assert {f: hits_before_cli[f"/{f}.xml"] for f in ("alpha", "beta", "gamma")} == dict.fromkeys(
        ("alpha", "beta", "gamma"), 1
    )
    assert {p: site.hits[p] for p in pages} == dict.fromkeys(pages, 1)
    assert polled.exit_code == 0, polled.output
    assert "alpha" in polled.output
    assert "seen=4 new=0" in polled.output  # polled again: the same items, no new one
    new_hits = site.hits - hits_before_cli
    new_hits.pop("/robots.txt", None)  # cached per worker process: another may ask too
    assert new_hits == Counter({"/alpha.xml": 1})
    for name in ("beta", "gamma"):
        assert _health(api, name)["items_new"] == 4
    assert _articles(own) == len(pages)


def _articles(settings: Settings) -> int:
    sql = "SELECT count(*) FROM newsflow.articles WHERE source IN ('alpha', 'beta', 'gamma')"
    count: int = sql_row(settings.require_database_url(), sql)[0]
    return count


EDITED_PAGE = PAGE.replace("новий бюджет", "змінений бюджет").replace(
    "понад двадцять відсотків", "понад двадцять п'ять відсотків"
)


def _one_item_feed(site: FeedServer, title: str, page: str) -> None:
    site.pages["/story.html"] = ("text/html", page.encode("windows-1251"))
    item = (
        f"<item><guid>story-1</guid><title>{title}</title><link>{site.url('/story.html')}</link>"
        f"<description>{title}: the summary.</description></item>"
    )
    document = f"<rss version='2.0'><channel><title>edits</title>{item}</channel></rss>"
    site.pages["/edits.xml"] = ("application/rss+xml", document.encode())


def _article_version(api: TestClient, article_id: str, version: int) -> dict[str, Any]:
    deadline = time.monotonic() + 180  # the worker's fetch queue, under a loaded machine
    while time.monotonic() < deadline:
        document: dict[str, Any] = api.get(f"/v1/articles/{article_id}").json()
        if document["status"] == "done" and document.get("version", 0) >= version:
            return document
        assert document["status"] in ("queued", "processing", "done"), document
        time.sleep(0.2)
    raise AssertionError(f"{article_id} never reached version {version}")


def test_a_feed_item_that_changes_becomes_one_new_version_in_the_change_feed_too(
    api: TestClient, own: Settings, site: FeedServer, tmp_path: Any
) -> None:
    _one_item_feed(site, "Budget adopted", PAGE)
    _add(api, "edits", site.url("/edits.xml"))
    worker = WorkerProcess(settings_env(own), tmp_path / "worker.log", concurrency=1)
    try:
        worker.wait_ready()
        (first,) = poll_due(own, ["edits"])
        assert (first.items_seen, first.items_new) == (1, 1)
        document = _wait_for_source_article(api, own)
        assert document["title"] == "Budget adopted"  # the feed's title is the sender's

        _one_item_feed(site, "Budget amended", EDITED_PAGE)  # the publisher edits the story
        _poll_again(api, own, "edits")
        _poll_again(api, own, "edits")  # the edit seen twice is still one new version
        edited = _article_version(api, document["id"], 2)
        versions = api.get(f"/v1/articles/{document['id']}/versions").json()["items"]
    finally:
        worker.stop()

    assert edited["title"] == "Budget amended"
    assert any("двадцять п'ять" in block["text"] for block in edited["blocks"])
    assert [(v["version"], v["current"]) for v in versions] == [(1, False), (2, True)]
    assert _health(api, "edits")["total_items_new"] == 2  # the item, then its edit
    assert site.hits["/story.html"] == 2  # the page fetched once per version
    (changes,) = sql_row(
        own.require_database_url(),
        "SELECT count(*) FROM newsflow.feed WHERE article_id = %s",
        (document["id"],),
    )
    assert changes == 2  # the change feed: version 1, then version 2


def _wait_for_source_article(api: TestClient, own: Settings) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        found = sql_row(
            own.require_database_url(),
            "SELECT count(*), min(id::text) FROM newsflow.articles WHERE source = 'edits'",
        )
        if found[0]:
            return _article_version(api, found[1], 1)
        time.sleep(0.2)
    raise AssertionError("the feed item never became an article")
