"""One source poll cycle: 1,000 feeds of 50 items each, served locally, polled by one poll
task (worker/sources.py's poll_due: claim, robots.txt, fetch, parse, intake into Redis,
record), against a baseline in the same run: the same feeds fetched by a plain httpx
thread pool of the same size and parsed by feedparser, nothing else. Then a second cycle
where every feed answers 304 to the conditional GET. Medians of NEWSFLOW_BENCH_RUNS (3).

The feeds are spread over 50 loopback hosts (127.0.1.1-50, 20 feeds each) with the
per-host delay off, so the figure is the poller's own cost, not its politeness (with the
default 1 s delay a host's 20 feeds take 20 s whatever the poller).

Servers: NEWSFLOW_BENCH_DATABASE_URL (a server URL it may CREATE DATABASE on) and
NEWSFLOW_BENCH_REDIS_URL, or embedded ones in a temporary folder. Prints one table and
writes bench/results/sources.json."""

from __future__ import annotations

import http.server
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import feedparser
import httpx
import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from newsflow.embedded import EmbeddedPostgres, EmbeddedRedis, free_port  # noqa: E402
from newsflow.settings import Settings  # noqa: E402
from newsflow.store import sources  # noqa: E402
from newsflow.store.db import dispose_engines, get_engine  # noqa: E402
from newsflow.store.migrate import upgrade  # noqa: E402
from worker import sources as worker_sources  # noqa: E402
from worker.sources import poll_due  # noqa: E402

RUNS = int(os.environ.get("NEWSFLOW_BENCH_RUNS", "3"))
FEEDS, ITEMS, HOSTS = 1000, 50, 50
CONCURRENCY = 8


def feed_document(n: int) -> bytes:
    items = "".join(
        f"<item><guid>feed-{n}-item-{i}</guid><title>Item {i} of feed {n}</title>"
        f"<link>https://news.example/{n}/{i}</link><pubDate>Fri, 24 Nov 2023 10:30:00 +0200"
        f"</pubDate><description>Summary of item {i}: a sentence or two of what happened."
        "</description><category>World</category></item>"
        for i in range(ITEMS)
    )
    return f"<rss version='2.0'><channel><title>Feed {n}</title>{items}</channel></rss>".encode()


class FeedSite:
    def __init__(self) -> None:
        self.port = free_port()
        self.documents = {f"/feeds/{n}.xml": feed_document(n) for n in range(FEEDS)}
        self.requests: Counter[str] = Counter()
        lock = threading.Lock()
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:  # noqa: N802
                kind = "robots" if self.path == "/robots.txt" else "feed"
                if self.headers.get("If-None-Match") == '"v1"':
                    kind = "feed 304"
                with lock:
                    site.requests[kind] += 1
                if kind == "robots":
                    self._send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
                elif kind == "feed 304":
                    self.send_response(304)
                    self.end_headers()
                else:
                    self._send(200, site.documents[self.path], "application/rss+xml")

            def _send(self, status: int, body: bytes, media: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", '"v1"')
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        http.server.ThreadingHTTPServer.request_queue_size = 128
        self.server = http.server.ThreadingHTTPServer(("0.0.0.0", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, n: int) -> str:
        return f"http://127.0.1.{n % HOSTS + 1}:{self.port}/feeds/{n}.xml"


def baseline(site: FeedSite) -> float:
    # one client for all threads: no TLS context built per request (the fetcher caches it)
    with httpx.Client(timeout=30, trust_env=False) as client:

        def one(n: int) -> int:
            return len(feedparser.parse(client.get(site.url(n)).content).entries)

        started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            assert sum(pool.map(one, range(FEEDS))) == FEEDS * ITEMS
        return time.perf_counter() - started


def cycle(settings: Settings, site: FeedSite, expect: str) -> tuple[float, int]:
    database_url = settings.require_database_url()
    with get_engine(database_url).begin() as connection:
        connection.exec_driver_sql("UPDATE newsflow.sources SET next_poll_at = now()")
    before = sum(site.requests.values())
    started = time.perf_counter()
    outcomes = poll_due(settings)
    elapsed = time.perf_counter() - started
    assert len(outcomes) == FEEDS, len(outcomes)
    assert {o.status for o in outcomes} == {expect}, Counter(o.status for o in outcomes)
    return elapsed, sum(site.requests.values()) - before


def main() -> None:
    import logging

    logging.getLogger("newsflow").setLevel(logging.ERROR)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        server_url = os.environ.get("NEWSFLOW_BENCH_DATABASE_URL")
        if not server_url:
            postgres = EmbeddedPostgres(tmp / "postgres").start()
            stack.callback(postgres.stop)
            server_url = postgres.server_url
        redis_url = os.environ.get("NEWSFLOW_BENCH_REDIS_URL")
        if not redis_url:
            redis_server = EmbeddedRedis(tmp / "redis", appendfsync="no").start()
            stack.callback(redis_server.stop)
            redis_url = redis_server.url
        name = f"newsflow_bench_sources_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            dispose_engines()
            with psycopg.connect(server_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        stack.callback(drop)
        base, _, query = server_url.partition("?")
        database_url = f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
        upgrade(database_url)
        site = FeedSite()
        stack.callback(site.server.shutdown)
        settings = Settings(
            _env_file=None,
            database_url=database_url,
            redis_url=redis_url,
            fetch_allowed_networks=["127.0.0.0/8"],
            fetch_allowed_ports=[site.port],
            source_poll_batch=FEEDS,
            source_poll_concurrency=CONCURRENCY,
            source_host_delay_seconds=0.0,
        )
        with get_engine(database_url).begin() as connection:
            for n in range(FEEDS):
                sources.create(
                    connection,
                    name=f"feed-{n}",
                    url=site.url(n),
                    language=None,
                    poll_interval_seconds=3600,
                    owner="bench",
                )
        client = redis.Redis.from_url(redis_url)
        runs: list[dict[str, float]] = []
        for _ in range(RUNS):
            prefix = f"newsflow-bench-{uuid.uuid4().hex[:8]}:"
            run_settings = settings.model_copy(update={"redis_key_prefix": prefix})
            with get_engine(database_url).begin() as connection:
                connection.exec_driver_sql("UPDATE newsflow.sources SET etag = NULL")
            base_s = baseline(site)
            worker_sources._robots = None  # a cold cycle: each host's robots.txt fetched
            new_s, new_requests = cycle(run_settings, site, "ok")
            same_s, same_requests = cycle(run_settings, site, "not_modified")
            runs.append(
                {
                    "baseline_s": base_s,
                    "poll_new_s": new_s,
                    "poll_new_requests": new_requests,
                    "poll_304_s": same_s,
                    "poll_304_requests": same_requests,
                    "poll_new_vs_baseline": new_s / base_s,
                    "poll_304_vs_baseline": same_s / base_s,
                }
            )
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            for start in range(0, len(keys), 1000):
                client.delete(*keys[start : start + 1000])
        client.close()
    result = {key: round(statistics.median(r[key] for r in runs), 3) for key in runs[0]}
    result |= {"feeds": FEEDS, "items_per_feed": ITEMS, "hosts": HOSTS, "runs": RUNS}
    print(f"source poll cycle: {FEEDS} feeds x {ITEMS} items on {HOSTS} hosts, median of {RUNS}")
    print(f"  baseline (httpx + feedparser, {CONCURRENCY} threads): {result['baseline_s']:.2f} s")
    print(
        f"  poll, all items new: {result['poll_new_s']:.2f} s, "
        f"{result['poll_new_requests']:.0f} requests ({result['poll_new_vs_baseline']:.2f}x)"
    )
    print(
        f"  poll, every feed 304: {result['poll_304_s']:.2f} s, "
        f"{result['poll_304_requests']:.0f} requests ({result['poll_304_vs_baseline']:.2f}x)"
    )
    out = Path(__file__).resolve().parent / "results" / "sources.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
