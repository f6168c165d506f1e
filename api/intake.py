"""Accepting a submission: the idempotency claim and the enqueue, both on Redis.

PostgreSQL is not on this path: a 202 means the task message is in Redis (with AOF
`appendfsync always` in production), and the worker lands it in PostgreSQL first."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from celery import Celery

from newsflow.contract import Submission
from newsflow.ids import new_submission_id
from newsflow.settings import Settings
from newsflow.taskqueue import PROCESS_SUBMISSION

# Atomically: if any key is claimed already, answer {its index, its value}; else claim all
# of them and mark the new submission queued. KEYS = claim keys..., status key;
# ARGV = value, ttl.
_CLAIM = """
for i = 1, #KEYS - 1 do
  local existing = redis.call('GET', KEYS[i])
  if existing then return {i, existing} end
end
for i = 1, #KEYS - 1 do
  redis.call('SET', KEYS[i], ARGV[1], 'EX', ARGV[2])
end
redis.call('SET', KEYS[#KEYS], 'queued', 'EX', ARGV[2])
return false
"""

# Undo a claim whose enqueue failed, but only keys still holding our value.
_RELEASE = """
for i = 1, #KEYS - 1 do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
redis.call('DEL', KEYS[#KEYS])
return true
"""


class IdempotencyMismatch(Exception):
    """The Idempotency-Key was used before with a different body."""


@dataclass(frozen=True)
class Intake:
    id: uuid.UUID
    duplicate: bool


def status_key(settings: Settings, submission_id: uuid.UUID | str) -> str:
    return f"{settings.redis_key_prefix}submission:{submission_id}"


def _claim_keys(
    settings: Settings, submission: Submission, idempotency_key: str | None
) -> list[str]:
    keys = []
    if idempotency_key:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
        keys.append(f"{settings.redis_key_prefix}idempotency:{digest}")
    if submission.external_id:
        digest = hashlib.sha256(
            f"{submission.source}\0{submission.external_id}".encode()
        ).hexdigest()
        keys.append(f"{settings.redis_key_prefix}external-id:{digest}")
    return keys


class SubmissionIntake:
    def __init__(self, settings: Settings, redis_client: redis.Redis, celery: Celery) -> None:
        self.settings = settings
        self.redis = redis_client
        self.celery = celery
        self._claim = redis_client.register_script(_CLAIM)
        self._release = redis_client.register_script(_RELEASE)

    def accept(self, submission: Submission, body: bytes, idempotency_key: str | None) -> Intake:
        """Claim the idempotency keys, then enqueue. Raises redis/kombu errors when Redis
        is unreachable: the caller answers 503 and nothing was accepted."""
        submission_id = new_submission_id()
        body_hash = hashlib.sha256(body).hexdigest()[:32]
        claim_keys = _claim_keys(self.settings, submission, idempotency_key)
        keys = [*claim_keys, status_key(self.settings, submission_id)]
        value = f"{submission_id}|{body_hash}"
        existing = self._claim(keys=keys, args=[value, self.settings.idempotency_ttl_seconds])
        if existing:
            index, stored = existing
            original_id, _, original_hash = stored.decode().partition("|")
            # only the Idempotency-Key promises "same key, same body"; a repeated
            # (source, external_id) simply answers the original
            key_was_idempotency_key = idempotency_key is not None and index == 1
            if key_was_idempotency_key and original_hash != body_hash:
                raise IdempotencyMismatch(original_id)
            return Intake(uuid.UUID(original_id), duplicate=True)

        message = {
            "id": str(submission_id),
            "received_at": datetime.now(UTC).isoformat(),
            "idempotency_key": idempotency_key,
            "submission": submission.model_dump(mode="json", exclude_unset=True),
        }
        try:
            self.enqueue(message, task_id=str(submission_id))
        except Exception:
            try:
                self._release(keys=keys, args=[value])
            except redis.RedisError:
                pass  # Redis is gone: the claim keys went with it, or expire
            raise
        return Intake(submission_id, duplicate=False)

    def enqueue(self, message: dict[str, Any], task_id: str) -> None:
        """Put one processing task on the queue, by its stable name."""
        self.celery.send_task(
            PROCESS_SUBMISSION,
            args=[message],
            task_id=task_id,
            queue=self.settings.queue,
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.1, "interval_step": 0.2},
        )

    def is_queued(self, submission_id: uuid.UUID) -> bool:
        return bool(self.redis.exists(status_key(self.settings, submission_id)))
