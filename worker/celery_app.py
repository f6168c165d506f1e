"""The worker's Celery app: `celery -A worker.celery_app worker`."""

import logging
from pathlib import Path
from typing import Any

import redis
from celery.signals import (
    setup_logging,
    worker_init,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)

from newsflow import heartbeat, logs, redisconn
from newsflow.settings import get_settings
from newsflow.store.changes import prune_feed
from newsflow.store.db import dispose_engines, get_engine
from newsflow.taskqueue import make_celery

app = make_celery(get_settings())
app.conf.imports = ("worker.tasks",)

logger = logging.getLogger(__name__)

FEED_PRUNE_INTERVAL = 3600.0  # seconds between prunes once the old entries are gone
FEED_PRUNE_TURN = 0.5  # seconds one turn may prune: the parent's event loop waits meanwhile
FEED_PRUNE_PAUSE = 1.0  # seconds between turns while old entries remain


@setup_logging.connect
def _configure_logging(loglevel: int | str | None = None, **_: object) -> None:
    # connected, this replaces Celery's own logging set-up: newsflow's format (and the
    # task's bound fields: worker/tasks.py) on Celery's lines too
    logs.configure(get_settings().log_format, loglevel or "INFO")


@worker_process_init.connect
def _fresh_connections_after_fork(**_: object) -> None:
    # a forked child must not reuse its parent's database connections
    dispose_engines()


@worker_init.connect
def _warm_up_pipeline(**_: object) -> None:
    # load models and parsers once in the parent, before the pool forks, so children share
    # them and the first article is as fast as the rest
    from worker.pipeline.warmup import warm_up

    warm_up()


def create_file_when_ready(path: Path) -> None:
    """Create ``path`` once this worker takes tasks: Celery sends worker_ready after the
    warm-up above (worker_init) and once the consumer runs. `newsflow up` waits for it."""

    def create(**_: object) -> None:
        path.touch()

    worker_ready.connect(create, weak=False)  # a closure: a weak reference would lapse


class FeedPruner:
    """Prunes the change feed from the worker parent, without Celery beat: at start, then
    hourly, on the event loop's own timer (nothing to check per task). A turn stops after
    FEED_PRUNE_TURN seconds, so a large backlog never stalls task dispatch for long; several
    workers may do this at once (an advisory lock lets one of them work)."""

    def __init__(self, timer: Any, database_url: str, retention_days: int) -> None:
        self.timer = timer
        self.database_url = database_url
        self.retention_days = retention_days

    def run(self) -> None:
        delay = FEED_PRUNE_INTERVAL
        try:
            result = prune_feed(
                get_engine(self.database_url), self.retention_days, time_budget=FEED_PRUNE_TURN
            )
        except Exception:  # the database may be down: try again next time, keep working
            logger.warning("pruning the change feed failed", exc_info=True)
        else:
            if result.deleted:
                logger.info(
                    "pruned %d change-feed entries older than %d days",
                    result.deleted,
                    self.retention_days,
                )
            if result.more:
                delay = FEED_PRUNE_PAUSE
        self.timer.call_after(delay, self.run)


@worker_ready.connect
def _serve_metrics(**_: object) -> None:
    # in the parent, once the pool has forked (no server thread is copied into a child)
    from worker.metrics import serve

    serve(get_settings())


@worker_ready.connect
def _schedule_feed_pruning(sender: Any, **_: object) -> None:
    settings = get_settings()
    if settings.feed_retention_days == 0:  # keep forever
        return
    pruner = FeedPruner(sender.timer, settings.require_database_url(), settings.feed_retention_days)
    sender.timer.call_after(0, pruner.run)


class Heartbeat:
    """Tells the console this worker is alive (newsflow/heartbeat.py), from the parent's
    event-loop timer; a short socket timeout keeps a Redis outage from stalling dispatch."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.settings = get_settings()
        self.client = redisconn.sync_client(
            self.settings, socket_connect_timeout=1, socket_timeout=1
        )

    def beat(self) -> None:
        try:
            heartbeat.beat(self.client, self.settings, self.name)
        except redis.RedisError:
            logger.warning("cannot write the worker heartbeat", exc_info=True)

    def stop(self) -> None:
        try:
            heartbeat.stopped(self.client, self.settings, self.name)
        except redis.RedisError:
            pass  # it ages out of the live set by itself
        self.client.close()


@worker_ready.connect
def _start_heartbeat(sender: Any, **_: object) -> None:
    beating = Heartbeat(sender.hostname)
    beating.beat()
    sender.timer.call_repeatedly(heartbeat.HEARTBEAT_SECONDS, beating.beat)

    def stop(**_: object) -> None:
        beating.stop()

    worker_shutdown.connect(stop, weak=False)


@worker_ready.connect
def _start_webhook_delivery(**_: object) -> None:
    # threads in the parent, not tasks: delivery is I/O-bound and follows the change feed
    # (no message to queue); advisory locks keep one deliverer per subscription across
    # workers (worker/webhooks.py)
    from worker.webhooks import WebhookDeliverer

    deliverer = WebhookDeliverer(get_settings())
    deliverer.start()
    worker_shutdown.connect(lambda **_: deliverer.stop(), weak=False)
