"""The Celery task: it only wires the pipeline to the queue and retries transient faults."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task

from newsflow.settings import get_settings
from newsflow.taskqueue import PROCESS_SUBMISSION
from worker.celery_app import app
from worker.process import TransientError, backoff_seconds, give_up, is_transient, process

log = logging.getLogger("newsflow.worker")


# max_retries=None: the cap is ours (transient_retry_max), checked before each retry
@app.task(name=PROCESS_SUBMISSION, bind=True, max_retries=None)
def process_submission(self: Task, message: dict[str, Any]) -> str:
    settings = get_settings()
    delivery = f"{self.request.id}:{self.request.retries}"
    try:
        return process(message, settings, delivery).value
    except Exception as exc:
        if not is_transient(exc):
            raise
        countdown = backoff_seconds(self.request.retries, settings.transient_retry_backoff_max)
        if self.request.retries >= settings.transient_retry_max:
            reason = f"gave up after {self.request.retries} retries: {exc}"
            if give_up(message, settings, reason):
                raise
            # the failure cannot even be recorded (the database is down): dropping the
            # message would leave the submission `processing` for ever, so keep retrying
            # at the longest backoff until PostgreSQL is back
            countdown = float(settings.transient_retry_backoff_max)
        log.warning("transient fault on %s, retry in %.1f s: %s", message.get("id"), countdown, exc)
        raise self.retry(exc=TransientError(str(exc)), countdown=countdown) from exc
