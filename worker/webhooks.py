"""The webhook deliverer: threads in each worker's parent process (started by
``worker/celery_app.py``) that push the change feed to every subscription, in feed order.

* Woken by ``LISTEN newsflow_articles`` (each commit of an article sends NOTIFY), and every
  ``POLL_SECONDS`` whatever happens (a NOTIFY may come before its change is exposed, or be
  lost while the listening connection reconnects), or when the soonest retry is due.
* Each due subscription goes to a pool of ``DELIVERY_THREADS``; it delivers only while it
  holds the subscription's advisory lock (``newsflow.store.webhooks.try_lock``), so however
  many workers run, one delivers a subscription at a time, and the others skip it.
* One change per POST, at least once: the cursor moves only after a 2xx. A crash between
  the answer and the commit sends that change again (same ``Newsflow-Delivery`` id).
* A failing head blocks the subscription: no later change is sent until it succeeds or is
  dead-lettered after ``NEWSFLOW_WEBHOOK_MAX_ATTEMPTS``; replays go before the feed.

Every SQL statement is in ``newsflow/store/webhooks.py``; the HTTP request is
``worker.fetch.post`` (the SSRF checks of fetching, applied again at every delivery).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from sqlalchemy.engine import Engine

from newsflow.settings import Settings
from newsflow.store import changes, search
from newsflow.store import webhooks as store
from newsflow.store.db import get_engine
from newsflow.webhooks import SIGNATURE_HEADER, sign
from worker.fetch import FetchError, post, webhook_policy
from worker.process import backoff_seconds

log = logging.getLogger("newsflow.webhooks")

POLL_SECONDS = 1.0  # fallback wake-up: cheap (one query, then one feed read per subscription)
DELIVERY_THREADS = 4  # subscriptions delivered at once by one worker
BURST = 100  # deliveries per subscription per turn, so others get a thread too
FEED_PAGE = 100
PRUNE_INTERVAL = 3600.0


class WebhookDeliverer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.database_url = settings.require_database_url()
        self.policy = webhook_policy(settings)
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.pool = ThreadPoolExecutor(DELIVERY_THREADS, thread_name_prefix="newsflow-webhook")
        self._running: set[uuid.UUID] = set()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._listen, name="newsflow-webhook-listen", daemon=True),
            threading.Thread(target=self._loop, name="newsflow-webhook-loop", daemon=True),
        ]

    @property
    def engine(self) -> Engine:
        return get_engine(self.database_url)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        for thread in self._threads:
            thread.join(5)
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _listen(self) -> None:
        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.database_url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {changes.NOTIFY_CHANNEL}")
                    while not self.stopping.is_set():
                        for _ in connection.notifies(timeout=1.0):
                            self.wake.set()
            except psycopg.Error as exc:
                log.warning("webhooks: listening for changes failed (%s); polling meanwhile", exc)
                self.stopping.wait(POLL_SECONDS)

    def _loop(self) -> None:
        pruned_at = 0.0
        while not self.stopping.is_set():
            self.wake.wait(POLL_SECONDS)
            self.wake.clear()
            try:
                with self.engine.connect() as connection:
                    due = store.active_ids(connection)
                    if time.monotonic() - pruned_at > PRUNE_INTERVAL:
                        pruned_at = time.monotonic()
                        if self.settings.feed_retention_days:
                            store.prune_attempts(connection, self.settings.feed_retention_days)
                            connection.commit()
            except Exception:
                log.warning("webhooks: cannot read the subscriptions", exc_info=True)
                continue
            for webhook_id in due:
                with self._lock:
                    if webhook_id in self._running:
                        continue
                    self._running.add(webhook_id)
                self.pool.submit(self._turn, webhook_id)

    def _turn(self, webhook_id: uuid.UUID) -> None:
        try:
            with self.engine.connect() as lock_connection:
                lock_connection = lock_connection.execution_options(isolation_level="AUTOCOMMIT")
                if not store.try_lock(lock_connection, webhook_id):
                    return  # another worker delivers it
                try:
                    for _ in range(BURST):
                        if self.stopping.is_set() or not self.deliver_next(webhook_id):
                            break
                finally:
                    store.unlock(lock_connection, webhook_id)
        except Exception:
            log.warning("webhooks: delivering %s failed", webhook_id, exc_info=True)
        finally:
            with self._lock:
                self._running.discard(webhook_id)

    def deliver_next(self, webhook_id: uuid.UUID) -> bool:
        """One step for a subscription whose lock this thread holds: deliver its head, or
        move its cursor past changes that do not match. True if it should go on."""
        replay: store.DeadLetter | None = None
        with self.engine.connect() as connection:  # read only: no transaction id is held
            webhook = store.get(connection, webhook_id)
            if webhook is None or not webhook.active:
                return False
            replay = store.next_replay(connection, webhook_id)
            if replay is not None:
                head, change = replay.cursor, replay.change
            else:
                rows = changes.read_feed(
                    connection,
                    webhook.cursor,
                    FEED_PAGE,
                    include_document=webhook.include_document,
                    base_url=self.settings.base_url,
                )
                try:
                    changes.check_not_pruned(connection, webhook.cursor)
                except changes.CursorPruned as exc:  # behind the feed's retention
                    connection.rollback()
                    skipped_error = f"{exc}: those changes were never delivered"
                    log.warning("webhook %s: %s", webhook_id, skipped_error)
                    with self.engine.begin() as writer:
                        return store.advance(
                            writer, webhook_id, webhook.cursor, exc.resume_after, skipped_error
                        )
                if not rows:
                    return False
                filters = search.FilterParameters.model_validate(webhook.filters).to_filters()
                matching = search.matching_ids(
                    connection, filters, [row.article_id for row in rows]
                )
                first = next((row for row in rows if row.article_id in matching), None)
                skipped = rows if first is None else rows[: rows.index(first)]
                if skipped:  # nothing to send for these: the cursor moves past them
                    connection.rollback()
                    with self.engine.begin() as writer:
                        moved = store.advance(
                            writer,
                            webhook_id,
                            webhook.cursor,
                            (skipped[-1].xid, skipped[-1].position),
                        )
                    return moved
                assert first is not None
                head, change = (first.xid, first.position), first.as_change(self.settings.base_url)
        attempt = webhook.attempts + 1 if webhook.pending == head else 1
        status_code, error = self._post(webhook, head, change, attempt)
        with self.engine.begin() as connection:
            store.record_attempt(
                connection,
                webhook_id,
                uuid.UUID(change["id"]),
                head,
                attempt,
                replay=replay is not None,
                status_code=status_code,
                error=error,
            )
            if error is None:
                if replay is not None:
                    store.replayed(connection, replay.id)
                    store.clear_head(connection, webhook_id)
                    return True
                return store.delivered(connection, webhook_id, webhook.cursor, head)
            log.info("webhook %s: attempt %d of %s failed: %s", webhook_id, attempt, head, error)
            if attempt >= self.settings.webhook_max_attempts:
                if replay is not None:
                    store.replay_failed(connection, webhook_id, replay.id, attempt, error)
                else:
                    store.dead_letter(
                        connection, webhook_id, webhook.cursor, head, change, attempt, error
                    )
                return True
            delay = backoff_seconds(
                attempt - 1,
                self.settings.webhook_retry_backoff_max,
                self.settings.webhook_retry_backoff_base,
                jitter=0.5,
            )
            if replay is not None:
                store.replay_retry_later(connection, webhook_id, head, attempt, delay, error)
            else:
                store.retry_later(
                    connection, webhook_id, webhook.cursor, head, attempt, delay, error
                )
            return False

    def _post(
        self, webhook: store.Webhook, head: tuple[int, int], change: dict[str, Any], attempt: int
    ) -> tuple[int | None, str | None]:
        """(status, None) on a 2xx, else (status or None, the error)."""
        body = json.dumps(change, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(webhook.secret, body),
            "Newsflow-Delivery": f"{webhook.id}:{changes.encode_cursor(*head)}",
            "Newsflow-Attempt": str(attempt),
        }
        try:
            status = post(webhook.url, body, headers, self.policy)
        except FetchError as exc:
            return None, exc.reason
        if 200 <= status < 300:
            return status, None
        return status, f"HTTP {status}"
