"""The worker's Prometheus metrics, served by the worker's parent process on
NEWSFLOW_WORKER_METRICS_PORT.

The pool children run the tasks and count into prometheus_client's multiprocess files
(see newsflow/metrics.py; `newsflow worker` sets PROMETHEUS_MULTIPROC_DIR), the parent adds
them up when scraped, so a child's counts survive its restart and one port serves them
all. Queue depth, the oldest message's age, the feed lag and the dead letters are read
from Redis and PostgreSQL at scrape time (BacklogCollector), with short timeouts: no loop
keeps them up to date between scrapes."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import redis
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from newsflow import redisconn
from newsflow.metrics import exposed_registry, multiprocess
from newsflow.settings import Settings, sqlalchemy_url
from newsflow.store.changes import feed_lag_seconds
from newsflow.store.submissions import count_failed_and_dead
from newsflow.taskmessage import queue_key

log = logging.getLogger("newsflow.worker")

DEFINED = CollectorRegistry(auto_describe=True)

# task outcomes: the submission's final state, or what became of the task instead
OUTCOMES = ("done", "failed", "dead", "retry", "error")
STAGES = ("land", "fetch", "parse", "enrich", "persist")
# enricher timings by language: the languages with models of their own, the rest as one
LANGUAGES = ("en", "uk", "ru")
# from a millisecond (landing, most enrichers) to the task time limit (a slow fetch)
SECONDS_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 270,
)  # fmt: skip

TASKS = Counter(
    "newsflow_worker_tasks",
    "Tasks run, by outcome: the submission's final state (done, failed, dead), retry (a "
    "transient fault; the task comes back later) or error (an exception Celery records).",
    ["outcome"],
    registry=DEFINED,
)
DELIVERIES = Counter(
    "newsflow_worker_deliveries",
    "Task messages landed by a worker; redelivered=true when an earlier delivery of the same "
    "message did not finish (the worker died or lost it).",
    ["redelivered"],
    registry=DEFINED,
)
RETRIES = Counter(
    "newsflow_worker_retries",
    "Retries scheduled, by kind: fetch (the page's site failed transiently) or transient "
    "(the database or another fault that may pass).",
    ["kind"],
    registry=DEFINED,
)
STAGE_SECONDS = Histogram(
    "newsflow_worker_stage_seconds",
    "Time of each stage of a submission: land, fetch, parse, enrich, persist.",
    ["stage"],
    buckets=SECONDS_BUCKETS,
    registry=DEFINED,
)
ENRICHER_SECONDS = Histogram(
    "newsflow_worker_enricher_seconds",
    "Time of each enricher on an article, by the article's language (en, uk, ru, other, "
    "none when undetected).",
    ["enricher", "language"],
    buckets=SECONDS_BUCKETS,
    registry=DEFINED,
)

# the children, made once: a labelled child is a dictionary look-up and a lock away
OUTCOME = {outcome: TASKS.labels(outcome) for outcome in OUTCOMES}
DELIVERED = {again: DELIVERIES.labels(str(again).lower()) for again in (False, True)}
RETRY = {kind: RETRIES.labels(kind) for kind in ("fetch", "transient")}
STAGE = {stage: STAGE_SECONDS.labels(stage) for stage in STAGES}
_enricher_children: dict[tuple[str, str | None], Any] = {}


def observe_enricher(name: str, language: str | None, seconds: float) -> None:
    """enrich()'s ``observe``: one enricher's time on one article."""
    child = _enricher_children.get((name, language))
    if child is None:
        label = language if language in LANGUAGES else ("none" if language is None else "other")
        child = _enricher_children[(name, language)] = ENRICHER_SECONDS.labels(name, label)
    child.observe(seconds)


def uuid7_seconds(task_id: str) -> float | None:
    """When a UUIDv7 task id (a submission id) was made, as a Unix time; None otherwise."""
    try:
        value = uuid.UUID(task_id)
    except ValueError:
        return None
    return (value.int >> 80) / 1000 if value.version == 7 else None


def message_enqueued_at(raw: bytes) -> float | None:
    """When the submission of a task message (kombu's Redis envelope) was accepted: its task
    id is the submission's UUIDv7 (a retry keeps it, so a retry counts from acceptance)."""
    try:
        task_id = orjson.loads(raw)["headers"]["id"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return uuid7_seconds(task_id) if isinstance(task_id, str) else None


class BacklogCollector(Collector):
    """Gauges read from Redis and PostgreSQL when scraped: a source that does not answer
    within its timeout is reported down (newsflow_metrics_source_up 0) and its gauges left
    out, so a scrape never hangs on it."""

    REDIS_TIMEOUT = 1.0  # seconds, connect and reply
    POSTGRES_TIMEOUT_MS = 1000  # connect (rounded up to 1 s) and statement

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.queues = (settings.queue, settings.fetch_queue)
        self.redis = redisconn.sync_client(
            settings,
            socket_timeout=self.REDIS_TIMEOUT,
            socket_connect_timeout=self.REDIS_TIMEOUT,
        )
        self.engine: Engine = create_engine(
            sqlalchemy_url(settings.require_database_url()),
            poolclass=NullPool,  # a connection per scrape: nothing held between them
            connect_args={
                "connect_timeout": max(1, self.POSTGRES_TIMEOUT_MS // 1000),
                "options": f"-c statement_timeout={self.POSTGRES_TIMEOUT_MS}",
                "application_name": "newsflow-metrics",
            },
        )

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # names only: registering the collector must not query anything
        yield from self._families()

    def _families(self) -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily(
                "newsflow_queue_messages", "Task messages waiting in a queue.", labels=["queue"]
            ),
            GaugeMetricFamily(
                "newsflow_queue_oldest_message_age_seconds",
                "Age of the oldest waiting message of a queue, from its submission's "
                "acceptance (0 when the queue is empty).",
                labels=["queue"],
            ),
            GaugeMetricFamily(
                "newsflow_queue_unacked_messages",
                "Messages taken by workers and not yet acknowledged (running, or a retry "
                "waiting for its countdown).",
            ),
            GaugeMetricFamily(
                "newsflow_feed_lag_seconds",
                "How long the oldest committed change not yet exposed in the change feed has "
                "waited for older transactions to end (0 when none).",
            ),
            GaugeMetricFamily(
                "newsflow_dead_letters",
                "Submissions failed or dead, kept with their payload for a replay.",
                labels=["status"],
            ),
            GaugeMetricFamily(
                "newsflow_metrics_source_up",
                "1 when the source (redis, postgres) answered this scrape, else 0.",
                labels=["source"],
            ),
        )

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth, age, unacked, lag, dead, up = self._families()
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                for queue in self.queues:
                    key = queue_key(self.settings, queue)
                    pipe.llen(key)
                    pipe.lindex(key, -1)  # kombu pushes on the left, takes from the right
                pipe.hlen(f"{self.settings.redis_key_prefix}unacked")  # kombu's unacked_key
                replies = pipe.execute()
        except (redis.RedisError, OSError) as exc:
            log.warning("metrics: Redis did not answer: %s", exc)
            up.add_metric(["redis"], 0)
        else:
            now = time.time()
            for index, queue in enumerate(self.queues):
                length, oldest = replies[2 * index], replies[2 * index + 1]
                depth.add_metric([queue], length)
                enqueued = message_enqueued_at(oldest) if oldest else None
                age.add_metric([queue], max(0.0, now - enqueued) if enqueued else 0.0)
            unacked.add_metric([], replies[-1])
            up.add_metric(["redis"], 1)
            yield from (depth, age, unacked)
        try:
            with self.engine.connect() as connection:
                lag.add_metric([], feed_lag_seconds(connection))
                for status, count in count_failed_and_dead(connection).items():
                    dead.add_metric([status], count)
        except Exception as exc:  # down, too slow, or not migrated yet
            log.warning("metrics: PostgreSQL did not answer: %s", exc)
            up.add_metric(["postgres"], 0)
        else:
            up.add_metric(["postgres"], 1)
            yield from (lag, dead)
        yield up


def serve(settings: Settings) -> None:
    """Serve /metrics from this (the worker's parent) process, on a daemon thread."""
    if settings.worker_metrics_port is None:
        return
    if not multiprocess():
        # the children's counts would be invisible to the parent
        raise RuntimeError(
            "NEWSFLOW_WORKER_METRICS_PORT needs PROMETHEUS_MULTIPROC_DIR set before the worker "
            "starts (`newsflow worker` sets it)"
        )
    registry = exposed_registry(DEFINED, BacklogCollector(settings))
    start_http_server(settings.worker_metrics_port, settings.worker_metrics_host, registry)
    log.info(
        "metrics on http://%s:%d/metrics",
        settings.worker_metrics_host,
        settings.worker_metrics_port,
    )
