"""Polling sources (feeds newsflow pulls itself): claim the due ones, fetch each feed with
a conditional GET through the SSRF-safe fetcher, after its host's robots.txt allows it,
and hand every item to the same intake as `POST /v1/feeds` (idempotent on the item's id).

Politeness, per host: at most ``source_host_concurrency`` of its feeds fetched at once by
one poll task, and at least ``source_host_delay_seconds`` between two requests to it from
any poller (a Redis key that expires after the delay is the host's turn)."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis
import redis.asyncio
from protego import Protego

from api.feeds import accept_items
from api.intake import SubmissionIntake
from newsflow import redisconn
from newsflow.feeds import FeedError, parse_feed
from newsflow.settings import Settings
from newsflow.store import sources
from newsflow.store.db import get_engine
from worker.fetch import FetchError, FetchFailed, FetchPolicy, fetch_url

log = logging.getLogger("newsflow.sources")

ROBOTS_AGENT = "newsflow"  # the token robots.txt rules name
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
        "application/x-rss+xml",
        "text/plain",  # servers that know no better
    }
)
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.1"
)
ROBOTS_TYPES = frozenset({"text/plain", "text/html", "application/octet-stream"})


@dataclass(frozen=True)
class PollOutcome:
    name: str
    status: str  # ok, not_modified, error, robots_disallowed
    http_status: int | None = None
    items_seen: int = 0
    items_new: int = 0
    error: str | None = None


class RobotsUnavailable(Exception):
    """robots.txt could not be had (5xx, network): the host is treated as disallowing
    everything for now (RFC 9309, "unreachable")."""


class RobotsCache:
    """Each host's robots.txt, fetched once per ``ttl`` seconds in this process (by one
    thread: the others wait for it); a host whose robots.txt is missing (4xx) allows
    everything, which is kept as None."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._origin_locks: dict[str, threading.Lock] = {}
        self._rules: dict[str, tuple[float, Protego | None]] = {}

    def rules(self, origin: str, fetch: Callable[[], Protego | None]) -> Protego | None:
        with self._lock:
            origin_lock = self._origin_locks.setdefault(origin, threading.Lock())
        with origin_lock:
            found = self._rules.get(origin)
            if found is not None and found[0] >= time.monotonic():
                return found[1]
            rules = fetch()  # raises RobotsUnavailable: nothing cached, asked again next time
            self._rules[origin] = (time.monotonic() + self.ttl, rules)
            return rules


_robots: RobotsCache | None = None


def robots_cache(settings: Settings) -> RobotsCache:
    global _robots
    if _robots is None or _robots.ttl != settings.source_robots_cache_seconds:
        _robots = RobotsCache(settings.source_robots_cache_seconds)
    return _robots


class HostGate:
    """One turn per request to a host: a slot of the host's (in-process) semaphore, and the
    host's Redis key, set for the delay with NX, so no two pollers anywhere reach it closer
    together than the delay."""

    def __init__(self, settings: Settings, client: redis.Redis) -> None:
        self.settings = settings
        self.redis = client
        self._lock = threading.Lock()
        self._slots: dict[str, threading.Semaphore] = {}

    @contextmanager
    def turn(self, host: str) -> Iterator[None]:
        with self._lock:
            slot = self._slots.setdefault(
                host, threading.Semaphore(self.settings.source_host_concurrency)
            )
        with slot:
            self._wait_for_gap(host)
            yield

    def _wait_for_gap(self, host: str) -> None:
        delay_ms = int(self.settings.source_host_delay_seconds * 1000)
        if delay_ms <= 0:
            return
        key = f"{self.settings.redis_key_prefix}source-host:{host}"
        while not self.redis.set(key, b"1", nx=True, px=delay_ms):
            left = self.redis.pttl(key)
            time.sleep(max(int(left) if isinstance(left, int) else 0, 5) / 1000)


class Poller:
    """Polls claimed sources; one per poll task, shared by its threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.database_url = settings.require_database_url()
        self.redis = redisconn.sync_client(settings, socket_connect_timeout=5, socket_timeout=30)
        # the feed intake is sync; its async client is never used here (nor connected)
        self.intake = SubmissionIntake(settings, self.redis, redisconn.async_client(settings))
        self.gate = HostGate(settings, self.redis)
        self.robots = robots_cache(settings)
        self.policy = FetchPolicy(
            max_bytes=settings.fetch_max_bytes,
            deadline=settings.fetch_deadline_seconds,
            allowed_networks=tuple(settings.fetch_allowed_networks),
            allowed_ports=frozenset(settings.fetch_allowed_ports),
            content_types=FEED_TYPES,
        )

    def close(self) -> None:
        self.redis.close()

    def poll(self, source: dict[str, object]) -> PollOutcome:
        name = str(source["name"])
        source_id = source["id"]
        assert isinstance(source_id, uuid.UUID)
        try:
            return self._poll(source)
        except Exception as exc:  # a bug on one feed must not stop the others
            log.exception("polling source %s failed", name)
            error = f"{type(exc).__name__}: {exc}"
            return self._failed(source_id, name, "error", None, error)

    def _poll(self, source: dict[str, object]) -> PollOutcome:
        name, url = str(source["name"]), str(source["url"])
        source_id = source["id"]
        assert isinstance(source_id, uuid.UUID)
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            allowed = self._robots_allow(f"{parts.scheme}://{parts.netloc}", host, url)
        except RobotsUnavailable as exc:
            return self._failed(source_id, name, "error", None, str(exc))
        if not allowed:
            error = f"robots.txt of {parts.netloc} disallows {parts.path or '/'} to newsflow"
            return self._failed(source_id, name, "robots_disallowed", None, error)
        headers = {"Accept": FEED_ACCEPT}
        if source.get("etag"):
            headers["If-None-Match"] = str(source["etag"])
        if source.get("last_modified"):
            headers["If-Modified-Since"] = str(source["last_modified"])
        try:
            with self.gate.turn(host):
                page = fetch_url(url, self.policy, headers)
        except FetchError as exc:
            status = exc.status if isinstance(exc, FetchFailed) else None
            return self._failed(source_id, name, "error", status, f"fetch: {exc.reason}")
        if page.status == 304:
            with get_engine(self.database_url).begin() as connection:
                sources.record_success(
                    connection,
                    source_id,
                    http_status=304,
                    etag=None,
                    last_modified=None,
                    items_seen=0,
                    items_new=0,
                    problem=None,
                )
            return PollOutcome(name, "not_modified", 304)
        language = source.get("language")
        try:
            feed = parse_feed(page.body, name, str(language) if language else None)
        except FeedError as exc:
            return self._failed(source_id, name, "error", page.status, f"not a feed: {exc}")
        try:
            results = accept_items(self.intake, feed, str(source["owner"]))
        except redis.RedisError as exc:
            # the validators are not kept: the next poll reads the whole feed, and what
            # was accepted before the outage answers as a duplicate
            return self._failed(source_id, name, "error", page.status, f"queue: {exc}")
        new = sum(1 for r in results if r.id is not None and not r.duplicate)
        problems = [feed.problem] if feed.problem else []
        refused = [r for r in results if r.error]
        if refused:
            problems.append(f"{len(refused)} items refused, e.g. #{refused[0].index}: ")
            problems[-1] += str(refused[0].error)
        with get_engine(self.database_url).begin() as connection:
            sources.record_success(
                connection,
                source_id,
                http_status=page.status,
                etag=page.etag,
                last_modified=page.last_modified,
                items_seen=len(results),
                items_new=new,
                problem="; ".join(problems) or None,
            )
        log.info("source %s: %d items, %d new", name, len(results), new)
        return PollOutcome(name, "ok", page.status, len(results), new)

    def _robots_allow(self, origin: str, host: str, url: str) -> bool:
        def fetch() -> Protego | None:
            policy = FetchPolicy(
                max_bytes=512 * 1024,  # Google reads 500 KiB of a robots.txt
                deadline=self.settings.fetch_deadline_seconds,
                allowed_networks=self.policy.allowed_networks,
                allowed_ports=self.policy.allowed_ports,
                content_types=ROBOTS_TYPES,
            )
            try:
                with self.gate.turn(host):
                    page = fetch_url(f"{origin}/robots.txt", policy)
            except FetchFailed as exc:
                if exc.status is None or exc.status >= 500 or exc.status == 429:
                    raise RobotsUnavailable(f"robots.txt of {origin}: {exc.reason}") from exc
                return None  # 4xx: no robots.txt, everything allowed
            except FetchError as exc:
                raise RobotsUnavailable(f"robots.txt of {origin}: {exc.reason}") from exc
            return Protego.parse(page.body.decode(page.charset or "utf-8", "replace"))

        rules = self.robots.rules(origin, fetch)
        return rules is None or bool(rules.can_fetch(url, ROBOTS_AGENT))

    def _failed(
        self, source_id: uuid.UUID, name: str, status: str, http_status: int | None, error: str
    ) -> PollOutcome:
        with get_engine(self.database_url).begin() as connection:
            next_poll = sources.record_failure(
                connection,
                source_id,
                status=status,
                http_status=http_status,
                error=error,
                backoff_cap_seconds=self.settings.source_backoff_max_seconds,
            )
        log.warning("source %s: %s; next poll %s", name, error, next_poll)
        return PollOutcome(name, status, http_status, error=error)


def poll_due(settings: Settings, names: list[str] | None = None) -> list[PollOutcome]:
    """Claim the due sources (``names``: of those only) and poll them; what each gave."""
    engine = get_engine(settings.require_database_url())
    with engine.begin() as connection:
        # the lease outlasts the task: its hard time limit ends it before then
        due = sources.claim_due(
            connection, settings.source_poll_batch, settings.task_time_limit, names
        )
    if not due:
        return []
    poller = Poller(settings)
    try:
        with ThreadPoolExecutor(
            max_workers=min(settings.source_poll_concurrency, len(due)),
            thread_name_prefix="newsflow-poll",
        ) as pool:
            return list(pool.map(poller.poll, due))
    finally:
        poller.close()
