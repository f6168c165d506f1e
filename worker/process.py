"""One submission through the pipeline: land raw -> parse -> enrich -> persist, and what
each kind of failure means. Free of Celery, so it runs in tests without a broker."""

from __future__ import annotations

import logging
import random
import uuid
from datetime import datetime
from typing import Any

import orjson
from celery.exceptions import SoftTimeLimitExceeded
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from newsflow.contract import FINAL_STATUSES, Status, Submission
from newsflow.settings import Settings
from newsflow.store import submissions
from newsflow.store.db import transaction
from worker.pipeline.enrich import enrich
from worker.pipeline.model import ParseError
from worker.pipeline.parse import parse
from worker.pipeline.persist import SubmissionInfo, persist

log = logging.getLogger("newsflow.worker")


class TransientError(Exception):
    """A fault that may pass (database down or restarting): retry with backoff."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def process(message: dict[str, Any], settings: Settings, delivery: str) -> Status:
    """Land the raw submission, then parse -> enrich -> persist. Returns the final state."""
    database_url = settings.require_database_url()
    info = SubmissionInfo(
        id=uuid.UUID(message["id"]),
        source=str(message["submission"].get("source", "")),
        external_id=message["submission"].get("external_id"),
        received_at=datetime.fromisoformat(message["received_at"]),
    )
    with transaction(database_url) as connection:
        landing = submissions.land_raw_submission(
            connection,
            submission_id=info.id,
            source=info.source,
            external_id=info.external_id,
            idempotency_key=message.get("idempotency_key"),
            kind="html" if "html" in message["submission"] else "text",
            payload_json=orjson.dumps(message["submission"]).decode(),
            received_at=info.received_at,
            message=delivery,
        )
    if landing.status in FINAL_STATUSES:
        log.info("submission %s already %s; delivery %s skipped", info.id, landing.status, delivery)
        return landing.status
    if landing.deliveries > settings.max_deliveries:
        reason = (
            f"the worker died {landing.deliveries - 1} times processing this submission "
            f"(limit {settings.max_deliveries})"
        )
        return _finish(database_url, info.id, Status.dead, reason)

    try:
        enriched = enrich(parse(Submission.model_validate(message["submission"])))
    except SoftTimeLimitExceeded:
        reason = f"processing took longer than {settings.task_soft_time_limit} s"
        return _finish(database_url, info.id, Status.failed, reason)
    except ValidationError as exc:
        return _finish(database_url, info.id, Status.failed, f"invalid submission: {exc}")
    except ParseError as exc:
        return _finish(database_url, info.id, Status.failed, f"cannot parse: {exc}")
    except Exception as exc:  # a bug on one input must not loop: fail it, keep the payload
        log.exception("submission %s failed in the pipeline", info.id)
        return _finish(database_url, info.id, Status.failed, f"{type(exc).__name__}: {exc}")

    try:
        with transaction(database_url) as connection:
            written = persist(connection, info, enriched)
    except Exception as exc:
        if is_transient(exc):
            raise
        log.exception("submission %s could not be stored", info.id)
        return _finish(database_url, info.id, Status.failed, f"cannot store: {exc}")
    log.info("submission %s %s", info.id, "done" if written else "was already final")
    return Status.done


def _finish(database_url: str, submission_id: uuid.UUID, status: Status, reason: str) -> Status:
    with transaction(database_url) as connection:
        submissions.finish(connection, submission_id, status, reason[:2000])
    log.warning("submission %s %s: %s", submission_id, status, reason)
    return status


def backoff_seconds(retries: int, cap: float) -> float:
    """Full-jitter exponential backoff: spreads retries of many tasks after an outage."""
    return random.uniform(0, min(cap, 2.0**retries))
