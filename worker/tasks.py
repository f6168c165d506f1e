"""The Celery task: it only wires the pipeline to the queue and retries transient faults."""

from __future__ import annotations

import logging

from celery import Task

from newsflow.settings import get_settings
from newsflow.taskmessage import ProcessMessage
from newsflow.taskqueue import POLL_SOURCES, PROCESS_SUBMISSION
from worker.celery_app import app
from worker.fetch import FetchFailed
from worker.process import (
    TransientError,
    backoff_seconds,
    give_up,
    has_feed_fallback,
    is_transient,
    process,
)

log = logging.getLogger("newsflow.worker")


# max_retries=None: the caps are ours (fetch_retry_max, transient_retry_max), checked
# before each retry. A retry is a new message with a countdown: it waits in the worker's
# memory, not in a pool process (settings keep the wait below the visibility timeout).
@app.task(name=PROCESS_SUBMISSION, bind=True, max_retries=None)
def process_submission(self: Task, message: ProcessMessage, fetch_retries: int = 0) -> str:
    settings = get_settings()
    delivery = f"{self.request.id}:{self.request.retries}"
    try:
        return process(message, settings, delivery).value
    except Exception as exc:
        if not is_transient(exc):
            raise
        fetching = isinstance(exc, FetchFailed)
        if fetching:
            # a site that is down or slow gets its own, short budget, with longer waits:
            # each attempt may take the whole fetch deadline
            retries, limit = fetch_retries, settings.fetch_retry_max
            countdown = backoff_seconds(
                retries, settings.fetch_retry_backoff_max, settings.fetch_retry_backoff_base, 0.5
            )
            fetch_retries += 1
        else:
            retries = self.request.retries - fetch_retries
            limit = settings.transient_retry_max
            countdown = backoff_seconds(retries, settings.transient_retry_backoff_max)
        if retries >= limit:
            reason = f"{'fetch failed, ' if fetching else ''}gave up after {retries} retries: {exc}"
            if fetching and has_feed_fallback(message):
                # a feed item: its article is the feed's own content (said in provenance)
                return process(message, settings, delivery, fetch_failure=reason).value
            if give_up(message, settings, reason):
                raise
            # the failure cannot even be recorded (the database is down): dropping the
            # message would leave the submission `processing` for ever, so keep retrying
            # at the longest backoff until PostgreSQL is back
            countdown = float(settings.transient_retry_backoff_max)
        log.warning("transient fault on %s, retry in %.1f s: %s", message.get("id"), countdown, exc)
        raise self.retry(
            exc=TransientError(str(exc)),
            countdown=countdown,
            kwargs={"fetch_retries": fetch_retries},
        ) from exc


@app.task(name=POLL_SOURCES, ignore_result=True)
def poll_sources(names: list[str] | None = None) -> int:
    """Poll the due sources (``names``: only those, as `POST /v1/sources/{name}/poll`
    asks). Any number may run at once: each claims its own sources (store/sources.py)."""
    from worker.sources import poll_due

    return len(poll_due(get_settings(), names))
