"""Accepting a submission: the idempotency claim and the enqueue, in ONE atomic Redis
script (one round trip).

PostgreSQL is not on this path: a 202 means the task message is in Redis together with
its claims (with AOF `appendfsync always` in production), and the worker lands it in
PostgreSQL first. The message is Celery's own format (see newsflow/taskmessage.py)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
import redis.asyncio

from newsflow.contract import Submission
from newsflow.ids import new_submission_id
from newsflow.settings import Settings
from newsflow.taskmessage import enqueue_submission, queue_key, task_message
from newsflow.taskqueue import PROCESS_SUBMISSION

# If any claim key is taken, answer {its index, its value} and change nothing; else take
# them all, mark the submission queued and push its task message, all or nothing.
# KEYS = claim keys..., status key, queue key; ARGV = claim value, ttl, message.
_ACCEPT = """
local claims = #KEYS - 2
for i = 1, claims do
  local existing = redis.call('GET', KEYS[i])
  if existing then return {i, existing} end
end
for i = 1, claims do
  redis.call('SET', KEYS[i], ARGV[1], 'EX', ARGV[2])
end
redis.call('SET', KEYS[claims + 1], 'queued', 'EX', ARGV[2])
redis.call('LPUSH', KEYS[claims + 2], ARGV[3])
return false
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


@dataclass(frozen=True)
class _Prepared:
    submission_id: uuid.UUID
    keys: list[str]
    args: list[Any]
    body_hash: str
    idempotency_key: str | None


class SubmissionIntake:
    """Redis-side intake. ``accept_async`` serves the API's hot path; ``accept`` and
    ``enqueue`` (sync) serve feeds and replays, which run in worker threads."""

    def __init__(
        self, settings: Settings, redis_client: redis.Redis, async_redis: redis.asyncio.Redis
    ) -> None:
        self.settings = settings
        self.redis = redis_client
        self.async_redis = async_redis
        self._accept = redis_client.register_script(_ACCEPT)
        self._accept_async = async_redis.register_script(_ACCEPT)

    def _prepare(
        self, submission: Submission, body: bytes, idempotency_key: str | None
    ) -> _Prepared:
        submission_id = new_submission_id()
        body_hash = hashlib.sha256(body).hexdigest()[:32]
        message = {
            "id": str(submission_id),
            "received_at": datetime.now(UTC).isoformat(),
            "idempotency_key": idempotency_key,
            "submission": submission.model_dump(mode="json", exclude_unset=True),
        }
        keys = [
            *_claim_keys(self.settings, submission, idempotency_key),
            status_key(self.settings, submission_id),
            queue_key(self.settings),
        ]
        args = [
            f"{submission_id}|{body_hash}",
            self.settings.idempotency_ttl_seconds,
            task_message(PROCESS_SUBMISSION, str(submission_id), [message], self.settings.queue),
        ]
        return _Prepared(submission_id, keys, args, body_hash, idempotency_key)

    @staticmethod
    def _outcome(prepared: _Prepared, existing: Any) -> Intake:
        if not existing:
            return Intake(prepared.submission_id, duplicate=False)
        index, stored = existing
        original_id, _, original_hash = stored.decode().partition("|")
        # only the Idempotency-Key promises "same key, same body"; a repeated
        # (source, external_id) simply answers the original
        if prepared.idempotency_key is not None and index == 1:
            if original_hash != prepared.body_hash:
                raise IdempotencyMismatch(original_id)
        return Intake(uuid.UUID(original_id), duplicate=True)

    async def accept_async(
        self, submission: Submission, body: bytes, idempotency_key: str | None
    ) -> Intake:
        """Claim and enqueue. Raises redis errors when Redis is unreachable: the caller
        answers 503, and nothing was accepted."""
        prepared = self._prepare(submission, body, idempotency_key)
        existing = await self._accept_async(keys=prepared.keys, args=prepared.args)
        return self._outcome(prepared, existing)

    async def accept_many_async(self, items: list[tuple[Submission, bytes]]) -> list[Intake]:
        """Claim and enqueue many in one pipelined round trip; each item is still atomic
        on its own (a batch is not all-or-nothing: a duplicate does not refuse the rest)."""
        prepared = [self._prepare(submission, body, None) for submission, body in items]
        async with self.async_redis.pipeline(transaction=False) as pipe:
            for one in prepared:
                await self._accept_async(keys=one.keys, args=one.args, client=pipe)
            outcomes = await pipe.execute()
        return [
            self._outcome(one, existing) for one, existing in zip(prepared, outcomes, strict=True)
        ]

    def accept(self, submission: Submission, body: bytes, idempotency_key: str | None) -> Intake:
        prepared = self._prepare(submission, body, idempotency_key)
        return self._outcome(prepared, self._accept(keys=prepared.keys, args=prepared.args))

    def enqueue(self, message: dict[str, Any], task_id: str) -> None:
        """Put one processing task on the queue (a replay)."""
        enqueue_submission(self.redis, self.settings, message, task_id)

    def is_queued(self, submission_id: uuid.UUID) -> bool:
        return bool(self.redis.exists(status_key(self.settings, submission_id)))
