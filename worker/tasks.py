"""The Celery task: it only wires the pipeline to the queue and retries transient faults."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery.signals import task_postrun, task_prerun

from newsflow import logs, otel
from newsflow.settings import get_settings
from newsflow.taskmessage import ProcessMessage
from newsflow.taskqueue import POLL_SOURCES, PROCESS_SUBMISSION
from worker import metrics
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
        status = process(message, settings, delivery)
    except Exception as exc:
        if not is_transient(exc):
            metrics.OUTCOME["error"].inc()
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
                metrics.OUTCOME["failed"].inc()
                raise
            # the failure cannot even be recorded (the database is down): dropping the
            # message would leave the submission `processing` for ever, so keep retrying
            # at the longest backoff until PostgreSQL is back
            countdown = float(settings.transient_retry_backoff_max)
        log.warning("transient fault on %s, retry in %.1f s: %s", message.get("id"), countdown, exc)
        metrics.OUTCOME["retry"].inc()
        metrics.RETRY["fetch" if fetching else "transient"].inc()
        raise self.retry(
            exc=TransientError(str(exc)),
            countdown=countdown,
            kwargs={"fetch_retries": fetch_retries},
            headers=_trace_headers(self.request),  # the retry stays in the request's trace
        ) from exc
    metrics.OUTCOME[status.value].inc()
    return status.value


def _trace_headers(request: Any) -> dict[str, str]:
    """The custom headers the API put in the message (newsflow/taskmessage.py)."""
    return {
        name: value
        for name in ("traceparent", "request_id")
        if isinstance(value := getattr(request, name, None), str)
    }


# Bound from before the task runs until after Celery logs its outcome ("succeeded",
# "retry", "raised"), so those lines carry the fields too.
_SPAN_ATTRIBUTES = ("submission_id", "delivery", "request_id")


@task_prerun.connect
def _bind_log_fields(task: Task, args: tuple[Any, ...] = (), **_: object) -> None:
    message = args[0] if args and isinstance(args[0], dict) else {}
    headers = _trace_headers(task.request)
    fields: dict[str, Any] = {
        "submission_id": message.get("id"),
        "delivery": f"{task.request.id}:{task.request.retries}",
    }
    if "request_id" in headers:
        fields["request_id"] = headers["request_id"]
    fields.update(logs.continue_trace(headers.get("traceparent")).fields())
    attributes = {f"newsflow.{k}": v for k, v in fields.items() if k in _SPAN_ATTRIBUTES and v}
    span = otel.start_task_span(task.name, headers.get("traceparent"), attributes)
    if span is not None:  # the logs name OpenTelemetry's span (the same trace id)
        fields["trace_id"], fields["span_id"] = otel.span_ids(span)
    task.request.newsflow_span = span
    task.request.newsflow_log_token = logs.bind(**fields)


@task_postrun.connect
def _unbind_log_fields(task: Task, state: str | None = None, **_: object) -> None:
    token = getattr(task.request, "newsflow_log_token", None)
    if token is not None:
        logs.unbind(token)
    span = getattr(task.request, "newsflow_span", None)
    if span is not None:
        span.set_attribute("celery.state", state or "")
        span.end()


@app.task(name=POLL_SOURCES, ignore_result=True)
def poll_sources(names: list[str] | None = None) -> int:
    """Poll the due sources (``names``: only those, as `POST /v1/sources/{name}/poll`
    asks). Any number may run at once: each claims its own sources (store/sources.py)."""
    from worker.sources import poll_due

    return len(poll_due(get_settings(), names))
